// What the metrics API offers for a host, normalised: GET /api/v1/metrics?host= lists metric
// names, GET /api/v1/series returns { step, start, end, values } with null for unknown.
import { api, qs } from './api.js';

/** Series keys (`cpu.user`, `df.used_pct{mount=/}`) from GET /api/v1/metrics. */
export function metricNames(res) {
  return metricEntries(res).map((m) => m.metric);
}

/** [{ metric, step (ms, the finest archive's) }] */
export function metricEntries(res) {
  const list = Array.isArray(res) ? res : (res?.items ?? []);
  return list
    .map((m) => (typeof m === 'string' ? { metric: m, step: 0 } : { metric: m?.metric ?? m?.name, step: (m?.step ?? 0) * (m?.step < 1000 ? 1000 : 1) }))
    .filter((m) => typeof m.metric === 'string')
    .sort((a, b) => a.metric.localeCompare(b.metric));
}

export async function listMetrics(host, signal) {
  return metricNames(await api('/api/v1/metrics' + qs({ host }), { signal }));
}
export async function listMetricEntries(host, signal) {
  return metricEntries(await api('/api/v1/metrics' + qs({ host }), { signal }));
}

/** What a metric's values measure, from its name: percentages, bytes, or anything else. */
export function unitOf(metric) {
  const name = metric.replace(/\{.*$/, '');
  if (/(_pct|percent)$/.test(name) || /^cpu\./.test(name)) return '%';
  if (/bytes/.test(name) || /^mem(ory)?\./.test(name)) return 'B';
  return '';
}

/** A chart per family (the name's first component) and unit: cpu, memory, df (%), df (B), … */
export function familyOf(metric) {
  const m = /^[^._:/\s{]+/.exec(metric);
  const base = m ? m[0] : metric;
  const unit = unitOf(metric);
  return unit && !/^(cpu|mem|memory)$/.test(base) ? `${base} (${unit})` : base;
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
    cpu: pick([/^cpu\.(usage|util|busy)/i, /^cpu\.user$/i, /^cpu/i, /^load/i]),
    memory: pick([/^mem(ory)?\.used_pct/i, /^mem(ory)?\.used$/i, /^mem/i]),
    disk: pick([/^df\.used_pct\{mount=\/\}$/i, /^df\.used_pct/i, /^(disk|df|fs)\..*used/i, /^df/i]),
  };
}

/** A series as points { x: ms, y } (null y = unknown, drawn as a gap). */
export async function fetchSeries({ host, metric, start, end, cf = 'AVERAGE', resolution }, signal) {
  const res = await api('/api/v1/series' + qs({ host, metric, start: Math.round(start), end: Math.round(end), cf, resolution: resolution && Math.max(1000, Math.round(resolution)) }), { signal });
  // rrdtool speaks seconds, ringtail's API ms: a start before 1e11 (1973 in ms) is in seconds.
  const unit = res.start < 1e11 ? 1000 : 1;
  const step = res.step * unit;
  const s = res.start * unit;
  const points = new Array(res.values.length);
  for (let i = 0; i < res.values.length; i++) {
    const v = res.values[i];
    // a row holds the interval (t - step, t], stamped at its end as rrdtool prints it
    points[i] = { x: s + (i + 1) * step, y: v === null || v === undefined ? null : Number(v) };
  }
  return { step, start: s, end: res.end * unit, cf, points };
}


/**
 * MIN or MAX rows folded onto the AVERAGE line's grid: each displayed interval gets the least
 * (or greatest) of the rows that overlap it, so the band is right whatever archive each came from.
 */
export function foldOnto(grid, step, rows, rowStep, pick) {
  const out = new Array(grid.length);
  let j = 0;
  for (let i = 0; i < grid.length; i++) {
    const hi = grid[i].x;
    const lo = hi - step;
    while (j < rows.length && rows[j].x <= lo) j++;
    let acc = null;
    for (let k = j; k < rows.length && rows[k].x - rowStep < hi; k++) {
      const y = rows[k].y;
      if (y !== null) acc = acc === null ? y : pick(acc, y);
    }
    out[i] = { x: hi, y: acc };
  }
  return out;
}
