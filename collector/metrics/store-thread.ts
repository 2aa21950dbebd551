// The round-robin store behind a thread of its own (store-worker.ts), seen from the event loop.
// It is an RrdStore: every method is a synchronous call answered by the thread (the caller waits
// on a shared flag, Atomics.wait, and takes the answer with receiveMessageOnPort), so readers
// (the series API, alert seeding, the hosts service) keep their synchronous code. The metric
// writer does not wait: `write` sends a group's new series and updates and resolves once the
// thread has committed them (acknowledgements still mean durable).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { ErrorCodes, RingtailError, type ErrorCode } from '../../shared/errors.js';
import { STORE_THREAD_LIMITS } from '../memory.js';
import { RrdError } from '../rrd/errors.js';
import { watchThreadEnd } from '../thread-end.js';
import type { OpenRrdOptions } from '../rrd/sqlite-store.js';
import type { Cf, CreateOptions, FetchResult, RrdStore, SeriesDef, SeriesInfo, SeriesState, UpdateManyItem, UpdateManyResult } from '../rrd/types.js';
import type { StoreWorkerData, StoreWrite, StoreWriteReply, SyncCall, SyncReply, WireError, WritePhases } from './store-worker.js';

/** A synchronous call that waits longer than this fails (the thread is stuck or gone). */
const SYNC_TIMEOUT_MS = 60_000;
/** series described per synchronous call at start */
const DESCRIBE_PAGE = 50_000;

/** a write's answer: the store's result, the thread's time for it (ms) and where that went */
export type WriteResult = UpdateManyResult & { ms: number; phases: WritePhases };

export interface SeriesSummary {
  name: string;
  type: string | null;
  step: number;
  lastUp: number;
}

/** dist/…/store-worker.js; from the TypeScript tree (vitest) the built copy is used. */
function workerPath(): string {
  const here = new URL('./store-worker.js', import.meta.url);
  if (existsSync(here)) return fileURLToPath(here);
  const built = new URL('../../dist/collector/metrics/store-worker.js', import.meta.url);
  if (existsSync(built)) return fileURLToPath(built);
  throw new Error('store-worker.js not found: run `npm run build`');
}

/** An Error as the thread saw it: RingtailError codes and statuses survive the crossing. */
function fromWire(w: WireError): Error {
  if (w.name === 'RrdError') return new RrdError(w.message, (w.code ?? ErrorCodes.BAD_REQUEST) as ErrorCode, w.status ?? 400);
  if (w.name === 'RingtailError' && w.code) return new RingtailError(w.code as ErrorCode, w.message, w.status ?? 400);
  const e = new Error(w.message) as Error & { code?: string };
  e.name = w.name;
  if (w.code) e.code = w.code;
  return e;
}

/** An error whose stage says whether the group's new series were created (they were not: 'create'). */
export class StoreWriteError extends Error {
  constructor(
    readonly error: Error,
    readonly stage: 'create' | 'update',
  ) {
    super(error.message);
    this.name = 'StoreWriteError';
  }
}

export class ThreadedRrdStore implements RrdStore {
  private readonly worker: Worker;
  private readonly flag: Int32Array;
  private readonly port;
  private readonly waiting = new Map<number, { resolve(r: WriteResult): void; reject(e: Error): void }>();
  private nextId = 1;
  private dead: Error | null = null;
  private closed = false;

  private constructor(
    readonly path: string,
    worker: Worker,
    port: MessageChannel['port1'],
    flag: Int32Array,
    onFailure?: (err: Error) => void,
  ) {
    this.flag = flag;
    this.worker = worker;
    this.port = port;
    worker.on('message', (m: StoreWriteReply) => {
      if (m.type !== 'written' && m.type !== 'failed') return;
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.type === 'written') w.resolve({ accepted: m.accepted, errors: new Map(m.errors.map(([i, e]) => [i, fromWire(e)])), ms: m.ms, phases: m.phases });
      else w.reject(new StoreWriteError(fromWire(m.error), m.stage));
    });
    const fail = (err: Error) => {
      this.dead = err;
      for (const w of this.waiting.values()) w.reject(new StoreWriteError(err, 'update'));
      this.waiting.clear();
    };
    // after close() the thread's end is expected: only an end before it is a failure
    watchThreadEnd(worker, 'the metric store thread', () => this.closed, fail, onFailure);
  }

  /** Ends the thread abruptly, as a fatal fault in it would (tests). */
  async crash(): Promise<void> {
    await this.worker.terminate();
  }

  /** Starts the thread and waits until it has opened the store (its errors are the store's). */
  /** onFailure: the thread ended before close() (an abort, a fault): the store is unusable from then on */
  static async open(path: string, options: Omit<OpenRrdOptions, 'now'> = {}, onFailure?: (err: Error) => void): Promise<ThreadedRrdStore> {
    const { port1, port2 } = new MessageChannel();
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const data: StoreWorkerData = { path, options, flag: flag.buffer as SharedArrayBuffer, sync: port2 };
    const worker = new Worker(workerPath(), { workerData: data, transferList: [port2], resourceLimits: STORE_THREAD_LIMITS });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: StoreWriteReply) => {
        if (m.type === 'opened') {
          worker.off('message', onMessage);
          resolve();
        } else if (m.type === 'open_failed') {
          worker.off('message', onMessage);
          void worker.terminate();
          reject(fromWire(m.error));
        }
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
    return new ThreadedRrdStore(path, worker, port1, flag, onFailure);
  }

  private call<T>(method: string, ...args: unknown[]): T {
    if (this.dead) throw this.dead;
    if (this.closed) throw new Error('the metric store is closed');
    const before = Atomics.load(this.flag, 0);
    this.port.postMessage({ method, args } satisfies SyncCall);
    // The answer is posted before the flag moves: once it has, the message is there to take.
    if (Atomics.wait(this.flag, 0, before, SYNC_TIMEOUT_MS) === 'timed-out' && Atomics.load(this.flag, 0) === before) {
      throw new Error(`the metric store thread did not answer ${method} within ${SYNC_TIMEOUT_MS} ms`);
    }
    const got = receiveMessageOnPort(this.port);
    if (!got) throw new Error(`the metric store thread answered ${method} without a message`);
    const reply = got.message as SyncReply;
    if (!reply.ok) throw fromWire(reply.error);
    return reply.value as T;
  }

  /**
   * A group's new series and its updates, committed on the thread (the series in slices without
   * their own fsync, then one durable updateMany): resolves once durable. Rejects with a
   * StoreWriteError; stage 'create' means none of the group's series and values were stored.
   */
  write(creates: Array<{ name: string; def: SeriesDef; start?: number }>, items: UpdateManyItem[]): Promise<WriteResult> {
    if (this.dead) return Promise.reject(new StoreWriteError(this.dead, 'create'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'write', id, creates, items } satisfies StoreWrite);
    });
  }

  /** the V8 limits the thread runs with (Worker#resourceLimits) */
  get resourceLimits(): Worker['resourceLimits'] {
    return this.worker.resourceLimits;
  }

  /**
   * Every series' name, type, step and last update (the catalog at start), in pages of
   * DESCRIBE_PAGE: each call within the synchronous time limit however large the store.
   */
  describeAll(): SeriesSummary[] {
    const out: SeriesSummary[] = [];
    for (let after = 0; ; ) {
      const page = this.call<{ items: SeriesSummary[]; last: number }>('describe', after, DESCRIBE_PAGE);
      for (const it of page.items) out.push(it);
      if (page.items.length < DESCRIBE_PAGE) return out;
      after = page.last;
    }
  }

  create(name: string, def: SeriesDef, options?: CreateOptions): void {
    this.call('create', name, def, options);
  }
  createMany(items: Array<{ name: string; def: SeriesDef; start?: number }>, options?: { deferSync?: boolean }): void {
    this.call('createMany', items, options);
  }
  update(name: string, args: string[]): void {
    this.call('update', name, args);
  }
  updateMany(items: UpdateManyItem[]): UpdateManyResult {
    const r = this.call<{ accepted: number[]; errors: Array<[number, WireError]> }>('updateManyWire', items);
    return { accepted: r.accepted, errors: new Map(r.errors.map(([i, e]) => [i, fromWire(e)])) };
  }
  fetch(name: string, cf: Cf, opts: { start: number; end: number; resolution?: number }): FetchResult {
    return this.call('fetch', name, cf, opts);
  }
  info(name: string): SeriesInfo {
    return this.call('info', name);
  }
  list(): string[] {
    return this.call('list');
  }
  delete(name: string): boolean {
    return this.call('delete', name);
  }
  deleteMany(names: readonly string[]): number {
    return this.call('deleteMany', names);
  }
  rows(name: string, rra: number): Float64Array {
    return this.call('rows', name, rra);
  }
  restore(name: string, def: SeriesDef, state: SeriesState, rows: Float64Array[]): void {
    this.call('restore', name, def, state, rows);
  }

  /**
   * Closes the store after every write sent so far, without a time limit: closing applies the
   * whole journal (up to the checkpoint threshold, 200,000 updates: a minute on a loaded machine,
   * longer than a synchronous call may wait). The collector closes this way.
   */
  async closeAsync(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.dead) {
      await new Promise<void>((resolve, reject) => {
        const onMessage = (m: StoreWriteReply) => {
          if (m.type === 'closed') resolve();
          else if (m.type === 'close_failed') reject(fromWire(m.error));
          else return;
          this.worker.off('message', onMessage);
        };
        this.worker.on('message', onMessage);
        this.worker.once('exit', () => resolve());
        this.worker.postMessage({ type: 'close' });
      });
    }
    this.port.close();
    await this.worker.terminate();
  }

  /** Applies the journal and closes the store on the thread, then ends it. */
  close(): void {
    if (this.closed) return;
    if (!this.dead) this.call('close');
    this.closed = true;
    this.port.close();
    void this.worker.terminate();
  }
}
