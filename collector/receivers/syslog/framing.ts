// RFC 6587 framing of one TCP connection, as a byte-at-a-time state machine over the chunks the
// socket delivers. Each frame decides its own framing by its first byte: a digit starts octet
// counting (`LEN SP MSG`), anything else is non-transparent framing ended by LF (or NUL, which
// some senders use). Memory per connection is bounded by the frame cap: a longer frame keeps
// its first `maxFrame` bytes, is marked truncated, and the rest is skipped.

export interface Frame {
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

  constructor(
    private readonly maxFrame: number,
    private readonly on: FramerEvents,
  ) {
    this.buf = Buffer.allocUnsafe(0);
  }

  /** bytes held for an unfinished frame (for tests of the memory bound) */
  get buffered(): number {
    return this.len;
  }

  get idle(): boolean {
    return this.state === State.Start;
  }

  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case State.Start: {
          const b = chunk[i]!;
          if (b === LF || b === CR || b === NUL || b === SP) {
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
            if (suspicious && b !== 0x3c) this.on.countMismatch();
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
            this.startOctets(Number(this.digits));
          } else {
            // Not `LEN SP`: a line that happens to start with digits (e.g. an RFC 3339 stamp).
            if (this.countAfterOctets) this.on.countMismatch();
            this.state = State.Line;
            this.append(Buffer.from(this.digits, 'latin1'), 0, this.digits.length);
          }
          break;
        }
        case State.Octets: {
          const take = Math.min(this.remaining, n - i);
          this.append(chunk, i, i + take);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) this.finishOctets(false);
          break;
        }
        case State.Line: {
          let end = i;
          while (end < n && chunk[end] !== LF && chunk[end] !== NUL) end++;
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

  private finishOctets(partial: boolean): void {
    const bytes = Buffer.from(this.buf.subarray(0, this.len));
    this.state = State.Start;
    this.len = 0;
    if (!this.truncated) {
      const split = lyingCountSplit(bytes);
      if (split >= 0) {
        this.on.countMismatch();
        this.emit('octet', partial, bytes.subarray(0, split));
        // Re-read what the count swallowed: the frames after the line break resynchronise.
        this.push(bytes.subarray(split + 1));
        if (partial) this.end();
        return;
      }
    }
    this.afterOctets = true;
    this.emit('octet', partial, bytes);
  }

  private emitLine(partial: boolean): void {
    let end = this.len;
    if (end > 0 && this.buf[end - 1] === CR) end--;
    const bytes = Buffer.from(this.buf.subarray(0, end));
    this.state = State.Start;
    this.len = 0;
    this.emit('lf', partial, bytes);
  }

  private emit(framing: Frame['framing'], partial: boolean, bytes: Buffer): void {
    const truncated = this.truncated;
    this.truncated = false;
    if (bytes.length === 0 && !truncated) return;
    this.on.frame({ bytes, framing, truncated, partial });
  }
}

/** Index of the LF that starts a swallowed frame inside an octet-counted frame, or -1. */
function lyingCountSplit(bytes: Buffer): number {
  for (let at = bytes.indexOf(LF); at >= 0; at = bytes.indexOf(LF, at + 1)) {
    if (HEAD_RE.test(bytes.subarray(at + 1, at + 16).toString('latin1'))) return at;
  }
  return -1;
}
