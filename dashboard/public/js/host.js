// Host page: one chart per metric family over the chosen range, thresholds from the host's
// alert rules, zoom by dragging (refetching a finer archive), double-click to go back, and the
// whole view (range or from/to) kept in the URL. With no range asked for, a host younger than
// the default day opens on its life so far (ranges.js). Its lifecycle events are listed below.
import { api, available, qs, tryApi } from './api.js';
import { activeAlerts, listRules, ruleAppliesTo, ruleEnabled, ruleLevels, ruleMetric } from './alerts-api.js';
import { chartGroup, loadChartJs, timeChart } from './charts.js';
import { h, link } from './dom.js';
import { ago, fmtTime, fromLocalInput, toLocalInput } from './format.js';
import { eventsSection, loadEvents } from './host-events.js';
import { hasLifecycle, hostState } from './host-state.js';
import { fetchSeries, foldOnto, groupFamilies, listMetricEntries, unitOf } from './metrics.js';
import { DEFAULT_RANGE, lifeRange, RANGES, rangeFromParams } from './ranges.js';
import { href, navigate, start as rerender } from './router.js';

// About one row per two pixels of a chart: the series API picks the archive nearest to it.
const TARGET_POINTS = 600;

export function mountHost(main, host, params) {
  const ctl = new AbortController();
  const group = chartGroup();
  const charts = [];
  // The range depends on the host's first_seen (a young host opens on its life), so the
  // controls are drawn once /api/v1/hosts has answered; until then the default day.
  let range = rangeFromParams(params);
  // Zoom reset and custom ranges go back to the range asked for, or to the default one (none).
  const baseRange = params.get('range') ?? undefined;

  const go = (p) => navigate(['host', host], p);
  const picker = h('div', { class: 'range-picker', role: 'group', 'aria-label': 'Time range' });
  const fromIn = h('input', { type: 'datetime-local', 'aria-label': 'From' });
  const toIn = h('input', { type: 'datetime-local', 'aria-label': 'To' });
  const custom = h('form', { class: 'custom-range', 'aria-label': 'Custom range' }, fromIn, '→', toIn, h('button', { type: 'submit' }, 'Apply'));
  custom.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const from = fromLocalInput(fromIn.value);
    const to = fromLocalInput(toIn.value);
    if (from !== undefined && to !== undefined && to > from) go({ range: baseRange, from, to });
  });
  const status = h('p', { class: 'muted', id: 'host-status' });
  const grid = h('div', { class: 'chart-grid', id: 'charts' });
  const info = h('p', { class: 'muted small', id: 'range-info' });
  const events = eventsSection();
  main.replaceChildren(
    h('section', { class: 'view' },
      h('div', { class: 'toolbar' },
        h('h1', {}, link(href(['hosts']), 'Hosts', { class: 'crumb' }), ' / ', host),
        picker, custom),
      status, info,
      h('p', {}, link(href(['logs'], { host }), `Logs of ${host} →`)),
      grid, events.section),
  );

  function showRange(life) {
    const keys = [...(life ? [{ key: 'life', label: 'life' }] : []), ...RANGES];
    picker.replaceChildren(...keys.map((r) =>
      h('button', { type: 'button', 'aria-pressed': String(range.key === r.key), dataset: { range: r.key }, title: r.key === 'life' ? 'first seen → now' : undefined, onclick: () => go({ range: r.key }) }, r.label)));
    picker.dataset.start = String(range.start);
    picker.dataset.end = String(range.end);
    picker.dataset.key = range.key;
    fromIn.value = toLocalInput(range.start);
    toIn.value = toLocalInput(range.end);
    info.replaceChildren(`${fmtTime(range.start)} → ${fmtTime(range.end)}`,
      range.key === 'life' ? ' · its life so far' : '',
      range.key === 'custom' ? ' · double-click a chart (or press 0) to reset the zoom' : ' · drag across a chart (or focus it and press +) to zoom');
  }
  showRange(null);

  /** The host's item: live hosts first, then retired ones (left out of the default list). */
  async function findHost() {
    const live = await api('/api/v1/hosts', { signal: ctl.signal });
    let me = live.items.find((x) => x.host === host);
    if (!me && hasLifecycle(live.items)) {
      const all = await api('/api/v1/hosts' + qs({ include_retired: 'true' }), { signal: ctl.signal });
      me = all.items.find((x) => x.host === host);
    }
    if (!me) {
      // a host that sends only metrics (older collectors list it only there)
      const m = (await tryApi('/api/v1/metrics/hosts', { signal: ctl.signal }).catch(() => null))?.items?.find((x) => x.host === host);
      if (m) me = { host, last_seen: Math.max(m.last_seen ?? 0, m.last_sample ?? 0) };
    }
    return me;
  }

  async function load() {
    try {
      loadEvents(events, host, ctl.signal).catch(() => {});
      const me = await findHost();
      const now = Date.now();
      const life = me ? lifeRange(me, now) : null;
      range = rangeFromParams(params, now, me);
      showRange(life);
      const alerts = (await available('/api/v1/alerts')) ? (await activeAlerts(ctl.signal).catch(() => [])).filter((a) => a.host === host) : [];
      const st = me ? hostState(me, now) : null;
      status.replaceChildren(
        st ? h('span', { class: 'badge ' + st.state, dataset: { state: st.state }, title: st.derived ? 'from the last-seen age' : undefined }, st.state) : h('span', { class: 'badge down' }, 'unknown host'),
        me?.ephemeral === true ? h('span', { class: 'badge ephemeral', title: 'declared itself ephemeral: retired, not down, when it stops' }, 'ephemeral') : '',
        me ? ` last seen ${ago(me.last_seen, now)} ` : '',
        me && Number(me.first_seen) > 0 ? `· first seen ${ago(Number(me.first_seen), now)} ` : '',
        ...alerts.map((a) => h('span', { class: `badge alert ${a.state} ${a.severity}` }, `${a.rule} (${a.state})`)),
      );
      if (!(await available('/api/v1/metrics'))) {
        grid.replaceChildren(h('p', { class: 'muted' }, 'This collector has no metrics API yet (GET /api/v1/metrics).'));
        return;
      }
      const entries = await listMetricEntries(host, ctl.signal);
      const names = entries.map((e) => e.metric);
      const finest = new Map(entries.map((e) => [e.metric, e.step]));
      if (!names.length) {
        grid.replaceChildren(h('p', { class: 'muted' }, 'No metrics for this host.'));
        return;
      }
      const rules = (await listRules(ctl.signal).catch(() => null)) ?? [];
      const hostRules = rules.filter((r) => ruleEnabled(r) && ruleAppliesTo(r, host));
      await loadChartJs();
      const t0 = performance.now();
      const families = [...groupFamilies(names)];
      const cards = families.map(([family, metrics]) => {
        const canvas = h('canvas', { 'aria-label': `${family} chart; + and - zoom, 0 resets` });
        const card = h('figure', { class: 'chart-card', dataset: { family } }, h('figcaption', {}, family), h('div', { class: 'chart-box' }, canvas));
        return { family, metrics, canvas, card };
      });
      grid.replaceChildren(...cards.map((c) => c.card));
      await Promise.all(cards.map(async (c) => {
        const t1 = performance.now();
        // A life (under a day) is read at the finest step, which the 10 s archive holds whole.
        const resolution = range.key === 'life' && range.end - range.start <= DEFAULT_RANGE.ms ? Math.min(...c.metrics.map((m) => finest.get(m) || Infinity), (range.end - range.start) / TARGET_POINTS) : (range.end - range.start) / TARGET_POINTS;
        // Lines first, band after: AVERAGE, MIN and MAX are all requested at once, the chart is
        // drawn as soon as the AVERAGE rows are in, and the MIN/MAX band is added when it lands.
        // The band is used only when the rows are consolidated (coarser than the series' own
        // step), where it shows the peaks and dips the average hides.
        // AVERAGE requests go out first so the server answers them first.
        const fetched = c.metrics.slice(0, 8).map((metric) => {
          const q = { host, metric, start: range.start, end: range.end, resolution };
          return { metric, q, avg: fetchSeries({ ...q, cf: 'AVERAGE' }, ctl.signal), bands: null };
        });
        for (const f of fetched) {
          // The band is optional: no MIN/MAX archive, an aborted page or any failure means none
          // (never an unhandled rejection when the view is left mid-fetch).
          f.bands = Promise.all(['MIN', 'MAX'].map((cf) => fetchSeries({ ...f.q, cf }, ctl.signal))).catch(() => null);
        }
        const series = await Promise.all(fetched.map(async (f) => {
          const avg = await f.avg;
          return { label: f.metric, points: avg.points, min: null, max: null, step: avg.step };
        }));
        const levels = [];
        for (const r of hostRules) {
          const m = ruleMetric(r);
          if (!m || !c.metrics.includes(m)) continue;
          const { warning, critical } = ruleLevels(r);
          if (warning !== undefined) levels.push({ kind: 'warning', value: warning });
          if (critical !== undefined) levels.push({ kind: 'critical', value: critical });
        }
        const step = series[0]?.step ?? 0;
        c.card.dataset.step = String(step);
        c.card.dataset.points = String(series.reduce((n, s) => n + s.points.filter((p) => p.y !== null).length, 0));
        c.card.dataset.levels = String(levels.length);
        const caption = h('span', { class: 'muted small' }, ` · step ${step / 1000} s`);
        c.card.querySelector('figcaption').append(caption);
        const tc = timeChart(c.canvas, {
          series, start: range.start, end: range.end, levels, group, unit: unitOf(c.metrics[0]),
          onZoom: (from, to) => go({ range: baseRange, from, to }),
          onReset: () => go({ range: baseRange }),
        });
        charts.push(tc);
        c.card.dataset.ms = (performance.now() - t1).toFixed(1); // lines fetched and drawn (bench/dashboard.ts)
        let banded = false;
        await Promise.all(fetched.map(async (f, i) => {
          const mm = await f.bands;
          const s = series[i];
          if (!mm || !(s.step > (finest.get(f.metric) || 0))) return;
          const [mn, mx] = mm;
          const min = foldOnto(s.points, s.step, mn.points, mn.step, Math.min);
          if (!min.some((p) => p.y !== null)) return;
          s.min = min;
          s.max = foldOnto(s.points, s.step, mx.points, mx.step, Math.max);
          banded = true;
        }));
        if (banded) {
          tc.setSeries(series);
          caption.append(' · min/max band');
        }
        c.card.dataset.band = String(banded);
        c.card.dataset.bandMs = (performance.now() - t1).toFixed(1); // with the band (bench/dashboard.ts)
      }));
      grid.dataset.ready = 'true';
      grid.dataset.drawMs = String(Math.round(performance.now() - t0));
    } catch (err) {
      if (err.name !== 'AbortError') status.append(h('span', { class: 'error' }, ` Could not load: ${err.message}`));
    }
  }
  load();
  const onTheme = () => rerender();
  window.addEventListener('rt:theme', onTheme);
  return () => {
    ctl.abort();
    window.removeEventListener('rt:theme', onTheme);
    for (const c of charts) c.destroy();
  };
}
