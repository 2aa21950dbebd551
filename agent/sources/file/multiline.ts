// Joins continuation lines (a stack trace) onto the line that starts an event. An event is
// complete when the next start line arrives, when it reaches its line or byte limit, or when
// the caller flushes it (the file stayed quiet for the timeout). Until then its bytes are not
// part of any batch, so a crash re-reads them and the event arrives once, whole.
import type { RawLine } from './lines.js';

export interface MultilineOptions {
  start: RegExp;
  maxLines: number;
  maxBytes: number;
}

export class MultilineJoiner {
  private pending: RawLine | null = null;
  private count = 0;

  constructor(private readonly opts: MultilineOptions) {}

  /** Feeds lines in file order; returns the events they completed. */
  push(lines: readonly RawLine[], out: RawLine[]): void {
    for (const line of lines) {
      const p = this.pending;
      if (p && !this.opts.start.test(line.text) && this.count < this.opts.maxLines) {
        const room = this.opts.maxBytes - p.text.length - 1;
        if (room > 0) {
          p.text += '\n' + (line.text.length > room ? line.text.slice(0, room) : line.text);
          p.truncated ||= line.truncated || line.text.length > room;
        } else {
          p.truncated = true;
        }
        p.end = line.end;
        this.count++;
        continue;
      }
      if (p) out.push(p);
      this.pending = { ...line };
      this.count = 1;
    }
  }

  /** The file offset where the incomplete event starts, if one is held. */
  get pendingOffset(): number | undefined {
    return this.pending?.offset;
  }

  flush(out: RawLine[]): void {
    if (this.pending) out.push(this.pending);
    this.pending = null;
    this.count = 0;
  }

  /** Drops the held event (its bytes will be read again from the file). */
  reset(): void {
    this.pending = null;
    this.count = 0;
  }
}
