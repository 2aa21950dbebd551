// RFC 6587 framing of one TCP connection, as a byte-at-a-time state machine over the chunks the
// socket delivers. Each frame decides its own framing by its first byte: a digit starts octet
// counting (`LEN SP MSG`), anything else is non-transparent framing ended by LF (or NUL, which
// some senders use). Memory per connection is bounded by the frame cap: a longer frame keeps
// its first `maxFrame` bytes, is marked truncated, and the rest is skipped.
//
// An octet-counted frame's content is one message (RFC 6587 3.4.1) and is never framed again:
// nested counts inside it are text. Only a count proven wrong by what follows it is repaired,
// in one linear pass (see `held`).

export interface Frame {
  /**
   * The frame's bytes, valid only during the `frame` call: usually a view of the socket's chunk
   * or of the framer's buffer (no copy), which the next bytes may overwrite.
   */
  bytes: Buffer;
  framing: 'octet' | 'lf';
  /** longer than the cap: only the first bytes are kept */
  truncated: boolean;
  /** cut short by the end of the connection */
  partial: boolean;
}

export interface FramerEvents {
  frame(f: Frame): void;
  /** an octet count that disagrees with the content (lying sender, lost sync) */
  countMismatch(): void;
}

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const SP = 0x20;
const LT = 0x3c;
const MAX_COUNT_DIGITS = 10;

const enum State {
  Start,
  Count,
  Octets,
  Line,
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

// A frame head after a line break inside an octet-counted frame means the count was too large
// and swallowed the next frames.
const HEAD_RE = /^(?:[1-9]\d{0,5} )?<\d{1,3}>/;

export class Framer {
  private state = State.Start;
  private digits = '';
  /** octets still to read for the current counted frame (kept or skipped) */
  private remaining = 0;
  private buf: Buffer;
  private len = 0;
  private truncated = false;
  /** the previous frame was octet-counted: the next must start with a digit or '<' */
  private afterOctets = false;
  private countAfterOctets = false;
  /**
   * An octet-counted frame with a line break followed by something like a frame head: an honest
   * multi-line message, or a count too large that swallowed the frames after it. The next bytes
   * tell which: a frame start means the count was right and the frame goes out whole; anything
   * else (or the connection ending inside the count) means it lied, and what follows the line
   * break is read as the LF-framed lines it was (resync). Held at most until the next frame
   * starts, the connection ends, or the connection goes quiet (settle).
   */
  private held: Buffer | null = null;
  /** index in `held` of the line break where the swallowed frames begin */
  private heldSplit = 0;
  /** a line break came after the held frame, so its last line is complete */
  private heldBreak = false;

  constructor(
    private readonly maxFrame: number,
    private readonly on: FramerEvents,
  ) {
    this.buf = Buffer.allocUnsafe(0);
  }

  /** bytes held for an unfinished frame (for tests of the memory bound) */
  get buffered(): number {
    return this.len + (this.held?.length ?? 0);
  }

  get idle(): boolean {
    return this.state === State.Start && this.held === null;
  }

  /** An octet-counted frame is held, waiting for the next bytes to say whether its count lied. */
  get holding(): boolean {
    return this.held !== null;
  }

  /**
   * The connection went quiet with a frame held: nothing contradicted its count, so it was whole
   * and goes out now, instead of waiting for a next frame that may come much later (or never,
   * until the connection ends). A lie is told by the bytes right behind the count, which the
   * sender wrote with it; they do not arrive seconds later.
   */
  settle(): void {
    this.releaseHeld();
  }

  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    /** the chunk's next NUL (n + 1: none left); looked for again once the lines pass it */
    let nulAt = -1;
    while (i < n) {
      switch (this.state) {
        case State.Start: {
          const b = chunk[i]!;
          if (b === LF || b === CR || b === NUL || b === SP) {
            if (b === LF || b === NUL) this.heldBreak = true;
            i++;
            break;
          }
          this.truncated = false;
          this.len = 0;
          // After an octet-counted frame the next must be one too or start with '<'; otherwise
          // the count was too small and this is the tail of that message, kept as a line.
          const suspicious = this.afterOctets;
          this.afterOctets = false;
          if (isDigit(b)) {
            this.state = State.Count;
            this.digits = '';
            this.countAfterOctets = suspicious;
          } else {
            if (this.held !== null) {
              if (b === LT) this.releaseHeld();
              else this.resync(false);
            } else if (suspicious && b !== LT) this.on.countMismatch();
            this.state = State.Line;
          }
          break;
        }
        case State.Count: {
          const b = chunk[i]!;
          if (isDigit(b) && this.digits.length < MAX_COUNT_DIGITS) {
            this.digits += String.fromCharCode(b);
            i++;
          } else if (b === SP && this.digits[0] !== '0') {
            i++;
            if (this.held !== null) this.releaseHeld();
            this.startOctets(Number(this.digits));
          } else {
            // Not `LEN SP`: a line that happens to start with digits (e.g. an RFC 3339 stamp).
            if (this.held !== null) this.resync(false);
            else if (this.countAfterOctets) this.on.countMismatch();
            this.state = State.Line;
            this.append(Buffer.from(this.digits, 'latin1'), 0, this.digits.length);
          }
          break;
        }
        case State.Octets: {
          // The whole frame in this chunk and nothing of it buffered: a view, no copy.
          if (this.len === 0 && this.remaining <= n - i && this.remaining <= this.maxFrame) {
            const end = i + this.remaining;
            this.remaining = 0;
            this.finishOctets(false, chunk.subarray(i, end));
            i = end;
            break;
          }
          const take = Math.min(this.remaining, n - i);
          this.append(chunk, i, i + take);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.finishOctets(false);
          break;
        }
        case State.Line: {
          // Buffer#indexOf (memchr) instead of a loop over the bytes in JS: LF framing cost ~80 ns
          // a line more than octet counting. A NUL ends a line too; where the chunk's next NUL is
          // is found once per chunk (usually there is none), not once per line.
          if (nulAt < i) nulAt = nextNul(chunk, i);
          let end = chunk.indexOf(LF, i);
          if (end < 0) end = n;
          if (nulAt < end) end = nulAt;
          if (this.len === 0 && end < n && end - i <= this.maxFrame) {
            // the whole line in this chunk: a view, no copy
            this.emitLine(false, chunk.subarray(i, end));
            i = end + 1;
            break;
          }
          this.append(chunk, i, end);
          i = end;
          if (end < n) {
            i++;
            this.emitLine(false);
          }
          break;
        }
      }
    }
  }

  /** The connection ended: whatever was begun goes out as a partial frame. */
  end(): void {
    // a held frame that nothing contradicted was whole
    this.releaseHeld();
    if (this.state === State.Octets) this.finishOctets(true);
    else if (this.state === State.Line && this.len > 0) this.emitLine(true);
    else if (this.state === State.Count) this.emit('lf', true, Buffer.from(this.digits, 'latin1'));
    this.state = State.Start;
    this.len = 0;
  }

  private startOctets(count: number): void {
    this.state = State.Octets;
    this.remaining = count;
    if (count === 0) this.finishOctets(false);
  }

  /** Keeps at most maxFrame bytes; beyond that only marks the frame truncated. */
  private append(src: Buffer, from: number, to: number): void {
    const room = this.maxFrame - this.len;
    const take = Math.min(room, to - from);
    if (to - from > take) this.truncated = true;
    if (take <= 0) return;
    if (this.buf.length < this.len + take) {
      const grown = Buffer.allocUnsafe(Math.min(this.maxFrame, Math.max(this.len + take, this.buf.length * 2, 1024)));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    src.copy(this.buf, this.len, from, from + take);
    this.len += take;
  }

  private finishOctets(partial: boolean, bytes: Buffer = this.buf.subarray(0, this.len)): void {
    this.state = State.Start;
    this.len = 0;
    this.afterOctets = true;
    if (!this.truncated) {
      const split = lyingCountSplit(bytes);
      if (split >= 0) {
        // kept past this chunk: a copy of its own
        this.held = Buffer.from(bytes);
        this.heldSplit = split;
        this.heldBreak = false;
        if (partial) {
          // the connection ended inside the count: it lied
          this.resync(true);
          if (this.len > 0) this.emitLine(true);
        }
        return;
      }
    }
    this.emit('octet', partial, bytes);
  }

  /** The held frame's count was right: it goes out whole. */
  private releaseHeld(): void {
    const held = this.held;
    if (held === null) return;
    this.held = null;
    this.emit('octet', false, held);
  }

  /**
   * The held frame's count lied: its first line is the frame, and the rest is read as the
   * LF-framed lines the count swallowed, once; the last, unfinished one is left in the buffer
   * for the bytes that follow to complete (the Line state).
   */
  private resync(partial: boolean): void {
    const held = this.held!;
    this.held = null;
    this.on.countMismatch();
    this.truncated = false;
    this.emit('octet', partial, held.subarray(0, this.heldSplit));
    let from = this.heldSplit + 1;
    for (let at = from; at < held.length; at++) {
      const b = held[at];
      if (b !== LF && b !== NUL) continue;
      this.emit('lf', false, withoutCr(held.subarray(from, at)));
      from = at + 1;
    }
    this.len = 0;
    if (this.heldBreak) this.emit('lf', false, withoutCr(held.subarray(from)));
    else this.append(held, from, held.length);
  }

  private emitLine(partial: boolean, line: Buffer = this.buf.subarray(0, this.len)): void {
    this.state = State.Start;
    this.len = 0;
    this.emit('lf', partial, withoutCr(line));
  }

  private emit(framing: Frame['framing'], partial: boolean, bytes: Buffer): void {
    const truncated = this.truncated;
    this.truncated = false;
    if (bytes.length === 0 && !truncated) return;
    this.on.frame({ bytes, framing, truncated, partial });
  }
}

/** index of the first NUL in `chunk` at or after `from`, or chunk.length + 1 when there is none */
function nextNul(chunk: Buffer, from: number): number {
  const at = chunk.indexOf(NUL, from);
  return at < 0 ? chunk.length + 1 : at;
}

function withoutCr(line: Buffer): Buffer {
  return line.length > 0 && line[line.length - 1] === CR ? line.subarray(0, line.length - 1) : line;
}

/** Index of the LF that starts a swallowed frame inside an octet-counted frame, or -1. */
function lyingCountSplit(bytes: Buffer): number {
  for (let at = bytes.indexOf(LF); at >= 0; at = bytes.indexOf(LF, at + 1)) {
    if (HEAD_RE.test(bytes.subarray(at + 1, at + 16).toString('latin1'))) return at;
  }
  return -1;
}
