// Hosts overview: every host with its lifecycle state (the collector's, or derived from the
// last-seen age by an older one), counts per state that filter the list, an "ephemeral" badge,
// its active alerts, and sparklines of CPU, memory and disk over the last hour. Retired hosts
// stay out of the default view (and out of the request): "show retired" asks for them too.
// The list is interactive as soon as /api/v1/hosts answers; sparklines load only for rows on
// screen, a few at a time.
import { api, ApiError, limiter, qs, tryApi } from './api.js';
import { normAlert } from './alerts-api.js';
import { h, link } from './dom.js';
import { ago } from './format.js';
import { hasLifecycle, hostState, mergeHosts, STATES, stateCounts } from './host-state.js';
import { fetchSeries, headlineMetrics, listMetrics } from './metrics.js';
import { href, navigate } from './router.js';
import { drawSparkline } from './sparkline.js';
import { palette } from './theme.js';

const STATUS_ORDER = { down: 0, stale: 1, up: 2, retired: 3 };

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
    status: STATES.includes(params.get('status')) ? params.get('status') : '',
    // a retired filter shows retired hosts whatever the toggle says
    retired: params.get('retired') === '1' || params.get('status') === 'retired',
    sort: SORTS[params.get('sort')] ? params.get('sort') : 'status',
    dir: params.get('dir') === 'desc' ? 'desc' : 'asc',
  };
  let hosts = [];
  let alertsByHost = new Map();
  let metricsOk = null;
  let lifecycle = false;
  let loaded = null; // whether the hosts in `hosts` include retired ones
  const sparkCache = new Map();
  const queue = limiter(6);

  const filter = h('input', { type: 'search', id: 'host-filter', placeholder: 'filter hosts', 'aria-label': 'Filter hosts by name', value: state.q });
  const statusSel = h(
    'select',
    { id: 'status-filter', 'aria-label': 'Filter by status' },
    ['', ...STATES].map((s) => h('option', { value: s, selected: s === state.status }, s || 'any state')),
  );
  const retiredBox = h('input', { type: 'checkbox', id: 'show-retired', checked: state.retired });
  const retiredLabel = h('label', { class: 'check' }, retiredBox, ' show retired');
  // One button per state with its count; pressing one filters the list by it, again clears.
  const counts = h('div', { class: 'state-counts', id: 'state-counts', role: 'group', 'aria-label': 'Hosts per state' });
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
      h('div', { class: 'toolbar' }, h('h1', {}, 'Hosts'), filter, statusSel, retiredLabel, summary),
      counts,
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
    navigate(['hosts'], { q: state.q, status: state.status, retired: state.retired ? '1' : '', sort: state.sort === 'status' ? '' : state.sort, dir: state.dir === 'asc' ? '' : 'desc' }, { silent: true });
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
    const all = hosts
      .map((x) => {
        const st = hostState(x, now);
        return { ...x, status: st.state, derived: st.derived, alerts: alertsByHost.get(x.host) ?? [] };
      })
      // an answer from before "show retired" was turned off may still hold retired hosts
      .filter((x) => state.retired || x.status !== 'retired');
    const named = all.filter((x) => !q || x.host.toLowerCase().includes(q));
    const rows = named.filter((x) => !state.status || x.status === state.status).sort(SORTS[state.sort]);
    if (state.dir === 'desc') rows.reverse();
    summary.textContent = `${rows.length} of ${all.length} hosts`;
    renderCounts(stateCounts(named.map((x) => x.status)));
    observer.disconnect();
    tbody.replaceChildren(
      ...rows.map((x) => {
        const firing = x.alerts.filter((a) => a.state === 'firing');
        const tr = h('tr', { dataset: { host: x.host }, class: 'status-' + x.status },
          h('th', { scope: 'row' }, link(href(['host', x.host]), x.host),
            x.ephemeral === true ? h('span', { class: 'badge ephemeral', title: 'declared itself ephemeral: retired, not down, when it stops' }, 'ephemeral') : ''),
          h('td', {}, h('span', { class: 'badge ' + x.status, title: x.derived ? 'from the last-seen age' : undefined }, x.status)),
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

  function renderCounts(n) {
    counts.replaceChildren(
      ...STATES.map((s) => {
        // Retired hosts are not asked for unless shown: their count is unknown, not zero.
        const known = s !== 'retired' || state.retired;
        return h('button', { type: 'button', class: 'count ' + s, dataset: { state: s, count: known ? String(n[s]) : '' }, 'aria-pressed': String(state.status === s), onclick: () => setStatus(state.status === s ? '' : s) },
          h('span', { class: 'badge ' + s }, s), ' ', known ? String(n[s]) : 'hidden');
      }),
    );
  }

  function setStatus(s) {
    state.status = s;
    statusSel.value = s;
    if (s === 'retired' && !state.retired) return setRetired(true);
    syncUrl();
    render();
  }

  function setRetired(on) {
    state.retired = on;
    retiredBox.checked = on;
    if (!on && state.status === 'retired') {
      state.status = '';
      statusSel.value = '';
    }
    syncUrl();
    render();
    if (on && loaded !== true) refresh();
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

  let seq = 0;
  async function refresh() {
    const mine = ++seq;
    try {
      // One round of requests; optional APIs (alerts, metrics) answer null when not there.
      const withRetired = state.retired;
      const [res, alerts, mhosts] = await Promise.all([
        api('/api/v1/hosts' + qs({ include_retired: withRetired ? 'true' : '' }), { signal: ctl.signal }),
        tryApi('/api/v1/alerts', { signal: ctl.signal }).catch(() => null),
        tryApi('/api/v1/metrics/hosts', { signal: ctl.signal }).catch(() => null),
      ]);
      if (mine !== seq) return; // a newer request (say "show retired" pressed) answers instead
      const items = Array.isArray(res?.items) ? res.items : [];
      // Once a collector has shown it knows states it is taken at its word, even when a
      // later answer is empty (every host retired): metric-only hosts are not added back.
      lifecycle = lifecycle || hasLifecycle(items);
      hosts = mergeHosts(items, mhosts?.items, lifecycle);
      loaded = withRetired;
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
  statusSel.addEventListener('change', () => setStatus(statusSel.value));
  retiredBox.addEventListener('change', () => setRetired(retiredBox.checked));
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
