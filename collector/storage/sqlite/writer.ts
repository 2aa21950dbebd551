// The writer thread's connection (collector/ingest/writer-worker.ts): a second SQLite connection
// that commits group batches, so that the fsync of each commit (synchronous=FULL, the price of
// acknowledging only durable lines) waits there and not on the event loop.
import type { WriterLogStore } from '../types.js';
import { sqliteLogStore } from './logs.js';
import { openDatabase } from './open.js';

// Lines whose timestamps are not in arrival order (one hour of a file replayed, many hosts with
// skewed clocks) land all over the logs_ts and logs_host_ts indexes: a 5,000-line commit of the
// logs benchmark dirties ~7,000 index leaves. With the default 2 MB cache those pages were
// spilled into the WAL mid-transaction and read back, and the 1,000-page auto-checkpoint copied
// them into the database after every commit. A larger cache keeps the hot index pages, and
// checkpointing every 80 MiB of WAL (20,000 pages of 4 KiB) writes a page rewritten by many
// commits once (store probe, 1 M lines in 5,000-line commits: 20.2 → 15.5 CPU µs per line with
// 64 MB). Durability is unchanged: every commit is still fsynced in the WAL (synchronous=FULL).
// SQLite counts the interval in pages, so it is derived from the page size (16 KiB in new
// databases: 20,000 of those would let the WAL grow to 320 MiB, for ~2 % less CPU).
const WAL_CHECKPOINT_BYTES = 80 * 1024 * 1024;

/**
 * Default of `memory.writer_cache_mb`. The cache is the writer thread's largest allocation and
 * stays allocated once filled: 64 MB were a fifth of the collector's RSS under the load bench
 * (issue 17 asks ≤ 200 MiB). writer-path with 1 M lines in 20,000-line commits: lines in time
 * order cost the same with 8, 16, 32 or 64 MB (5.1–6.3 µs per line, noise); with timestamps cycling
 * through an hour 16 MB costs 11.1–11.3 µs per line against 10.0–10.3 with 64 and 9.9 with 32.
 * 32: the syslog receiver's lines cycle within each second (issue 17 item 1), so the lead kept
 * the out-of-order speed and halved the cache.
 */
export const DEFAULT_WRITER_CACHE_MB = 32;

export interface WriterOptions {
  /** the connection's page cache in MB (SQLite's cache_size, as -KiB) */
  cacheMb?: number;
}

export function openSqliteWriter(dataDir: string, options: WriterOptions = {}): WriterLogStore & { cacheKb(): number } {
  const db = openDatabase(dataDir);
  const cacheKb = Math.round((options.cacheMb ?? DEFAULT_WRITER_CACHE_MB) * 1024);
  db.pragma(`cache_size = -${cacheKb}`);
  db.pragma(`wal_autocheckpoint = ${Math.ceil(WAL_CHECKPOINT_BYTES / (db.pragma('page_size', { simple: true }) as number))}`);
  const logs = sqliteLogStore(db);
  return {
    ingestMany: (items) => logs.ingestMany(items),
    ingestPacked: (items) => logs.ingestPacked(items),
    // on this connection, between commits: the backfill's slices queue behind ingest here
    backfill: (limit) => logs.backfill!.step(limit),
    /** the page cache the connection was given, in KiB (read back from SQLite) */
    cacheKb: () => -(db.pragma('cache_size', { simple: true }) as number),
    close() {
      db.close();
    },
  };
}
