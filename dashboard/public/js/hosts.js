// Hosts overview: every host with its status by last-seen age, its active alerts, and
// sparklines of CPU, memory and disk over the last hour. The list is interactive as soon as
// /api/v1/hosts answers; sparklines load only for rows on screen, a few at a time.
import { api, ApiError, limiter, tryApi } from './api.js';
import { normAlert } from './alerts-api.js';
import { h, link } from './dom.js';
import { ago } from './format.js';
import { fetchSeries, headlineMetrics, listMetrics } from './metrics.js';
import { href, navigate } from './router.js';
import { drawSparkline } from './sparkline.js';
import { palette } from './theme.js';

/** up: seen within 2 min; stale: within 15 min; down: longer. */
export const STALE_MS = 2 * 60_000;
export const DOWN_MS = 15 * 60_000;
export function hostStatus(lastSeen, now) {
  const age = now - lastSeen;
  return age <= STALE_MS ? 'up' : age <= DOWN_MS ? 'stale' : 'down';
}
const STATUS_ORDER = { down: 0, stale: 1, up: 2 };

const SORTS = {
  host: (a, b) => a.host.localeCompare(b.host),
  status: (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status] || a.host.localeCompare(b.host),
  last_seen: (a, b) => a.last_seen - b.last_seen,
  alerts: (a, b) => a.alerts.length - b.alerts.length || a.host.localeCompare(b.host),
};

export function mountHosts(main, params) {
  const ctl = new AbortController();
  const state = {
    q: params.get('q') ?? '',
    status: params.get('status') ?? '',
    sort: SORTS[params.get('sort')] ? params.get('sort') : 'status',
    dir: params.get('dir') === 'desc' ? 'desc' : 'asc',
  };
  let hosts = [];
  let alertsByHost = new Map();
  let metricsOk = null;
  const sparkCache = new Map();
  const queue = limiter(6);

  const filter = h('input', { type: 'search', id: 'host-filter', placeholder: 'filter hosts', 'aria-label': 'Filter hosts by name', value: state.q });
  const statusSel = h(
    'select',
    { id: 'status-filter', 'aria-label': 'Filter by status' },
    ['', 'up', 'stale', 'down'].map((s) => h('option', { value: s, selected: s === state.status }, s || 'any status')),
  );
  const summary = h('p', { class: 'muted', id: 'hosts-summary' });
  const note = h('p', { class: 'muted small', id: 'hosts-note' });
  const tbody = h('tbody');
  const headCell = (key, label) =>
    h('th', { scope: 'col', 'aria-sort': state.sort === key ? (state.dir === 'asc' ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'sort', onclick: () => setSort(key) }, label, state.sort === key ? (state.dir === 'asc' ? ' ▲' : ' ▼') : ''));
  const thead = h('thead');
  const table = h('table', { id: 'hosts', class: 'hosts' }, thead, tbody);
  main.replaceChildren(
    h('section', { class: 'view' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Hosts'), filter, statusSel, summary),
      note,
      h('div', { class: 'table-wrap' }, table)),
  );

  function renderHead() {
    thead.replaceChildren(
      h('tr', {}, headCell('host', 'Host'), headCell('status', 'Status'), headCell('last_seen', 'Last seen'), headCell('alerts', 'Alerts'),
        h('th', { scope: 'col', class: 'spark-col' }, 'CPU'), h('th', { scope: 'col', class: 'spark-col' }, 'Memory'), h('th', { scope: 'col', class: 'spark-col' }, 'Disk')),
    );
  }

  function setSort(key) {
    if (state.sort === key) state.dir = state.dir === 'asc' ? 'desc' : 'asc';
    else {
      state.sort = key;
      state.dir = 'asc';
    }
    syncUrl();
    render();
    thead.querySelector(`th[aria-sort]:not([aria-sort="none"]) button`)?.focus();
  }

  function syncUrl() {
    navigate(['hosts'], { q: state.q, status: state.status, sort: state.sort === 'status' ? '' : state.sort, dir: state.dir === 'asc' ? '' : 'desc' }, { silent: true });
  }

  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      observer.unobserve(e.target);
      loadSparks(e.target);
    }
  });

  function render() {
    renderHead();
    const now = Date.now();
    const q = state.q.toLowerCase();
    const rows = hosts
      .map((x) => ({ ...x, status: hostStatus(x.last_seen, now), alerts: alertsByHost.get(x.host) ?? [] }))
      .filter((x) => (!q || x.host.toLowerCase().includes(q)) && (!state.status || x.status === state.status))
      .sort(SORTS[state.sort]);
    if (state.dir === 'desc') rows.reverse();
    summary.textContent = `${rows.length} of ${hosts.length} hosts`;
    observer.disconnect();
    tbody.replaceChildren(
      ...rows.map((x) => {
        const firing = x.alerts.filter((a) => a.state === 'firing');
        const tr = h('tr', { dataset: { host: x.host }, class: 'status-' + x.status },
          h('th', { scope: 'row' }, link(href(['host', x.host]), x.host)),
          h('td', {}, h('span', { class: 'badge ' + x.status }, x.status)),
          h('td', { title: new Date(x.last_seen).toISOString() }, ago(x.last_seen, now)),
          h('td', { class: 'alerts-cell' },
            x.alerts.length === 0 ? h('span', { class: 'muted' }, '–') :
              x.alerts.map((a) => h('span', { class: `badge alert ${a.state} ${a.severity}`, title: a.summary || a.rule }, `${a.rule} (${a.state})`))),
          ...['cpu', 'memory', 'disk'].map((k) => h('td', { class: 'spark-col' }, h('canvas', { class: 'spark', dataset: { kind: k }, width: 90, height: 24, 'aria-label': `${k} over the last hour` }))),
        );
        if (firing.length) tr.classList.add('firing');
        if (metricsOk !== false) observer.observe(tr);
        else paintCached(tr);
        return tr;
      }),
    );
  }

  function paintCached(tr) {
    const cached = sparkCache.get(tr.dataset.host);
    if (cached) paint(tr, cached);
  }

  function paint(tr, series) {
    const pal = palette();
    for (const c of tr.querySelectorAll('canvas.spark')) {
      const s = series[c.dataset.kind];
      if (!s) {
        c.dataset.points = '0';
        continue;
      }
      c.dataset.points = String(drawSparkline(c, s.points, { color: pal.series[{ cpu: 0, memory: 1, disk: 2 }[c.dataset.kind]] }));
      c.title = `${s.metric}`;
    }
  }

  async function loadSparks(tr) {
    const host = tr.dataset.host;
    if (sparkCache.has(host)) return paint(tr, sparkCache.get(host));
    if (metricsOk === false) return;
    try {
      const names = await queue(() => listMetrics(host, ctl.signal));
      const pick = headlineMetrics(names);
      const end = Date.now();
      const series = {};
      await Promise.all(Object.entries(pick).map(async ([kind, metric]) => {
        if (!metric) return;
        const s = await queue(() => fetchSeries({ host, metric, start: end - 3600_000, end }, ctl.signal));
        series[kind] = { ...s, metric };
      }));
      sparkCache.set(host, series);
      if (tr.isConnected) paint(tr, series);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404 && /^no route/.test(err.message)) metricsOk = false;
    }
  }

  async function refresh() {
    try {
      // One round of requests; optional APIs (alerts, metrics) answer null when not there.
      const [res, alerts, mhosts] = await Promise.all([
        api('/api/v1/hosts', { signal: ctl.signal }),
        tryApi('/api/v1/alerts', { signal: ctl.signal }).catch(() => null),
        tryApi('/api/v1/metrics/hosts', { signal: ctl.signal }).catch(() => null),
      ]);
      // Hosts that only send metrics are listed by the metrics API, not the log store's.
      const byHost = new Map(res.items.map((x) => [x.host, { ...x }]));
      for (const x of mhosts?.items ?? []) {
        const seen = Math.max(x.last_seen ?? 0, x.last_sample ?? 0);
        const known = byHost.get(x.host);
        if (known) known.last_seen = Math.max(known.last_seen, seen);
        else byHost.set(x.host, { host: x.host, first_seen: seen, last_seen: seen });
      }
      hosts = [...byHost.values()];
      alertsByHost = new Map();
      for (const a of (alerts?.items ?? []).map(normAlert)) {
        if (!alertsByHost.has(a.host)) alertsByHost.set(a.host, []);
        alertsByHost.get(a.host).push(a);
      }
      if (metricsOk === null) {
        metricsOk = mhosts !== null;
        if (!metricsOk) note.textContent = 'This collector has no metrics API: sparklines are empty.';
      }
      render();
      const table = main.querySelector('#hosts');
      if (table && !table.dataset.ready) performance.mark('rt:hosts-ready'); // first paint of the list (bench/dashboard.ts)
      if (table) table.dataset.ready = 'true';
    } catch (err) {
      if (err.name !== 'AbortError') summary.textContent = `Could not load hosts: ${err.message}`;
    }
  }

  filter.addEventListener('input', () => {
    state.q = filter.value;
    syncUrl();
    render();
  });
  statusSel.addEventListener('change', () => {
    state.status = statusSel.value;
    syncUrl();
    render();
  });
  const onTheme = () => {
    for (const tr of tbody.children) paintCached(tr);
  };
  window.addEventListener('rt:theme', onTheme);
  refresh();
  const timer = setInterval(() => {
    sparkCache.clear();
    refresh();
  }, 30_000);
  return () => {
    ctl.abort();
    clearInterval(timer);
    observer.disconnect();
    window.removeEventListener('rt:theme', onTheme);
  };
}
