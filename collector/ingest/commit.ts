// How a group of batches gets committed: inline through the storage's (asynchronous) log store
// (any Storage: tests, and ClickHouse, whose inserts wait on the network, not the event loop), or in
// the writer thread (the server; the thread opens the same backend through the storage factory). Both resolve only after the transaction committed.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { IngestAck } from '../../shared/wire.js';
import { STORE_THREAD_LIMITS } from '../memory.js';
import type { IngestItem, LogStore, StorageConfig } from '../storage/types.js';
import { watchThreadEnd } from '../thread-end.js';
import { packItems, type PackedBatch, type PackedItem } from './pack.js';
import type { StagedItem } from './writer.js';
import type { WriterReply, WriterRequest } from './writer-worker.js';

export interface Committer {
  commit(items: IngestItem[]): Promise<{ acks: IngestAck[]; ms: number }>;
  /** one slice of the index backfill on the connection that commits (LogStore.backfill): ids covered (0: done), its time there */
  backfill(limit: number): Promise<{ ids: number; ms: number }>;
  close(): Promise<void>;
}

export function inlineCommitter(logs: () => LogStore): Committer {
  return {
    async commit(items) {
      const started = performance.now();
      const acks = await logs().ingestMany(items);
      return { acks, ms: performance.now() - started };
    },
    async backfill(limit) {
      const started = performance.now();
      const ids = logs().backfill?.step(limit) ?? 0;
      return { ids, ms: performance.now() - started };
    },
    async close() {},
  };
}

/** dist/…/writer-worker.js; from the TypeScript tree (vitest) the built copy is used. */
export function writerWorkerPath(): string {
  const here = new URL('./writer-worker.js', import.meta.url);
  if (existsSync(here)) return fileURLToPath(here);
  const built = new URL('../../dist/collector/ingest/writer-worker.js', import.meta.url);
  if (existsSync(built)) return fileURLToPath(built);
  throw new Error('writer-worker.js not found: run `npm run build`');
}

export interface WorkerCommitter extends Committer {
  /** the V8 limits the thread runs with (Worker#resourceLimits) */
  readonly resourceLimits: Worker['resourceLimits'];
  /** ends the thread abruptly, as a fatal fault in it would (tests) */
  crash(): Promise<void>;
  /** Batches packed when they were submitted (packBatch): copied to the thread, not transferred. */
  commitPacked(items: Array<StagedItem<PackedBatch>>): Promise<{ acks: IngestAck[]; ms: number }>;
}

/** onFailure: the thread ended when it was not asked to (not called after close()) */
export function workerCommitter(storage: StorageConfig, onFailure?: (err: Error) => void): WorkerCommitter {
  const worker = new Worker(writerWorkerPath(), { workerData: { storage }, resourceLimits: STORE_THREAD_LIMITS });
  const waiting = new Map<number, { resolve(v: { acks: IngestAck[]; ms: number }): void; reject(e: Error): void }>();
  const slices = new Map<number, { resolve(v: { ids: number; ms: number }): void; reject(e: Error): void }>();
  let nextId = 1;
  let closed: (() => void) | null = null;
  let dead: Error | null = null;
  worker.on('message', (m: WriterReply) => {
    if (m.type === 'closed') return closed?.();
    const s = slices.get(m.id);
    if (s) {
      slices.delete(m.id);
      if (m.type === 'backfilled') s.resolve({ ids: m.ids, ms: m.ms });
      else if (m.type === 'failed') s.reject(new Error(m.error));
      return;
    }
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.type === 'committed') w.resolve({ acks: m.acks, ms: m.ms });
    else if (m.type === 'failed') w.reject(new Error(m.error));
  });
  const fail = (err: Error) => {
    dead = err;
    for (const w of [...waiting.values(), ...slices.values()]) w.reject(err);
    waiting.clear();
    slices.clear();
  };
  let closing = false;
  watchThreadEnd(worker, 'writer thread', () => closing, fail, onFailure);
  worker.on('exit', () => closed?.());
  const post = (items: PackedItem[], transfer: ArrayBuffer[]) => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<{ acks: IngestAck[]; ms: number }>((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.postMessage({ type: 'commit', id, items } satisfies WriterRequest, transfer);
    });
  };
  return {
    get resourceLimits() {
      return worker.resourceLimits;
    },
    crash() {
      return worker.terminate().then(() => {});
    },
    commit(items) {
      if (dead) return Promise.reject(dead);
      const { packed, transfer } = packItems(items);
      return post(packed, transfer);
    },
    backfill(limit) {
      if (dead) return Promise.reject(dead);
      const id = nextId++;
      return new Promise<{ ids: number; ms: number }>((resolve, reject) => {
        slices.set(id, { resolve, reject });
        worker.postMessage({ type: 'backfill', id, limit } satisfies WriterRequest);
      });
    },
    commitPacked(items) {
      return post(
        items.map((it) => ({ ...it.batch, receivedAt: it.receivedAt, ...(it.after ? { after: it.after } : {}) })),
        [],
      );
    },
    async close() {
      closing = true;
      if (dead) return;
      await new Promise<void>((resolve) => {
        closed = resolve;
        worker.postMessage({ type: 'close' } satisfies WriterRequest);
      });
      await worker.terminate();
    },
  };
}
