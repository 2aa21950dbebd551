// The collector's metric side over the round-robin store: every (host, metric key) is a series
// created on first sight, the requests of one group commit are one durable updateMany, and an
// in-memory catalog (rebuilt from the store at start) answers listings without touching the
// archives.
//
// This class is the SQLite store's (synchronous, on its own thread in the server); a store that
// several collectors share (ClickHouse) is SharedMetricService's (shared-service.ts), which
// plans requests with the same code. The asynchronous reads (listSeries, listHosts, read,
// remove, seedData) are the routes' and alert sources' on either.
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { EventSink } from '../../shared/events.js';
import { MAX_ACK_REASONS, type MetricAck, type MetricBatch } from '../../shared/wire.js';
import { storageUnavailable } from '../ingest/unavailable.js';
import { GroupWriter } from '../ingest/writer.js';
import { asyncRrdStore, type RecentAnswer, type RecentQuery, type SeriesOverview, type SeriesStore } from '../rrd/series-store.js';
import type { Cf, RrdStore, SeriesInfo, UpdateManyItem, UpdateManyResult } from '../rrd/types.js';
import { parseMetricKey, seriesName, splitSeriesName } from './key.js';
import type { Layouts } from './layout.js';
import { checkRowCount, DEFAULT_INTERVAL_MS, fetchArgs, hostsOf, listed, seriesData, type HostEntry, type SeriesData, type SeriesEntry } from './reads.js';
import { SeriesCatalog } from './catalog.js';
import { collect, planRequest, SharedKeys, type NewSeries, type PlanContext, type PlanDeps, type PlannedRequest } from './plan.js';
import { StoreWriteError, ThreadedRrdStore, type WriteResult } from './store-thread.js';
import type { WritePhases } from './store-worker.js';
import { PipelinedWriter } from './pipeline.js';

export { collect, seriesSpan, type NewSeries, type PlannedRequest } from './plan.js';
export { DEFAULT_INTERVAL_MS, MAX_SERIES_ROWS, type HostEntry, type SeriesData, type SeriesEntry } from './reads.js';

/** samples stamped later than this after the collector's clock are rejected (config `metrics.max_future_ms`) */
export const DEFAULT_MAX_FUTURE_MS = 60 * 60 * 1000;
/** metric values per group commit, at most (a request larger than this is a group alone) */
export const MAX_GROUP_VALUES = 20_000;
/**
 * metric values per group with the store on its thread: smaller than MAX_GROUP_VALUES, as each
 * is planned in one turn of the event loop (~25 µs per value on a loaded machine, and 20,000
 * held the loop ~500 ms); groups in flight together are committed together there anyway
 */
export const PIPELINED_GROUP_VALUES = 5_000;
/** groups sent to the store's thread and not answered yet, at most */
export const MAX_GROUPS_IN_FLIGHT = 4;
/**
 * metric values per group of first requests (a host without series yet: each value a new
 * series, ~20-40 µs to create on the thread beside ~1 µs to journal; the thread commits ordinary
 * writes between its slices of CREATE_SLICE creations)
 */
export const PIPELINED_CREATE_VALUES = 2_500;
/** of MAX_GROUPS_IN_FLIGHT, the places groups of first requests may hold */
export const MAX_CREATE_GROUPS_IN_FLIGHT = 2;
/** queued metric values at most before new requests get 503 + Retry-After (as MAX_QUEUED_LINES) */
export const MAX_QUEUED_VALUES = 200_000;

/** A series' recent rows with its last update (ms) and last raw value, for the alert sources. */
export interface SeedData {
  data: SeriesData;
  /** the first data source's type */
  type: string | undefined;
  /** ms since epoch */
  lastUpdate: number;
  /** the last raw value (rrdtool's last_ds; NaN when unknown) */
  lastValue: number;
}

export function lastOf(info: SeriesInfo): Omit<SeedData, 'data'> {
  return { type: info.def.ds[0]?.type, lastUpdate: info.state.lastUp * 1000, lastValue: Number(info.state.ds[0]?.lastDs) };
}


export interface MetricRequest {
  batch: MetricBatch;
  /** ms since epoch: when it was received */
  now: number;
  /** filled in on the way (store on its thread), for the request's Server-Timing */
  timing?: MetricTiming;
}

/** Where a metric request's time went (ms), the route's Server-Timing phases. */
export interface MetricTiming {
  /** performance.now() when submitted */
  submitted: number;
  /** waiting in the writer's queue until its group started */
  queue?: number;
  /** planning its group (validation against the catalog, new series defined) on the event loop */
  plan?: number;
  /** its group's write: sent to the store's thread until the answer was taken on the event loop */
  store?: number;
  /** of `store`, on the thread: waiting there, creating series, the durable updateMany */
  phases?: WritePhases;
  /** performance.now() when its group's answer was taken */
  answered?: number;
}

export interface MetricServiceOptions {
  /** ms; DEFAULT_MAX_FUTURE_MS when absent */
  maxFutureMs?: number;
  /** where series resets are reported */
  events?: EventSink;
  /** MAX_QUEUED_VALUES when absent */
  maxQueuedValues?: number;
}

/** A group's requests' phases (MetricTiming) from its planning start, its send and its answer. */
function timed(reqs: MetricRequest[], began: number, sent: number, res: WriteResult): void {
  const answered = performance.now();
  for (const r of reqs) {
    const t = r.timing;
    if (!t) continue;
    t.queue = began - t.submitted;
    t.plan = sent - began;
    t.store = answered - sent;
    t.phases = res.phases;
    t.answered = answered;
  }
}

export class MetricService {
  private readonly keys = new SharedKeys();
  protected readonly catalog = new SeriesCatalog((metric, name, labels) => this.keys.shared(metric, name, labels));
  private deps: PlanDeps | undefined;
  protected readonly seen = new Map<string, { at: number; interval_ms: number }>();
  /**
   * Series the write on the store's thread is creating or updating right now (store on its
   * thread only). That write creates in slices and serves synchronous calls between them, so a
   * delete of one of these (a host forgotten or purged meanwhile) landed in the middle: later
   * slices created series after their delete (left in the store, unknown to the catalog, and
   * refused as existing when the host reported again) and the write's updates of deleted ones
   * failed, a 500 for the ingest request. Their deletes wait for the write instead.
   */
  private readonly writing = new Set<string>();
  private readonly deleteAfterWrite = new Set<string>();
  readonly maxFutureMs: number;
  protected readonly events: EventSink | undefined;
  private readonly committedListeners: Array<(reqs: MetricRequest[], acks: Array<MetricAck | Error>) => void> = [];

  /**
   * Called after each durable ingest with its requests and answers, whichever path stored them
   * (the store on this thread or on its own): the alert evaluator's recent samples and its
   * evaluation on arrival are fed here.
   */
  onCommitted(fn: (reqs: MetricRequest[], acks: Array<MetricAck | Error>) => void): void {
    this.committedListeners.push(fn);
  }

  /** the series, asynchronously, on either store (the SQLite one answering at once) */
  readonly series: SeriesStore;

  constructor(
    /** the SQLite store (synchronous); a shared store's service has one that holds nothing */
    readonly store: RrdStore,
    protected readonly layouts: Layouts,
    opts: MetricServiceOptions = {},
    /** the series asynchronously (default: `store`'s answers as promises) */
    series?: SeriesStore,
  ) {
    this.maxFutureMs = opts.maxFutureMs ?? DEFAULT_MAX_FUTURE_MS;
    this.events = opts.events;
    this.series = series ?? asyncRrdStore(store);
    const maxQueuedWeight = opts.maxQueuedValues ?? MAX_QUEUED_VALUES;
    this.writer =
      store instanceof ThreadedRrdStore
        ? new PipelinedWriter<MetricRequest, MetricAck>((reqs) => this.ingestManyThreaded(store, reqs), {
            weight: (r) => r.batch.samples.length,
            key: (r) => r.batch.host,
            maxWeight: PIPELINED_GROUP_VALUES,
            maxInFlight: MAX_GROUPS_IN_FLIGHT,
            // a host's first request creates its series: grouped apart so that ordinary ones do not wait for it
            heavy: (r) => this.catalog.seriesOf(r.batch.host) === 0,
            maxHeavyWeight: PIPELINED_CREATE_VALUES,
            maxHeavyInFlight: MAX_CREATE_GROUPS_IN_FLIGHT,
            maxQueuedWeight,
            what: 'the metric batch',
          })
        : new GroupWriter<MetricRequest, MetricAck>(
            async (reqs) => {
              const started = performance.now();
              const acks = await this.commitGroup(reqs);
              return { acks, ms: performance.now() - started };
            },
            { weight: (r) => r.batch.samples.length, maxWeight: MAX_GROUP_VALUES, maxQueuedWeight, what: 'the metric batch' },
          );
    // behind a thread, one call for all (60,000 series are 60,000 round trips otherwise)
    const summaries =
      store instanceof ThreadedRrdStore
        ? store.describeAll()
        : store.list().map((name) => {
            const info = store.info(name);
            return { name, type: info.def.ds[0]?.type ?? null, step: info.def.step, lastUp: info.state.lastUp };
          });
    this.addToCatalog(summaries);
  }

  /**
   * Group commit (the logs' GroupWriter): metric requests of one event-loop turn are stored by
   * one updateMany, one fsync, and each is answered after it, exactly as if alone. With the store
   * on its thread, several groups are on their way at once (pipeline.ts), a host's requests in
   * one of them at a time.
   */
  private readonly writer: GroupWriter<MetricRequest, MetricAck> | PipelinedWriter<MetricRequest, MetricAck>;

  /** Resolves once the request's values are durable; rejects with its own error (503 when saturated). */
  submit(batch: MetricBatch, now: number, timing?: MetricTiming): Promise<MetricAck> {
    try {
      this.writer.admit(batch.samples.length);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.writer.submit(timing ? { batch, now, timing } : { batch, now });
  }

  /** one group commit's answers (a store shared with other collectors commits otherwise: shared-service.ts) */
  protected async commitGroup(reqs: MetricRequest[]): Promise<Array<MetricAck | Error>> {
    return this.store instanceof ThreadedRrdStore ? this.ingestManyThreaded(this.store, reqs) : this.ingestMany(reqs);
  }

  /** waits until everything submitted so far is committed (shutdown) */
  drain(): Promise<void> {
    return this.writer.drain();
  }

  /** One request alone: validated batch in, one durable update out. */
  ingest(batch: MetricBatch, now: number): MetricAck {
    const r = this.ingestMany([{ batch, now }])[0]!;
    if (r instanceof Error) throw r;
    return r;
  }

  /**
   * Requests in, one durable updateMany out, one answer per request: its ack, or its own error
   * (a bad request stores nothing and does not affect the others). Answers are those of the
   * requests applied one after the other: a sample not after its series' last update, stored or
   * planned by an earlier request of the group, is a duplicate. Throws when the commit itself
   * fails: none of the group's values is stored (series it created stay, empty).
   */
  ingestMany(reqs: MetricRequest[]): Array<MetricAck | Error> {
    const planned = new Map<string, number>();
    const plans = reqs.map((r) => {
      try {
        return this.plan(r.batch, planned, r.now);
      } catch (err) {
        // A store failure while creating series (a full disk) is the collector's, not the client's.
        if (err instanceof RingtailError) return err;
        return storageUnavailable("the metric batch's new series", err);
      }
    });
    const { items, owner } = collect(plans);
    const res = items.length > 0 ? this.store.updateMany(items) : { accepted: [], errors: new Map<number, Error>() };
    return this.answer(reqs, plans, items, owner, res);
  }

  /**
   * ingestMany with the store on its own thread: the group is validated and planned here (the
   * catalog lives on this thread), its new series and updates are committed there, and the
   * answers are given once that commit is durable. Creation is part of the group's write, so a
   * failure to create fails the whole group (a 503 for each request; nothing of it stored) and
   * takes its planned series out of the catalog again.
   */
  async ingestManyThreaded(store: ThreadedRrdStore, reqs: MetricRequest[]): Promise<Array<MetricAck | Error>> {
    const began = performance.now();
    const planned = new Map<string, number>();
    const creates: NewSeries[] = [];
    const plans = reqs.map((r) => {
      try {
        return this.plan(r.batch, planned, r.now, { creates });
      } catch (err) {
        if (err instanceof RingtailError) return err;
        return storageUnavailable("the metric batch's new series", err);
      }
    });
    const { items, owner } = collect(plans);
    let res: UpdateManyResult;
    // a host is in one group in flight at a time (pipeline.ts): these names are this group's alone
    const mine = [...creates.map((c) => c.name), ...items.map((i) => i.series)];
    for (const n of mine) this.writing.add(n);
    const sent = performance.now();
    try {
      const written = await store.write(creates, items);
      timed(reqs, began, sent, written);
      res = written;
    } catch (err) {
      if (!(err instanceof StoreWriteError) || err.stage === 'create') for (const c of creates) this.catalog.delete(c.name);
      throw err instanceof StoreWriteError ? err.error : err;
    } finally {
      for (const name of mine) {
        this.writing.delete(name);
        if (!this.deleteAfterWrite.delete(name)) continue;
        if (!this.catalog.has(name)) store.delete(name);
      }
    }
    // a request whose host was withdrawn during the write is answered as stored (it was, and
    // then deleted with the rest of the host, as if it had come just before the forget)
    return this.answer(reqs, plans, items, owner, res);
  }

  protected addToCatalog(summaries: Iterable<SeriesOverview>, catalog: { set(name: string, e: SeriesEntry): unknown } = this.catalog): void {
    for (const { name, type, step, lastUp } of summaries) {
      const split = splitSeriesName(name);
      const key = split && parseMetricKey(split.key);
      if (!split || !key) continue; // not one of ours (created with `ringtail rrd`)
      if (!type) continue;
      const k = this.keys.shared(split.key, key.name, key.labels);
      catalog.set(name, { host: split.host, metric: k.metric, name: k.name, labels: k.labels, type, step, last_update: lastUp });
    }
  }

  /** One answer per request from the store's result (the catalog's last updates follow it). */
  protected answer(reqs: MetricRequest[], plans: Array<PlannedRequest | Error>, items: UpdateManyItem[], owner: number[], res: UpdateManyResult): Array<MetricAck | Error> {
    const acks = plans.map((p): MetricAck | Error => {
      if (p instanceof Error) return p;
      const ack: MetricAck = { accepted: 0, duplicates: p.duplicates, created: p.created };
      if (p.rejected.length > 0) {
        ack.rejected = p.rejected.length;
        ack.reasons = p.rejected.slice(0, MAX_ACK_REASONS);
      }
      return ack;
    });
    const failed = new Map<number, Error>();
    items.forEach((item, i) => {
      const n = res.accepted[i] ?? 0;
      const ack = acks[owner[i]!] as MetricAck;
      ack.accepted += n;
      if (n > 0) this.catalog.setLastUpdate(item.series, Number(item.args[n - 1]!.split(':')[0]));
      const err = res.errors.get(i);
      // Validation makes this a store failure, not a client mistake; what was accepted is
      // durable and a retry is recognised as duplicates.
      if (err && !failed.has(owner[i]!)) failed.set(owner[i]!, new RingtailError(ErrorCodes.STORAGE, `storing '${item.series}': ${err.message}`, 500));
    });
    reqs.forEach((r, k) => {
      if (!(plans[k] instanceof Error)) this.seen.set(r.batch.host, { at: r.now, interval_ms: r.batch.interval_ms ?? DEFAULT_INTERVAL_MS });
    });
    const out = acks.map((a, k) => failed.get(k) ?? a);
    for (const fn of this.committedListeners) fn(reqs, out);
    return out;
  }

  /** planRequest (plan.ts) on this service's catalog and store */
  protected plan(batch: MetricBatch, planned: Map<string, number>, now: number, ctx: PlanContext = {}): PlannedRequest {
    this.deps ??= { catalog: this.catalog, keys: this.keys, layouts: this.layouts, store: this.store, events: this.events, maxFutureMs: this.maxFutureMs };
    return planRequest(this.deps, batch, planned, now, ctx);
  }

  /** Series updated beyond `now` + max_future (reported at start; see resettable). */
  poisonedSeries(now: number): SeriesEntry[] {
    const out: SeriesEntry[] = [];
    for (const e of this.catalog.values()) if (e.last_update * 1000 > now + this.maxFutureMs) out.push({ ...e, last_update: e.last_update * 1000 });
    return out;
  }

  list(host?: string): SeriesEntry[] {
    return listed(host === undefined ? this.catalog.values() : this.catalog.ofHost(host), host);
  }

  hosts(now: number): HostEntry[] {
    return hostsOf(this.catalog.values(), this.seen, now);
  }

  /** rrdtool fetch of one series; times in ms, unknown rows as null. Null when the series does not exist. */
  fetch(host: string, metric: string, cf: Cf, startMs: number, endMs: number, resolutionMs?: number): SeriesData | null {
    const name = seriesName(host, metric);
    if (!this.catalog.has(name)) return null;
    const args = fetchArgs(startMs, endMs, resolutionMs);
    checkRowCount(this.store.info(name), cf, args);
    return seriesData(host, metric, cf, this.store.fetch(name, cf, args));
  }

  // The asynchronous forms the routes and the alert sources use, on either store (a shared
  // store's service answers them from the store: shared-service.ts).

  /** list(), on either store */
  async listSeries(host?: string): Promise<SeriesEntry[]> {
    return this.list(host);
  }

  /** hosts(), on either store (last_seen: requests to this collector) */
  async listHosts(now: number): Promise<HostEntry[]> {
    return this.hosts(now);
  }

  /** fetch(), on either store */
  async read(host: string, metric: string, cf: Cf, startMs: number, endMs: number, resolutionMs?: number): Promise<SeriesData | null> {
    return this.fetch(host, metric, cf, startMs, endMs, resolutionMs);
  }

  /** withdraw(), on either store */
  async remove(host: string, metric?: string): Promise<number> {
    return this.withdraw(host, metric);
  }

  /**
   * What the alert sources seed a series from (collector/alerts/metric-sources.ts): its rows
   * from `startMs`, and its last update and last raw value. At once from the SQLite store; a
   * promise from a shared one. Null when the series does not exist.
   */
  seedData(host: string, metric: string, startMs: number, endMs: number): SeedData | null | Promise<SeedData | null> {
    const data = this.fetch(host, metric, 'AVERAGE', startMs, endMs);
    return data && { data, ...lastOf(this.store.info(seriesName(host, metric))) };
  }

  /**
   * What other collectors sharing the store wrote lately (SeriesStore.recent), leaving out the
   * hosts this one consolidates; null when the store is this collector's alone (SQLite), whose
   * every series its own ingest feeds.
   */
  remoteRecent(_q: Omit<RecentQuery, 'except'>): Promise<RecentAnswer> | null {
    return null;
  }

  /** those of `hosts` that have a series in the store */
  async hostsWithSeries(hosts: readonly string[]): Promise<Set<string>> {
    const want = new Set(hosts);
    const out = new Set<string>();
    for (const e of this.catalog.values()) if (want.has(e.host)) out.add(e.host);
    return out;
  }

  /**
   * Withdraws a host: its series and archives are deleted. With `metric` (a key), only that
   * series: the way to reset one updated in the far future (its next sample creates it again).
   */
  withdraw(host: string, metric?: string): number {
    // series a group in flight writes are deleted once it is answered (deleteAfterWrite)
    const now: string[] = [];
    const afterWrite: string[] = [];
    for (const e of this.catalog.ofHost(host)) {
      if (metric !== undefined && e.metric !== metric) continue;
      const name = seriesName(host, e.metric);
      (this.writing.has(name) ? afterWrite : now).push(name);
    }
    // one commit for the host's series, not one each (sqlite-store.ts deleteMany); the catalog
    // keeps them if it fails
    if (now.length > 0) this.store.deleteMany(now);
    for (const name of afterWrite) this.deleteAfterWrite.add(name);
    for (const name of now) this.catalog.delete(name);
    for (const name of afterWrite) this.catalog.delete(name);
    if (metric === undefined) this.seen.delete(host);
    return now.length + afterWrite.length;
  }
}
