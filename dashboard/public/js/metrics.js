// What the metrics API offers for a host, normalised: GET /api/v1/metrics?host= lists metric
// names, GET /api/v1/series returns { step, start, end, values } with null for unknown.
import { api, qs } from './api.js';

/** Metric names from whatever list shape the API returns (strings or objects with a name). */
export function metricNames(res) {
  const list = Array.isArray(res) ? res : (res?.items ?? res?.metrics ?? []);
  return list
    .map((m) => (typeof m === 'string' ? m : (m?.metric ?? m?.name ?? m?.id)))
    .filter((m) => typeof m === 'string')
    .sort();
}

export async function listMetrics(host, signal) {
  return metricNames(await api('/api/v1/metrics' + qs({ host }), { signal }));
}

/** The family of a metric is its first name component: cpu.user → cpu, disk./ .used → disk. */
export function familyOf(metric) {
  const m = /^[^._:/\s]+/.exec(metric);
  return m ? m[0] : metric;
}

export function groupFamilies(names) {
  const fam = new Map();
  for (const n of names) {
    const f = familyOf(n);
    if (!fam.has(f)) fam.set(f, []);
    fam.get(f).push(n);
  }
  return fam;
}

/** For the overview: the one CPU, memory and disk metric worth a sparkline, by name. */
export function headlineMetrics(names) {
  const pick = (patterns) => {
    for (const re of patterns) {
      const hit = names.find((n) => re.test(n));
      if (hit) return hit;
    }
    return null;
  };
  return {
    cpu: pick([/^cpu[._]?(usage|util|busy|percent|used)/i, /^cpu[._]?user/i, /^cpu/i, /load/i]),
    memory: pick([/^mem(ory)?[._]?(used[._]?(percent|pct|ratio))/i, /^mem(ory)?[._]?(used|usage|util)/i, /^mem/i]),
    disk: pick([/^(disk|df|fs|filesystem)[._]?.*(used[._]?(percent|pct|ratio))/i, /^(disk|df|fs|filesystem)[._]?.*used/i, /^(df|fs|filesystem)/i, /^disk/i]),
  };
}

/** A series as points { x: ms, y } (null y = unknown, drawn as a gap). */
export async function fetchSeries({ host, metric, start, end, cf = 'AVERAGE' }, signal) {
  const res = await api('/api/v1/series' + qs({ host, metric, start, end, cf }), { signal });
  // rrdtool speaks seconds, ringtail's API ms: a start before 1e11 (1973 in ms) is in seconds.
  const unit = res.start < 1e11 ? 1000 : 1;
  const step = res.step * unit;
  const s = res.start * unit;
  const points = new Array(res.values.length);
  for (let i = 0; i < res.values.length; i++) {
    const v = res.values[i];
    points[i] = { x: s + i * step, y: v === null || v === undefined ? null : Number(v) };
  }
  return { step, start: s, end: res.end * unit, cf, points };
}

