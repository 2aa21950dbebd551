// Alert data from the collector's metric series (collector/metrics over the round-robin store):
// windows consolidated from rrdtool fetch rows, and check results from the last raw value a
// series received (rrdtool's last_ds), so a dead process is seen at the agent's next sample
// rather than when the step's row completes.
import { metricKey, seriesName } from '../metrics/key.js';
import type { MetricService } from '../metrics/service.js';
import type { AlertSources, CF, HostSeen } from './sources.js';

export type MetricSources = Pick<AlertSources, 'seriesWindow' | 'seriesLastUpdate' | 'checkStatus'> & { hosts(now: number): HostSeen[] };

/** Check metrics as the agent names them (agent/checks/): value < 1 means down. */
const CHECK_SERIES = ['check.process.count', 'check.http.up', 'check.tcp.up'];
/** A last value older than this many steps (and at least a minute) counts as no data. */
const FRESH_STEPS = 3;

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

export function metricServiceSources(svc: MetricService): MetricSources {
  const lastValue = (host: string, key: string, now: number): number | null => {
    let info;
    try {
      info = svc.store.info(seriesName(host, key));
    } catch {
      return null;
    }
    const fresh = Math.max(FRESH_STEPS * info.def.step * 1000, 60_000);
    if (now - info.state.lastUp * 1000 > fresh) return null;
    const v = Number(info.state.ds[0]?.lastDs);
    return Number.isFinite(v) ? v : null;
  };
  return {
    hosts(now) {
      return svc.hosts(now).map((h) => ({ host: h.host, lastSeen: Math.max(h.last_sample, h.last_seen ?? 0) || null }));
    },
    seriesWindow(host, metric, cf, windowSec, now) {
      if (cf === 'LAST') return lastValue(host, metric, now);
      let data;
      try {
        data = svc.fetch(host, metric, cf, now - windowSec * 1000, now);
      } catch {
        return null;
      }
      return data ? consolidate(data.values, cf) : null;
    },
    seriesLastUpdate(host, metric) {
      try {
        return svc.store.info(seriesName(host, metric)).state.lastUp * 1000;
      } catch {
        return null; // no such series
      }
    },
    checkStatus(host, check, now) {
      // the agent's label sanitising (agent/metrics/types.ts labelValue)
      const label = check.replace(/[{},=\s"\\]/g, '_').slice(0, 256);
      for (const name of CHECK_SERIES) {
        const v = lastValue(host, metricKey(name, { check: label }), now);
        if (v !== null) return v < 1 ? 'down' : 'up';
      }
      return null;
    },
  };
}
