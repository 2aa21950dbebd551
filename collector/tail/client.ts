// One live-tail subscriber: its filters, and its socket with bounded buffering. A line is
// written only if the socket's unsent bytes plus the whole event stay within `maxBuffered`;
// otherwise it is counted instead of queued, and once there is room the client gets an
// `event: skipped` with how many it missed. The bound holds for the line being written too, so
// a client's unsent bytes never pass maxBuffered. Events are Buffers encoded once per line and
// shared by every client that gets the line (a string write would be copied per socket, at up
// to three bytes per character, while it waits in the socket).
import type { ServerResponse } from 'node:http';
import type { LogItem } from '../../shared/wire.js';
import type { CompiledPattern, RegexRunner } from '../query/regex.js';
import type { LogFilter } from '../storage/types.js';

export interface TailOptions {
  maxBuffered: number;
}

/** chunked transfer encoding wraps each write in `<hex length>\r\n … \r\n` */
const FRAMING = 16;

/** A line as the tail sends it. */
export function encodeEvent(row: LogItem): Buffer {
  return Buffer.from(`id: ${row.id}\nevent: log\ndata: ${JSON.stringify(row)}\n\n`);
}

export class TailClient {
  skipped = 0;
  /** of the skipped lines, those that could never fit in maxBuffered */
  tooLarge = 0;
  closed = false;

  constructor(
    readonly res: ServerResponse,
    readonly filter: Omit<LogFilter, 'limit' | 'cursor'>,
    readonly re: CompiledPattern | null,
    /** lines up to this id were in the store before the client connected */
    readonly fromId: number,
    /** who asked (token id): the regex queue serves keys fairly */
    readonly key: string,
    private readonly opts: TailOptions,
    private readonly onSkip: (n: number) => void,
  ) {
    res.on('drain', () => this.flushNotice());
  }

  private fits(bytes: number): boolean {
    return this.res.writableLength + bytes + FRAMING <= this.opts.maxBuffered;
  }

  private matchesFields(l: LogItem): boolean {
    const f = this.filter;
    if (l.id <= this.fromId) return false;
    if (f.host !== undefined && l.host !== f.host) return false;
    if (f.source !== undefined && l.source !== f.source) return false;
    if (f.program !== undefined && l.program !== f.program) return false;
    if (f.severity !== undefined && l.severity > f.severity) return false;
    if (f.start !== undefined && l.ts < f.start) return false;
    if (f.end !== undefined && l.ts >= f.end) return false;
    if (f.fields !== undefined) for (const k in f.fields) if (l.fields?.[k] !== f.fields[k]) return false;
    return true;
  }

  /** rows: new lines, oldest first; match: the ids of rows matching a search; encode: the hub's shared encoding */
  async offer(rows: LogItem[], match: (q: string) => Promise<Set<number>>, regex: RegexRunner, encode: (row: LogItem) => Buffer): Promise<void> {
    if (this.closed) return;
    let picked = rows.filter((r) => this.matchesFields(r));
    if (picked.length && this.filter.q !== undefined && this.filter.q.trim() !== '') {
      const ids = await match(this.filter.q);
      picked = picked.filter((r) => ids.has(r.id));
    }
    if (picked.length && this.re) {
      const hits = await regex.test(this.re, picked.map((r) => r.message), 1000, this.key);
      picked = hits.map((h) => picked[h]!);
    }
    for (const row of picked) this.send(encode(row));
    // a line too large for any buffer leaves no backlog whose drain would announce it
    if (this.skipped) this.flushNotice();
  }

  private send(event: Buffer): void {
    if (this.closed) return;
    this.flushNotice();
    if (this.skipped === 0 && this.fits(event.length)) {
      this.res.write(event);
      return;
    }
    this.skipped++;
    if (event.length + FRAMING > this.opts.maxBuffered) this.tooLarge++;
    this.onSkip(1);
  }

  private flushNotice(): void {
    if (this.skipped === 0 || this.closed) return;
    const reason =
      this.tooLarge === this.skipped
        ? `lines larger than the live tail's ${this.opts.maxBuffered}-byte client buffer; read them with /api/v1/logs`
        : 'client too slow; lines were not queued';
    const data = { lines: this.skipped, ...(this.tooLarge ? { too_large: this.tooLarge } : {}), reason };
    const notice = Buffer.from(`event: skipped\ndata: ${JSON.stringify(data)}\n\n`);
    if (!this.fits(notice.length)) return;
    this.skipped = 0;
    this.tooLarge = 0;
    this.res.write(notice);
  }

  comment(text: string): void {
    const c = Buffer.from(`: ${text}\n\n`);
    if (!this.closed && this.fits(c.length)) this.res.write(c);
  }

  error(code: string, message: string): void {
    const e = Buffer.from(`event: error\ndata: ${JSON.stringify({ error: code, message })}\n\n`);
    if (!this.closed && this.fits(e.length)) this.res.write(e);
    this.end();
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.res.end();
  }
}
