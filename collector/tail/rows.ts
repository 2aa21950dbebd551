// Reading rows for the live tail in chunks bounded by bytes as well as by rows: a message may be
// 1 MiB, so a fixed 1,000-row chunk could be a gigabyte read at once. The next read is sized from
// the rows just read (a hint only; the hard bounds are per client, in client.ts).
import type { LogItem } from '../../shared/wire.js';
import type { LogStore, TailFeed } from '../storage/types.js';

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
  async next(after: number, upto: number): Promise<LogItem[]> {
    // ids need not be dense (ClickHouse): `upto - after` bounds nothing, the chunk size does
    const rows = (await this.logs().since(after, this.rows)).filter((r) => r.id <= upto);
    if (rows.length) this.rows = rowsFor(CHUNK_BYTES, rows, approxSize);
    return rows;
  }

  /** the next chunk of a feed's new lines (a store without commit-ordered ids) */
  async nextOf(feed: TailFeed): Promise<LogItem[]> {
    const rows = await feed.next(this.rows);
    if (rows.length) this.rows = rowsFor(CHUNK_BYTES, rows, approxSize);
    return rows;
  }
}

/**
 * Where a reconnect's replay starts (the id it continues after): the newest rows in (from, upto]
 * that number at most maxLines and whose events, as `size` measures them, add up to at most
 * maxBytes. Walks back from `upto` in chunks (LogStore.latest), so it reads about maxBytes plus
 * one chunk whatever the history holds, and never does arithmetic on ids (they need not be dense).
 */
export async function replayStart(logs: LogStore, from: number, upto: number, maxLines: number, maxBytes: number, size: (r: LogItem) => number): Promise<number> {
  let hi = upto;
  let bytes = 0;
  let lines = 0;
  let window = FIRST_CHUNK_ROWS;
  while (hi > from) {
    // one row more than the line budget: the row the replay starts after
    const rows = await logs.latest(hi, Math.max(1, Math.min(window, maxLines + 1 - lines)));
    for (const r of rows) {
      if (r.id <= from) return from;
      if (lines === maxLines) return r.id;
      bytes += size(r);
      if (bytes > maxBytes) return r.id;
      lines++;
    }
    if (rows.length === 0) return from;
    window = rowsFor(Math.min(CHUNK_BYTES, maxBytes - bytes), rows, size);
    hi = rows[rows.length - 1]!.id - 1;
  }
  return from;
}
