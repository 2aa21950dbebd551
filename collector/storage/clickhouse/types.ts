// The asynchronous log store: LogStore (collector/storage/types.ts) with every call that reaches
// the database returning a promise, which a store behind a network connection needs. Kept here
// until the shared seam (storage/types.ts, reshaped in another branch) takes it over; the SQLite
// store satisfies it through a thin wrapper (test/contract/logs-sqlite.test.ts).
//
// Line ids: LogItem.id orders lines by commit (the live tail reads `since(afterId)`), but ids
// need not be dense or start at 1. The ClickHouse store derives them from the part's block
// number and the row's place in it (ids.ts).
import type { IngestAck, IngestBatch, LogItem, LogPage } from '../../../shared/wire.js';
import type { HistogramFilter, HostInfo, IngestItem, LogFilter, LogHistogram } from '../types.js';

export interface AsyncRetentionOps {
  /** deletes the lines with ts < before, oldest first; at most about `limit` (a store may delete whole days at once); returns how many */
  deleteOlderThan(before: number, limit: number): Promise<number>;
  /** deletes the `limit` oldest lines (by ts) */
  deleteOldest(limit: number): Promise<number>;
  /** bytes the stored lines take on disk */
  usedBytes(): Promise<number>;
}

export interface AsyncLogStore {
  /** resolves only after the batch is stored; a redelivered range is dropped (counted in `duplicates`) */
  ingest(batch: IngestBatch, receivedAt: number): Promise<IngestAck>;
  /** several batches in one write, acks in order */
  ingestMany(items: IngestItem[]): Promise<IngestAck[]>;
  query(filter: LogFilter): Promise<LogPage>;
  histogram(filter: HistogramFilter): Promise<LogHistogram>;
  /** the cursor that continues a page of `filter` after `item` (no I/O) */
  cursorAfter(filter: LogFilter, item: LogItem): string;
  /** lines with id > afterId in id (commit) order, at most `limit` */
  since(afterId: number, limit: number): Promise<LogItem[]>;
  /** ids in (afterId, uptoId] whose line matches the search `q` */
  matchIds(q: string, afterId: number, uptoId: number): Promise<Set<number>>;
  /** the largest id stored (0 when empty) */
  maxId(): Promise<number>;
  hosts(): Promise<HostInfo[]>;
  retention: AsyncRetentionOps;
  close(): Promise<void>;
}

export interface ClickHouseLogOptions {
  /** http(s)://host:port of ClickHouse's HTTP interface */
  url: string;
  database: string;
  /** lines older than this many days are dropped by the table's TTL (whole days); absent: kept */
  ttlDays?: number;
  /** ms before a request counts as failed (and ingest answers 503) */
  requestTimeoutMs?: number;
  username?: string;
  password?: string;
}
