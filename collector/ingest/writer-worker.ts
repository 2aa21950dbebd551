// The writer thread: owns a second SQLite connection and commits group batches on it, so that
// the fsync of each commit (synchronous=FULL, the price of acknowledging only durable lines)
// waits here and not on the event loop that parses requests and answers queries.
import { parentPort, workerData } from 'node:worker_threads';
import { sqliteLogStore } from '../storage/sqlite/logs.js';
import { openDatabase } from '../storage/sqlite/open.js';
import type { IngestItem } from '../storage/types.js';

export type WriterRequest = { type: 'commit'; id: number; items: IngestItem[] } | { type: 'close' };
export type WriterReply = { type: 'committed'; id: number; acks: import('../../shared/wire.js').IngestAck[]; ms: number } | { type: 'failed'; id: number; error: string } | { type: 'closed' };

const port = parentPort!;
const db = openDatabase((workerData as { dataDir: string }).dataDir);
const logs = sqliteLogStore(db);

port.on('message', (m: WriterRequest) => {
  if (m.type === 'close') {
    db.close();
    port.postMessage({ type: 'closed' } satisfies WriterReply);
    return;
  }
  const started = performance.now();
  try {
    const acks = logs.ingestMany(m.items);
    port.postMessage({ type: 'committed', id: m.id, acks, ms: performance.now() - started } satisfies WriterReply);
  } catch (err) {
    port.postMessage({ type: 'failed', id: m.id, error: (err as Error).message } satisfies WriterReply);
  }
});
