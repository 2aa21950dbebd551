// The metric reads that both stores answer alike: a series' rows as the API gives them, the
// bound on how many rows one read may ask for, and the hosts summary. The SQLite store's catalog
// and a shared store's listing (every collector's series, SharedSeriesStore.describe) go
// through the same functions, so GET /api/v1/series, /api/v1/metrics and /api/v1/metrics/hosts
// answer the same on either backend.
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { MetricType } from '../../shared/wire.js';
import { planFetch } from '../rrd/fetch.js';
import type { Cf, FetchResult, SeriesDef, SeriesState } from '../rrd/types.js';

export interface SeriesEntry {
  host: string;
  metric: string;
  name: string;
  labels: Record<string, string>;
  type: MetricType | string;
  step: number;
  /** seconds since epoch of the last stored sample */
  last_update: number;
}

export interface HostEntry {
  host: string;
  series: number;
  /** ms since epoch: the newest sample time over its series */
  last_sample: number;
  /** ms since epoch: the last ingest request from this host (since the collector started) */
  last_seen: number | null;
  interval_ms: number;
  /** 'active' while samples arrive; 'stale' after three intervals without one (at least 60 s) */
  state: 'active' | 'stale';
}

export interface SeriesData {
  host: string;
  metric: string;
  cf: Cf;
  /** ms */
  step: number;
  /** ms; values[i] covers (start + i·step, start + (i+1)·step] */
  start: number;
  end: number;
  values: Array<number | null>;
}

export const DEFAULT_INTERVAL_MS = 10_000;
/** rows one GET /api/v1/series answers at most (a year of the default layout's hourly rows is 8,784) */
export const MAX_SERIES_ROWS = 100_000;
const STALE_MIN_MS = 60_000;

/** A fetch's arguments in the store's seconds. */
export function fetchArgs(startMs: number, endMs: number, resolutionMs?: number): { start: number; end: number; resolution?: number } {
  return {
    start: Math.floor(startMs / 1000),
    end: Math.floor(endMs / 1000),
    ...(resolutionMs !== undefined ? { resolution: Math.max(1, Math.round(resolutionMs / 1000)) } : {}),
  };
}

/**
 * The archive and row count the fetch will have, before it allocates them: a range of years at
 * the finest archive's 10 s (or start=1&end=9e15 at any) ran the collector out of memory.
 */
export function checkRowCount(info: { def: SeriesDef; state: SeriesState }, cf: Cf, args: { start: number; end: number; resolution?: number }): void {
  const plan = planFetch(info.def, info.state, cf, args.start, args.end, args.resolution ?? 1);
  const rows = (plan.end - plan.start) / plan.step;
  if (rows > MAX_SERIES_ROWS) {
    throw new RingtailError(ErrorCodes.BAD_QUERY, `start..end at the ${plan.step} s archive is ${rows} rows, at most ${MAX_SERIES_ROWS}: ask for a shorter range or a coarser resolution`);
  }
}

/** rrdtool's fetch result as the API gives it: times in ms, unknown rows as null */
export function seriesData(host: string, metric: string, cf: Cf, r: FetchResult): SeriesData {
  return {
    host,
    metric,
    cf,
    step: r.step * 1000,
    start: r.start * 1000,
    end: r.end * 1000,
    values: Array.from({ length: r.rowCount }, (_, i) => {
      const v = r.data[i * r.dsNames.length]!;
      return Number.isNaN(v) ? null : v;
    }),
  };
}

/** entries (last_update in seconds) by host, then metric; with last_update in ms as the API gives it */
export function listed(entries: Iterable<SeriesEntry>, host?: string): SeriesEntry[] {
  const out: SeriesEntry[] = [];
  for (const e of entries) if (host === undefined || e.host === host) out.push({ ...e, last_update: e.last_update * 1000 });
  return out.sort((a, b) => (a.host === b.host ? a.metric.localeCompare(b.metric) : a.host.localeCompare(b.host)));
}

/** The hosts summary over series entries (last_update in seconds) and this collector's last requests. */
export function hostsOf(entries: Iterable<SeriesEntry>, seen: ReadonlyMap<string, { at: number; interval_ms: number }>, now: number): HostEntry[] {
  const by = new Map<string, HostEntry>();
  for (const e of entries) {
    let h = by.get(e.host);
    if (!h) {
      const s = seen.get(e.host);
      by.set(e.host, (h = { host: e.host, series: 0, last_sample: 0, last_seen: s?.at ?? null, interval_ms: s?.interval_ms ?? DEFAULT_INTERVAL_MS, state: 'active' }));
    }
    h.series++;
    h.last_sample = Math.max(h.last_sample, e.last_update * 1000);
  }
  for (const h of by.values()) {
    const quiet = now - Math.max(h.last_sample, h.last_seen ?? 0);
    h.state = quiet > Math.max(3 * h.interval_ms, STALE_MIN_MS) ? 'stale' : 'active';
  }
  return [...by.values()].sort((a, b) => a.host.localeCompare(b.host));
}
