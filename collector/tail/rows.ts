// Reading rows for the live tail in chunks bounded by bytes as well as by rows: a message may be
// 1 MiB, so a fixed 1,000-row chunk could be a gigabyte read at once. The next read is sized from
// the rows just read (a hint only; the hard bounds are per client, in client.ts).
import type { LogItem } from '../../shared/wire.js';
import type { LogStore } from '../storage/types.js';

export const CHUNK_ROWS = 1000;
export const CHUNK_BYTES = 4 * 1024 * 1024;
const FIRST_CHUNK_ROWS = 64;

/** A row's size as read, near enough to size the next read (UTF-16 units, not bytes). */
function approxSize(r: LogItem): number {
  return r.message.length + r.host.length + r.source.length + (r.fields ? JSON.stringify(r.fields).length : 0) + 128;
}

function rowsFor(bytes: number, sample: LogItem[], size: (r: LogItem) => number): number {
  if (sample.length === 0) return FIRST_CHUNK_ROWS;
  let total = 0;
  for (const r of sample) total += size(r);
  return Math.max(1, Math.min(CHUNK_ROWS, Math.floor(bytes / Math.max(1, total / sample.length))));
}

export class RowReader {
  private rows = FIRST_CHUNK_ROWS;

  constructor(private readonly logs: () => LogStore) {}

  /** the next rows with ids in (after, upto], oldest first: one chunk of about CHUNK_BYTES */
  next(after: number, upto: number): LogItem[] {
    const rows = this.logs()
      .since(after, Math.max(1, Math.min(this.rows, upto - after)))
      .filter((r) => r.id <= upto);
    if (rows.length) this.rows = rowsFor(CHUNK_BYTES, rows, approxSize);
    return rows;
  }
}

/**
 * Where a reconnect's replay starts: the newest rows in (from, upto] whose events, as `size`
 * measures them, add up to at most maxBytes. Walks back from `upto` in id windows, so it reads
 * about maxBytes plus one window whatever the history holds.
 */
export function replayStart(logs: LogStore, from: number, upto: number, maxBytes: number, size: (r: LogItem) => number): number {
  let hi = upto;
  let bytes = 0;
  let window = FIRST_CHUNK_ROWS;
  while (hi > from) {
    const lo = Math.max(from, hi - window);
    // ids are unique, so (lo, hi] holds at most hi - lo rows; later ids are not ours
    const rows = logs.since(lo, hi - lo).filter((r) => r.id <= hi);
    for (let i = rows.length - 1; i >= 0; i--) {
      bytes += size(rows[i]!);
      if (bytes > maxBytes) return rows[i]!.id;
    }
    window = rowsFor(Math.min(CHUNK_BYTES, maxBytes - bytes), rows, size);
    hi = lo;
  }
  return from;
}
