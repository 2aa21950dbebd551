// The metric store's thread: owns the round-robin store (one SQLite connection, the only one
// that journals into it) and runs every call on it here, so that creating series, journaling
// and applying the journal to the archives, and the fsync of each commit (synchronous=FULL)
// wait on this thread and not on the event loop that parses requests and answers queries.
// Under the load bench, 1,000 agents appearing at once brought 60,000 new series: on the event
// loop their creation and first updates held every request behind them for seconds.
//
// Two ways in (store-thread.ts): `write` messages (a group's new series and its updates, answered
// asynchronously once committed) and synchronous calls on a port of their own (reads, deletes:
// the caller waits on a shared flag). A write creates its series in slices and yields between
// them, so that a read waiting on this thread is served within one slice.
import { parentPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { openRrdStore, type OpenRrdOptions } from '../rrd/sqlite-store.js';
import type { SeriesDef, UpdateManyItem } from '../rrd/types.js';
import { CHECKPOINTER_THREAD_LIMITS } from '../memory.js';
import type { CheckpointerData, CheckpointerReply } from './wal-checkpointer.js';

export interface StoreWorkerData {
  path: string;
  options: Omit<OpenRrdOptions, 'now'>;
  /** Int32Array over a SharedArrayBuffer: [0] counts answers to synchronous calls */
  flag: SharedArrayBuffer;
  sync: MessagePort;
}

export interface WireError {
  message: string;
  name: string;
  code?: string;
  status?: number;
}

export type StoreWrite = { type: 'write'; id: number; creates: Array<{ name: string; def: SeriesDef; start?: number }>; items: UpdateManyItem[] };
/** where a write's time went on this thread (ms): waiting for it, creating its commit's series, the durable updateMany */
export interface WritePhases {
  wait: number;
  create: number;
  commit: number;
}
export type StoreWriteReply =
  | { type: 'written'; id: number; accepted: number[]; errors: Array<[number, WireError]>; ms: number; phases: WritePhases }
  | { type: 'failed'; id: number; error: WireError; stage: 'create' | 'update' }
  | { type: 'opened' }
  | { type: 'closed' }
  | { type: 'close_failed'; error: WireError }
  | { type: 'open_failed'; error: WireError }
  | { type: 'apply_failed'; error: WireError };
export type SyncCall = { method: string; args: unknown[] };
export type SyncReply = { ok: true; value: unknown } | { ok: false; error: WireError };

/** series created per transaction before the thread looks at waiting calls again */
export const CREATE_SLICE = 500;
/** values of writes merged into one commit, at most (the collector's groups are up to 20,000) */
export const MERGE_VALUES = 40_000;
/** new series of writes merged into one commit, at most (the first write whatever its size); ordinary writes are committed between its slices */
export const MERGE_CREATES = 10_000;
/** pending updates from which the journal is applied between writes (the store's checkpointUpdates) */
export const DEFAULT_APPLY_FROM = 200_000;
/** ms of applying per slice before waiting writes and reads are looked at again */
export const APPLY_SLICE_MS = 8;
/** frames of a WAL the checkpointer could not start again from which the store thread copies the rest itself (8 MB of 4 KiB pages; SQLite's own limit is 16,384) */
export const WRITER_RESTART_FRAMES = 2_048;
/** ms between two WAL checkpoints, at least */
export const CHECKPOINT_EVERY_MS = 1_000;

export function toWire(err: unknown): WireError {
  const e = err as Error & { code?: unknown; status?: unknown };
  return {
    message: e?.message ?? String(err),
    name: e?.name ?? 'Error',
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.status === 'number' ? { status: e.status } : {}),
  };
}

const data = workerData as StoreWorkerData | undefined;
/** A close through the synchronous port stops the checkpointer thread too. */
let closeCheckpointer: () => Promise<void> = async () => {};
if (parentPort && data?.sync) {
  const port = parentPort;
  const flag = new Int32Array(data.flag);
  let store: ReturnType<typeof openRrdStore>;
  try {
    // the journal is applied by this thread's loop between writes, not inside them
    store = openRrdStore(data.path, { ...data.options, autoApply: false });
    port.postMessage({ type: 'opened' } satisfies StoreWriteReply);
  } catch (err) {
    port.postMessage({ type: 'open_failed', error: toWire(err) } satisfies StoreWriteReply);
    throw err;
  }
  const answer = (reply: SyncReply): void => {
    data.sync.postMessage(reply);
    Atomics.add(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  data.sync.on('message', (c: SyncCall) => {
    try {
      let value: unknown;
      if (c.method === 'close') {
        void closeCheckpointer();
        value = store.close();
      } else if (c.method === 'updateManyWire') {
        const res = store.updateMany(c.args[0] as UpdateManyItem[]);
        value = { accepted: res.accepted, errors: [...res.errors].map(([i, e]) => [i, toWire(e)]) };
      } else {
        const fn = (store as unknown as Record<string, (...a: unknown[]) => unknown>)[c.method];
        if (typeof fn !== 'function') throw new Error(`no store method '${c.method}'`);
        value = fn.apply(store, c.args);
      }
      answer({ ok: true, value });
    } catch (err) {
      answer({ ok: false, error: toWire(err) });
    }
  });
  // Writes in the order sent, those waiting together merged into one commit (runWrites; the
  // collector keeps several groups in flight, a host in one of them at a time). A write
  // journals and is answered; applying the journal to the archives happens between writes, in
  // slices of APPLY_SLICE_MS (one transaction each, no fsync of its own), once APPLY_FROM
  // updates are pending. It used to run inside the write past that threshold, before the
  // answer, with a WAL checkpoint after it: 1,000 hosts appearing in a minute waited seconds
  // for their acknowledgements (fleet benchmark p99 5-32 s). Past APPLY_HARD pending updates
  // slices go first and writes wait (the group writer's queue then refuses with 503 when full),
  // so the journal stays bounded however fast values come.
  const applyFrom = data.options.checkpointUpdates ?? DEFAULT_APPLY_FROM;
  const applyHard = 2 * applyFrom;
  const writes: StoreWrite[] = [];
  let closeAsked = false;
  let wake: (() => void) | null = null;
  const kick = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const yieldNow = () => new Promise<void>((res) => setImmediate(res));
  const checkpointer = startCheckpointer(data.path);
  /** when each waiting write reached this thread (its `wait` phase) */
  const arrived = new WeakMap<StoreWrite, number>();
  port.on('message', (m: StoreWrite | { type: 'close' }) => {
    if (m.type === 'close') closeAsked = true;
    else {
      arrived.set(m, performance.now());
      writes.push(m);
    }
    kick();
  });
  // a synchronous update journals too: the loop may have a slice to apply
  data.sync.on('message', kick);

  /**
   * Writes that reached the thread together, committed together: their series created in
   * slices of up to CREATE_SLICE (no fsync of their own, a yield between two), then one durable
   * updateMany for the values of all whose series were created, and each answered from its
   * share of the result. The collector keeps several groups in flight (pipeline.ts), so under
   * load a few wait here at once and cost one fsync instead of one each. A slice holds whole
   * writes (but for one larger than a slice, created alone as before): when a slice of several
   * fails, nothing of it is committed and its writes are created one by one, so that one
   * write's bad series fails that write alone.
   */
  const runWrites = async (ms: StoreWrite[]): Promise<void> => {
    const started = performance.now();
    const failed = new Set<StoreWrite>();
    const fail = (m: StoreWrite, err: unknown) => {
      failed.add(m);
      port.postMessage({ type: 'failed', id: m.id, error: toWire(err), stage: 'create' } satisfies StoreWriteReply);
    };
    let slices = 0;
    const create = async (creates: StoreWrite['creates']) => {
      if (slices++ > 0) {
        await yieldNow();
        // Ordinary writes that came meanwhile are committed between two slices: they wait for
        // one slice of creations, not for all of them. Their hosts are not these writes' (a
        // host is in one group in flight), and their fsync'd commit only makes the slices
        // created so far durable earlier than this run's own would.
        if (writes.some((m) => m.creates.length === 0)) await runWrites(takeWrites(false));
      }
      // not durable by itself: the update commit below fsyncs the WAL holding it
      store.createMany(creates, { deferSync: true });
    };
    let slice: StoreWrite[] = [];
    let count = 0;
    const flush = async () => {
      const these = slice;
      slice = [];
      count = 0;
      if (these.length === 0) return;
      try {
        await create(these.length === 1 ? these[0]!.creates : these.flatMap((m) => m.creates));
      } catch (err) {
        if (these.length === 1) return fail(these[0]!, err);
        for (const m of these) {
          try {
            await create(m.creates);
          } catch (e) {
            fail(m, e);
          }
        }
      }
    };
    for (const m of ms) {
      if (m.creates.length === 0) continue;
      if (m.creates.length > CREATE_SLICE) {
        await flush();
        try {
          for (let i = 0; i < m.creates.length; i += CREATE_SLICE) await create(m.creates.slice(i, i + CREATE_SLICE));
        } catch (err) {
          fail(m, err);
        }
        continue;
      }
      if (count + m.creates.length > CREATE_SLICE) await flush();
      slice.push(m);
      count += m.creates.length;
    }
    await flush();
    const ok = failed.size === 0 ? ms : ms.filter((m) => !failed.has(m));
    if (ok.length === 0) return;
    try {
      const items = ok.length === 1 ? ok[0]!.items : ok.flatMap((m) => m.items);
      const created = performance.now();
      const res = items.length > 0 ? store.updateMany(items) : { accepted: [], errors: new Map<number, Error>() };
      const committed = performance.now();
      let at = 0;
      for (const m of ok) {
        const n = m.items.length;
        const errors: Array<[number, WireError]> = [];
        for (const [i, e] of res.errors) if (i >= at && i < at + n) errors.push([i - at, toWire(e)]);
        const phases = { wait: started - (arrived.get(m) ?? started), create: created - started, commit: committed - created };
        port.postMessage({ type: 'written', id: m.id, accepted: res.accepted.slice(at, at + n), errors, ms: performance.now() - started, phases } satisfies StoreWriteReply);
        at += n;
      }
    } catch (err) {
      for (const m of ok) port.postMessage({ type: 'failed', id: m.id, error: toWire(err), stage: 'update' } satisfies StoreWriteReply);
    }
  };

  /**
   * The writes to commit together next: those that create no series first (up to MERGE_VALUES
   * values), those that create series otherwise (up to MERGE_CREATES new series), in the order
   * they came within each kind, taking turns when both wait. Writes of two kinds never hold the
   * same host (the collector keeps a host in one group in flight), so their order between kinds
   * is free; an ordinary write used to wait behind up to 40,000 values' worth of new series
   * (whole groups of first requests) merged ahead of it.
   */
  let lastCreated = false;
  const nextWrites = (): StoreWrite[] => {
    const hasPlain = writes.some((m) => m.creates.length === 0);
    const hasCreating = writes.some((m) => m.creates.length > 0);
    const kind = hasPlain && hasCreating ? !lastCreated : hasCreating;
    lastCreated = kind;
    return takeWrites(kind);
  };
  /** the waiting writes of one kind (creating or not) that go in one commit, taken out of `writes` */
  const takeWrites = (kind: boolean): StoreWrite[] => {
    const creating = (m: StoreWrite) => m.creates.length > 0;
    const take: StoreWrite[] = [];
    const rest: StoreWrite[] = [];
    let values = 0;
    let created = 0;
    for (const m of writes) {
      if (creating(m) !== kind || (take.length > 0 && (values + m.items.length > MERGE_VALUES || created + m.creates.length > MERGE_CREATES))) {
        rest.push(m);
        continue;
      }
      take.push(m);
      values += m.items.length;
      created += m.creates.length;
    }
    writes.splice(0, writes.length, ...rest);
    return take;
  };

  const loop = async (): Promise<void> => {
    for (;;) {
      if (checkpointer.restartDue()) {
        // Between two transactions: copies what came after the checkpointer's copy (little) so
        // that the next commit starts the WAL again. Otherwise, with the writer busy, the WAL
        // grew to SQLite's own limit (wal_autocheckpoint, 16,384 frames) and that checkpoint of
        // 64 MB ran here inside a commit, 80-366 ms (`npm run bench -- fleet`, session 9).
        try {
          store.walCheckpoint();
        } catch {
          // the checkpointer's next round tries again
        }
      }
      const pending = store.pendingUpdates;
      if (writes.length > 0 && pending < applyHard) {
        await runWrites(nextWrites());
        checkpointer.maybe();
      } else if (pending >= (writes.length > 0 ? 1 : applyFrom)) {
        try {
          store.applyUntil(performance.now() + APPLY_SLICE_MS);
        } catch (err) {
          // the journal still holds what the slice did not apply: said once, tried again later
          port.postMessage({ type: 'apply_failed', error: toWire(err) } satisfies StoreWriteReply);
          await new Promise((r) => setTimeout(r, 1000));
        }
        checkpointer.maybe();
      } else if (closeAsked) {
        // after every write sent before it; applying a long journal may take minutes
        try {
          await checkpointer.close();
          store.close();
          port.postMessage({ type: 'closed' } satisfies StoreWriteReply);
        } catch (err) {
          port.postMessage({ type: 'close_failed', error: toWire(err) } satisfies StoreWriteReply);
        }
        return;
      } else {
        await new Promise<void>((res) => (wake = res));
        continue;
      }
      // reads waiting on the synchronous port are served between two steps
      await yieldNow();
    }
  };
  void loop();
  closeCheckpointer = checkpointer.close;
}

/**
 * The WAL checkpointer thread (wal-checkpointer.ts), asked at most once per CHECKPOINT_EVERY_MS
 * and never twice at once. Without it (it failed to start), this thread checkpoints itself.
 */
function startCheckpointer(path: string): { maybe(): void; restartDue(): boolean; close(): Promise<void> } {
  let worker: Worker | null = null;
  let busy = false;
  let last = performance.now();
  let due = false;
  try {
    worker = new Worker(new URL('./wal-checkpointer.js', import.meta.url), { workerData: { checkpointer: path } satisfies CheckpointerData, resourceLimits: CHECKPOINTER_THREAD_LIMITS });
    worker.on('message', (m: CheckpointerReply) => {
      if (m.type === 'checkpointed' || m.type === 'checkpoint_failed') {
        busy = false;
        last = performance.now();
      }
      if (m.type === 'checkpointed' && !m.restarted && m.frames >= WRITER_RESTART_FRAMES) due = true;
    });
    worker.on('error', () => (worker = null));
    worker.unref();
  } catch {
    worker = null;
  }
  return {
    /** once per long WAL the checkpointer could not start again (the writer was never between transactions) */
    restartDue() {
      const d = due && !busy;
      if (d) due = false;
      return d;
    },
    maybe() {
      if (busy || performance.now() - last < CHECKPOINT_EVERY_MS || !worker) return;
      busy = true;
      worker.postMessage('checkpoint');
    },
    async close() {
      const w = worker;
      worker = null;
      if (!w) return;
      await new Promise<void>((res) => {
        w.once('exit', () => res());
        w.postMessage('close');
      });
    },
  };
}
