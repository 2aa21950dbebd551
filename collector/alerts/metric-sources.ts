// Alert data from the collector's metric series (collector/metrics over the round-robin store).
// Windows and check results are read from the recent samples kept in memory (recent-samples.ts);
// a series not seen since the collector started is seeded once from the store (rrdtool fetch rows
// and the last raw value, last_ds), so a restart neither loses a firing metric alert nor makes
// every cycle pay for fetches.
import type { MetricService } from '../metrics/service.js';
import { metricKey, seriesName } from '../metrics/key.js';
import type { RecentSamples } from './recent-samples.js';
import type { AlertSources, CF, HostSeen } from './sources.js';

export type MetricSources = Pick<AlertSources, 'seriesWindow' | 'seriesLastUpdate' | 'checkStatus'> & { hosts(now: number): HostSeen[] };

/** Check metrics as the agent names them (agent/checks/): value < 1 means down. */
const CHECK_SERIES = ['check.process.count', 'check.http.up', 'check.tcp.up'];
/** A last value older than this many intervals (and at least a minute) counts as no data. */
const FRESH_INTERVALS = 3;
/** How far back a series is seeded from the store. */
const SEED_MS = 15 * 60_000;
/** Store reads per evaluation cycle are bounded (a fetch costs ~1 ms): the rest waits a cycle. */
const SEED_BUDGET_MS = 200;

export function consolidate(values: Array<number | null>, cf: CF): number | null {
  const known = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  if (known.length === 0) return null;
  switch (cf) {
    case 'AVERAGE':
      return known.reduce((a, b) => a + b, 0) / known.length;
    case 'MIN':
      return Math.min(...known);
    case 'MAX':
      return Math.max(...known);
    case 'LAST':
      return known[known.length - 1]!;
  }
}

export function metricServiceSources(svc: MetricService, recent: RecentSamples, budgetMs = SEED_BUDGET_MS): MetricSources {
  let budgetAt = -1;
  let spent = 0;
  /** false when the series is not in memory and this cycle's budget for store reads is spent */
  const seed = (host: string, key: string, now: number): boolean => {
    if (recent.has(host, key)) return true;
    if (now !== budgetAt) {
      budgetAt = now;
      spent = 0;
    }
    if (spent > 0 && spent >= budgetMs) return false; // at least one read per cycle, so it always progresses
    const started = performance.now();
    const points: Array<{ t: number; v: number }> = [];
    let step = 10_000;
    try {
      const data = svc.fetch(host, key, 'AVERAGE', now - SEED_MS, now);
      if (data) {
        step = data.step;
        data.values.forEach((v, i) => {
          if (v !== null) points.push({ t: data.start + (i + 1) * data.step, v });
        });
        const info = svc.store.info(seriesName(host, key));
        const last = Number(info.state.ds[0]?.lastDs);
        const at = info.state.lastUp * 1000;
        // For a gauge the last raw value is the freshest truth (a check that just read 0).
        if (info.def.ds[0]?.type === 'GAUGE' && Number.isFinite(last) && at > (points[points.length - 1]?.t ?? -Infinity)) points.push({ t: at, v: last });
      }
    } catch {
      // a series the store cannot read counts as no data
    }
    recent.seed(host, key, points, step);
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
      return svc.hosts(now).map((h) => ({ host: h.host, lastSeen: Math.max(h.last_sample, h.last_seen ?? 0) || null }));
    },
    seriesWindow(host, metric, cf, windowSec, now) {
      if (!seed(host, metric, now)) return undefined;
      return consolidate(recent.window(host, metric, now - windowSec * 1000, now), cf);
    },
    seriesLastUpdate(host, metric, now) {
      if (!seed(host, metric, now)) return undefined;
      return recent.last(host, metric)?.t ?? null;
    },
    checkStatus(host, check, now) {
      // the agent's label sanitising (agent/metrics/types.ts labelValue)
      const label = check.replace(/[{},=\s"\\]/g, '_').slice(0, 256);
      for (const name of CHECK_SERIES) {
        const v = fresh(host, metricKey(name, { check: label }), now);
        if (v === undefined) return undefined;
        if (v !== null) return v < 1 ? 'down' : 'up';
      }
      return null;
    },
  };
}
