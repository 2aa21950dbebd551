// The writer thread: owns a second SQLite connection and commits group batches on it, so that
// the fsync of each commit (synchronous=FULL, the price of acknowledging only durable lines)
// waits here and not on the event loop that parses requests and answers queries.
import { parentPort, workerData } from 'node:worker_threads';
import { sqliteLogStore } from '../storage/sqlite/logs.js';
import { openDatabase } from '../storage/sqlite/open.js';
import { unpackItems, type PackedItem } from './pack.js';

export type WriterRequest = { type: 'commit'; id: number; items: PackedItem[] } | { type: 'close' };
export type WriterReply = { type: 'committed'; id: number; acks: import('../../shared/wire.js').IngestAck[]; ms: number } | { type: 'failed'; id: number; error: string } | { type: 'closed' };

const port = parentPort!;
const db = openDatabase((workerData as { dataDir: string }).dataDir);
// Lines whose timestamps are not in arrival order (one hour of a file replayed, many hosts with
// skewed clocks) land all over the logs_ts and logs_host_ts indexes: a 5,000-line commit of the
// logs benchmark dirties ~7,000 index leaves. With the default 2 MB cache those pages were
// spilled into the WAL mid-transaction and read back, and the 1,000-page auto-checkpoint copied
// them into the database after every commit. A 64 MB cache keeps the hot index pages, and
// checkpointing every 80 MiB of WAL (20,000 pages of 4 KiB) writes a page rewritten by many
// commits once (store probe, 1 M lines in 5,000-line commits: 20.2 → 15.5 CPU µs per line).
// Durability is unchanged: every commit is still fsynced in the WAL (synchronous=FULL). SQLite
// counts the interval in pages, so it is derived from the page size (16 KiB in new databases:
// 20,000 of those would let the WAL grow to 320 MiB, for ~2 % less CPU).
const WAL_CHECKPOINT_BYTES = 80 * 1024 * 1024;
db.pragma('cache_size = -65536');
db.pragma(`wal_autocheckpoint = ${Math.ceil(WAL_CHECKPOINT_BYTES / (db.pragma('page_size', { simple: true }) as number))}`);
const logs = sqliteLogStore(db);

port.on('message', (m: WriterRequest) => {
  if (m.type === 'close') {
    db.close();
    port.postMessage({ type: 'closed' } satisfies WriterReply);
    return;
  }
  const started = performance.now();
  try {
    const acks = logs.ingestMany(unpackItems(m.items));
    port.postMessage({ type: 'committed', id: m.id, acks, ms: performance.now() - started } satisfies WriterReply);
  } catch (err) {
    port.postMessage({ type: 'failed', id: m.id, error: (err as Error).message } satisfies WriterReply);
  }
});
