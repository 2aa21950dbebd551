// The writer thread: owns a connection of its own to the store (from the storage factory, by the
// backend's name) and commits group batches on it, so that the wait for each commit to be durable
// (SQLite: the fsync of synchronous=FULL, the price of acknowledging only durable lines) happens
// here and not on the event loop that parses requests and answers queries.
import { parentPort, workerData } from 'node:worker_threads';
import { openWriterStore } from '../storage/factory.js';
import type { StorageConfig } from '../storage/types.js';
import { unpackItems, type PackedItem } from './pack.js';

export type WriterRequest = { type: 'commit'; id: number; items: PackedItem[] } | { type: 'backfill'; id: number; limit: number } | { type: 'close' };
export type WriterReply =
  | { type: 'committed'; id: number; acks: import('../../shared/wire.js').IngestAck[]; ms: number }
  | { type: 'backfilled'; id: number; ids: number; ms: number }
  | { type: 'failed'; id: number; error: string }
  | { type: 'closed' };

const port = parentPort!;
const logs = openWriterStore((workerData as { storage: StorageConfig }).storage);

port.on('message', (m: WriterRequest) => {
  if (m.type === 'close') {
    logs.close();
    port.postMessage({ type: 'closed' } satisfies WriterReply);
    return;
  }
  const started = performance.now();
  if (m.type === 'backfill') {
    // a slice of the index backfill (collector/search-backfill.ts), between two commits
    try {
      const ids = logs.backfill ? logs.backfill(m.limit) : 0;
      port.postMessage({ type: 'backfilled', id: m.id, ids, ms: performance.now() - started } satisfies WriterReply);
    } catch (err) {
      port.postMessage({ type: 'failed', id: m.id, error: (err as Error).message } satisfies WriterReply);
    }
    return;
  }
  try {
    const acks = logs.ingestPacked ? logs.ingestPacked(m.items) : logs.ingestMany(unpackItems(m.items));
    port.postMessage({ type: 'committed', id: m.id, acks, ms: performance.now() - started } satisfies WriterReply);
  } catch (err) {
    port.postMessage({ type: 'failed', id: m.id, error: (err as Error).message } satisfies WriterReply);
  }
});
