// Planning one metric request against the series catalog: its samples validated (a malformed
// request is refused whole before anything is written), grouped per series in time order,
// duplicates and far-future samples set aside, and its new series defined. Both services plan
// with it (service.ts for the SQLite store, shared-service.ts for a store several collectors
// share); what the store then does with the plan is theirs.
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { EventSink } from '../../shared/events.js';
import { RESERVED_LABEL_KEYS, type MetricBatch, type MetricRejectReason, type MetricType } from '../../shared/wire.js';
import type { RrdStore, SeriesDef, UpdateManyItem } from '../rrd/types.js';
import { metricKey, seriesName } from './key.js';
import type { Layouts } from './layout.js';
import type { SeriesCatalog } from './catalog.js';
import type { SeriesEntry } from './reads.js';

interface Rejection {
  path: string;
  reason: MetricRejectReason;
  message: string;
}

export interface PlannedRequest {
  items: UpdateManyItem[];
  duplicates: number;
  created: number;
  rejected: Rejection[];
}

export interface NewSeries {
  name: string;
  def: SeriesDef;
  start: number;
}

/** What plan() leaves to its caller instead of doing it at once (a store off this thread or asynchronous). */
export interface PlanContext {
  /** new series to create (otherwise created at once) */
  creates?: NewSeries[];
  /** series to delete before the group's writes (otherwise deleted at once) */
  deletes?: string[];
  /** archive spans (seconds) of series that may be reset, read beforehand (otherwise from the store) */
  spans?: Map<string, number>;
}

/** The group's updates in request order, with the request each belongs to. */
export function collect(plans: Array<PlannedRequest | Error>): { items: UpdateManyItem[]; owner: number[] } {
  const items: UpdateManyItem[] = [];
  const owner: number[] = [];
  plans.forEach((p, k) => {
    if (p instanceof Error) return;
    for (const it of p.items) {
      items.push(it);
      owner.push(k);
    }
  });
  return { items, owner };
}


/** A series' archives reach back this many seconds from its last update, at most. */
export function seriesSpan(def: { step: number; rra: Array<{ pdpPerRow: number; rows: number }> }): number {
  return Math.max(0, ...def.rra.map((r) => def.step * r.pdpPerRow * r.rows));
}


/**
 * One key string, name and labels object per metric key, shared by every host's series of it:
 * a fleet's 180,000 series are a few hundred keys, and each entry had its own copies from its
 * request's JSON (labels are never modified once parsed).
 */
export class SharedKeys {
  private readonly keys = new Map<string, { metric: string; name: string; labels: Record<string, string> }>();

  shared(metric: string, name: string, labels: Record<string, string>): { metric: string; name: string; labels: Record<string, string> } {
    let k = this.keys.get(metric);
    if (!k) {
      // bounded: keys of series long deleted are not kept forever
      if (this.keys.size >= 100_000) this.keys.clear();
      this.keys.set(metric, (k = { metric, name, labels }));
    }
    return k;
  }
}

/** What planning reads and changes: the service's catalog and its store. */
export interface PlanDeps {
  catalog: SeriesCatalog;
  keys: SharedKeys;
  layouts: Layouts;
  store: RrdStore;
  events: EventSink | undefined;
  maxFutureMs: number;
}

/**
 * Validates one request and creates its new series; returns the updates it adds. `planned`:
 * the last time per series that earlier requests of the group will store. With `creates`, the
 * new series are added to it for the caller to create (with the store on its own thread).
 */
export function planRequest(d: PlanDeps, batch: MetricBatch, planned: Map<string, number>, now: number, ctx: PlanContext = {}): PlannedRequest {
  const groups = new Map<string, { key: string; name: string; labels: Record<string, string>; type: MetricType; args: Array<[number, string, number]> }>();
  const rejected: Rejection[] = [];
  const horizon = now + d.maxFutureMs;
  batch.samples.forEach((s, i) => {
    if ((s.type === 'COUNTER' || s.type === 'DERIVE') && !Number.isSafeInteger(s.value)) {
      throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/samples/${i}/value: ${s.type} values must be integers, got ${s.value}`);
    }
    if (s.type === 'COUNTER' && s.value < 0) {
      throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/samples/${i}/value: COUNTER values cannot be negative, got ${s.value}`);
    }
    for (const k of Object.keys(s.labels ?? {})) {
      if (RESERVED_LABEL_KEYS.includes(k)) {
        throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/samples/${i}/labels/${k}: label key '${k}' is reserved (${RESERVED_LABEL_KEYS.join(', ')} mean something to JavaScript objects)`);
      }
    }
    const key = metricKey(s.name, s.labels);
    const series = seriesName(batch.host, key);
    const known = d.catalog.get(series);
    if (known && known.type !== s.type) {
      throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/samples/${i}: series '${key}' of host '${batch.host}' is ${known.type}, the sample says ${s.type}`);
    }
    let g = groups.get(series);
    if (!g) groups.set(series, (g = { key, name: s.name, labels: s.labels ?? {}, type: s.type, args: [] }));
    else if (g.type !== s.type) throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/samples/${i}: series '${key}' appears as ${g.type} and as ${s.type}`);
    // After the checks above, so that a malformed request is still refused whole. A value at a
    // time nobody has reached cannot be moved to the present without inventing a measurement,
    // and stored it would make every real sample a duplicate until that time (rrdtool accepts
    // no update before its last one).
    if (s.ts > horizon) {
      rejected.push({ path: `samples/${i}/ts`, reason: 'future', message: `${s.ts} is ${s.ts - now} ms after the collector's clock (${now}); at most ${d.maxFutureMs} ms ahead are accepted` });
      return;
    }
    g.args.push([Math.floor(s.ts / 1000), String(s.value), i]);
  });

  // Per series in time order; one second is the store's resolution, two samples in it are a client error.
  let duplicates = 0;
  const items: UpdateManyItem[] = [];
  const news: Array<{ series: string; g: { key: string; name: string; labels: Record<string, string>; type: MetricType }; first: number }> = [];
  const lasts: Array<[string, number]> = [];
  const resets: SeriesEntry[] = [];
  for (const [series, g] of groups) {
    g.args.sort((a, b) => a[0] - b[0]);
    for (let j = 1; j < g.args.length; j++) {
      if (g.args[j]![0] === g.args[j - 1]![0]) {
        throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/samples: two samples of '${g.key}' in second ${g.args[j]![0]}`);
      }
    }
    if (g.args.length === 0) continue;
    let known = d.catalog.get(series);
    if (known && !planned.has(series) && known.last_update * 1000 > horizon) {
      // Updated in the far future before that was refused (or by a clock since set back):
      // every real sample would be a duplicate until then. See poisonedSeries().
      if (resettable(d, known, now, ctx.spans)) {
        resets.push(known);
        known = undefined;
      } else {
        for (const [, , i] of g.args) {
          rejected.push({
            path: `samples/${i}/ts`,
            reason: 'series_in_future',
            message: `series '${g.key}' of host '${batch.host}' was last updated at ${known.last_update * 1000}, after the collector's clock (${now}) + ${d.maxFutureMs} ms; an admin can reset it with DELETE /api/v1/metrics?host=&metric=`,
          });
        }
        continue;
      }
    }
    const last = planned.get(series) ?? known?.last_update ?? -Infinity;
    const fresh = g.args.filter(([t]) => t > last);
    duplicates += g.args.length - fresh.length;
    if (fresh.length === 0) continue;
    if (!known) news.push({ series, g, first: fresh[0]![0] });
    items.push({ series, args: fresh.map(([t, v]) => `${t}:${v}`) });
    lasts.push([series, fresh[fresh.length - 1]![0]]);
  }

  // Nothing is written before the whole request is known to be valid; its new series go in one
  // commit, made durable by the group's updateMany (every new series has values in it) before
  // any answer.
  for (const e of resets) {
    if (ctx.deletes) ctx.deletes.push(seriesName(e.host, e.metric));
    else d.store.delete(seriesName(e.host, e.metric));
    d.catalog.delete(seriesName(e.host, e.metric));
    d.events?.emit('host_metrics.series_reset', { host: e.host, metric: e.metric, last_update: e.last_update * 1000, now }, 'warn');
  }
  const defs = news.map((c) => d.layouts.define(c.g.name, c.g.type, batch.interval_ms));
  const made = news.map((c, i) => ({ name: c.series, def: defs[i]!, start: c.first - 1 }));
  if (ctx.creates) ctx.creates.push(...made);
  else if (made.length > 0) d.store.createMany(made, { deferSync: true });
  news.forEach((c, i) => {
    const k = d.keys.shared(c.g.key, c.g.name, c.g.labels);
    d.catalog.set(c.series, { host: batch.host, metric: k.metric, name: k.name, labels: k.labels, type: c.g.type, step: defs[i]!.step, last_update: c.first - 1 });
  });
  for (const [series, t] of lasts) planned.set(series, t);
  return { items, duplicates, created: news.length, rejected };
}

/**
 * A series whose last update lies beyond the clock by more than every archive's span holds
 * nothing measured any more: each archive covers only (last update − span, last update], all of
 * it after every real sample, so the update that got there filled them with unknowns. Such a
 * series is recreated on its next sample (rrdtool could do no better than `create` again).
 * One that is less far ahead still holds real history in its longer archives: it is left to an
 * admin (DELETE /api/v1/metrics?host=&metric=), and its samples are rejected with the reason.
 */
function resettable(d: PlanDeps, e: SeriesEntry, now: number, spans?: Map<string, number>): boolean {
  const name = seriesName(e.host, e.metric);
  return e.last_update - Math.floor(now / 1000) >= (spans?.get(name) ?? seriesSpan(d.store.info(name).def));
}

