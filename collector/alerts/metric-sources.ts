// Alert data from the collector's metric series (collector/metrics over the round-robin store).
// Windows and check results are read from the recent samples kept in memory (recent-samples.ts);
// a series not seen since the collector started is seeded once from the store (rrdtool fetch rows
// and the last raw value, last_ds), so a restart neither loses a firing metric alert nor makes
// every cycle pay for fetches.
//
// The seed comes through MetricService.seedData, at once from the SQLite store and as a promise
// from a shared one (ClickHouse): a seed in flight makes the series' sources answer `undefined`
// (not yet: the evaluator tries again next cycle), as a seed over this cycle's budget does.
import type { MetricService, SeedData } from '../metrics/service.js';
import { metricKey } from '../metrics/key.js';
import type { RecentSamples } from './recent-samples.js';
import { consolidate } from './consolidate.js';
import type { AlertSources, CheckOptions, HostSeen } from './sources.js';

export { consolidate };

export type MetricSources = Pick<AlertSources, 'seriesWindow' | 'seriesLastUpdate' | 'seriesPoints' | 'seriesKeys' | 'checkStatus'> & {
  hosts(now: number): HostSeen[];
};

/** Check metrics as the agent names them (agent/checks/): value < 1 means down. */
export const CHECK_SERIES = { process: 'check.process.count', http: 'check.http.up', tcp: 'check.tcp.up' } as const;
const ALL_CHECK_TYPES = ['process', 'http', 'tcp'] as const;

/** A check is down when its last `samples` results all are (fewer results than that: not yet). */
export function checkVerdict(last: readonly number[], samples: number): 'up' | 'down' {
  return last.length >= samples && last.slice(-samples).every((v) => v < 1) ? 'down' : 'up';
}
/** A last value older than this many intervals (and at least a minute) counts as no data. */
const FRESH_INTERVALS = 3;
/** How far back a series is seeded from the store. */
const SEED_MS = 15 * 60_000;
/** Store reads per evaluation cycle are bounded (a fetch costs ~1 ms): the rest waits a cycle. */
const SEED_BUDGET_MS = 200;
/** Seeds in flight at once from a shared store (each is two queries): the rest wait a cycle. */
const SEEDS_IN_FLIGHT = 16;

export function metricServiceSources(
  svc: MetricService,
  recent: RecentSamples,
  budgetMs = SEED_BUDGET_MS,
  /** hosts other collectors consolidate, with their newest update (ms): remote-series.ts */
  remoteHosts?: ReadonlyMap<string, number>,
): MetricSources {
  let budgetAt = -1;
  let spent = 0;
  /** series whose seed from a shared store has not come back yet */
  const inFlight = new Set<string>();
  const put = (host: string, key: string, seed: SeedData | null): void => {
    const points: Array<{ t: number; v: number }> = [];
    let step = 10_000;
    if (seed) {
      const { data } = seed;
      step = data.step;
      data.values.forEach((v, i) => {
        if (v !== null) points.push({ t: data.start + (i + 1) * data.step, v });
      });
      // For a gauge the last raw value is the freshest truth (a check that just read 0).
      if (seed.type === 'GAUGE' && Number.isFinite(seed.lastValue) && seed.lastUpdate > (points[points.length - 1]?.t ?? -Infinity)) points.push({ t: seed.lastUpdate, v: seed.lastValue });
    }
    recent.seed(host, key, points, step);
  };
  /** false when the series is not in memory and this cycle's budget for store reads is spent */
  const seed = (host: string, key: string, now: number): boolean => {
    if (recent.has(host, key)) return true;
    const id = `${host}\u0000${key}`;
    if (inFlight.has(id)) return false;
    if (now !== budgetAt) {
      budgetAt = now;
      spent = 0;
    }
    if (spent > 0 && spent >= budgetMs) return false; // at least one read per cycle, so it always progresses
    if (inFlight.size >= SEEDS_IN_FLIGHT) return false;
    const started = performance.now();
    let got: ReturnType<MetricService['seedData']>;
    try {
      got = svc.seedData(host, key, now - Math.max(SEED_MS, recent.keepMs()), now);
    } catch {
      got = null; // a series the store cannot read counts as no data
    }
    if (got instanceof Promise) {
      inFlight.add(id);
      got.then(
        (s) => put(host, key, s),
        () => undefined, // unreadable now (ClickHouse away): tried again next cycle
      ).finally(() => inFlight.delete(id));
      spent += performance.now() - started;
      return false;
    }
    put(host, key, got);
    spent += performance.now() - started;
    return true;
  };
  const fresh = (host: string, key: string, now: number): number | null | undefined => {
    if (!seed(host, key, now)) return undefined;
    const last = recent.last(host, key);
    if (!last || Number.isNaN(last.v)) return null;
    return now - last.t > Math.max(FRESH_INTERVALS * last.intervalMs, 60_000) ? null : last.v;
  };
  return {
    hosts(now) {
      const out = svc.hosts(now).map((h) => ({ host: h.host, lastSeen: Math.max(h.last_sample, h.last_seen ?? 0) || null }));
      if (!remoteHosts || remoteHosts.size === 0) return out;
      const by = new Map(out.map((h) => [h.host, h]));
      for (const [host, at] of remoteHosts) {
        const h = by.get(host);
        if (!h) out.push({ host, lastSeen: at });
        else if (h.lastSeen === null || at > h.lastSeen) h.lastSeen = at;
      }
      return out;
    },
    seriesWindow(host, metric, cf, windowSec, now, minSpanMs = 0) {
      if (!seed(host, metric, now)) return undefined;
      return recent.consolidated(host, metric, now - windowSec * 1000, now, cf, minSpanMs);
    },
    seriesLastUpdate(host, metric, now) {
      if (!seed(host, metric, now)) return undefined;
      return recent.last(host, metric)?.t ?? null;
    },
    seriesPoints(host, metric, windowSec, now) {
      if (!seed(host, metric, now)) return undefined;
      return recent.points(host, metric, now - windowSec * 1000, now);
    },
    seriesKeys(host, name) {
      return recent.keysOf(host, name);
    },
    checkStatus(host, check, now, opts: CheckOptions = {}) {
      // the agent's label sanitising (agent/metrics/types.ts labelValue)
      const label = check.replace(/[{},=\s"\\]/g, '_').slice(0, 256);
      for (const type of opts.types ?? ALL_CHECK_TYPES) {
        const key = metricKey(CHECK_SERIES[type], { check: label });
        const v = fresh(host, key, now);
        if (v === undefined) return undefined;
        if (v !== null) return (opts.samples ?? 1) <= 1 ? (v < 1 ? 'down' : 'up') : checkVerdict(recent.lastN(host, key, opts.samples!), opts.samples!);
      }
      return null;
    },
  };
}
