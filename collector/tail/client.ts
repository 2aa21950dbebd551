// One live-tail subscriber: its filters, and its socket with bounded buffering. When the
// socket's unsent bytes pass `maxBuffered`, new lines are counted instead of queued; once the
// client has drained, it gets an `event: skipped` with how many it missed. Memory per slow
// client is therefore capped at about maxBuffered plus one chunk of lines.
import type { ServerResponse } from 'node:http';
import type { LogItem } from '../../shared/wire.js';
import type { CompiledPattern, RegexRunner } from '../query/regex.js';
import type { LogFilter, LogStore } from '../storage/types.js';

export interface TailOptions {
  maxBuffered: number;
}

export class TailClient {
  skipped = 0;
  closed = false;

  constructor(
    readonly res: ServerResponse,
    readonly filter: Omit<LogFilter, 'limit' | 'cursor'>,
    readonly re: CompiledPattern | null,
    /** lines up to this id were in the store before the client connected */
    readonly fromId: number,
    private readonly opts: TailOptions,
    private readonly onSkip: (n: number) => void,
  ) {
    res.on('drain', () => this.flushNotice());
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

  /** rows: new lines with ids in (lo, hi], in id order */
  async offer(rows: LogItem[], lo: number, hi: number, logs: LogStore, regex: RegexRunner): Promise<void> {
    if (this.closed) return;
    let picked = rows.filter((r) => this.matchesFields(r));
    if (picked.length && this.filter.q !== undefined && this.filter.q.trim() !== '') {
      const ids = logs.matchIds(this.filter.q, lo, hi);
      picked = picked.filter((r) => ids.has(r.id));
    }
    if (picked.length && this.re) {
      const hits = await regex.test(this.re, picked.map((r) => r.message), 1000);
      picked = hits.map((h) => picked[h]!);
    }
    for (const row of picked) this.send(row);
  }

  private send(row: LogItem): void {
    if (this.closed) return;
    if (this.res.writableLength > this.opts.maxBuffered) {
      this.skipped++;
      this.onSkip(1);
      return;
    }
    this.flushNotice();
    this.res.write(`id: ${row.id}\nevent: log\ndata: ${JSON.stringify(row)}\n\n`);
  }

  private flushNotice(): void {
    if (this.skipped === 0 || this.closed || this.res.writableLength > this.opts.maxBuffered) return;
    const n = this.skipped;
    this.skipped = 0;
    this.res.write(`event: skipped\ndata: ${JSON.stringify({ lines: n, reason: 'client too slow; lines were not queued' })}\n\n`);
  }

  comment(text: string): void {
    if (!this.closed && this.res.writableLength <= this.opts.maxBuffered) this.res.write(`: ${text}\n\n`);
  }

  error(code: string, message: string): void {
    if (!this.closed) this.res.write(`event: error\ndata: ${JSON.stringify({ error: code, message })}\n\n`);
    this.end();
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.res.end();
  }
}
