// Logs explorer: filters kept in the URL, full-text search with highlights (text nodes only),
// severity colours, a volume histogram, endless scrolling by cursor, the lines around a line,
// and live tail with pause and resume. Log text is data: it reaches the page only as Text
// nodes (highlight.js, fields.js) — never through innerHTML, never as an attribute that could
// be a URL. A new search is asked first and the view changes only when the collector accepts
// it: a refused query leaves the previous results in place with the reason under the box.
import { api, ApiError, qs } from './api.js';
import { h } from './dom.js';
import { fieldChips } from './fields.js';
import { fmtTime, fromLocalInput, SEVERITIES, severityClass, toLocalInput } from './format.js';
import { highlight, termsOf } from './highlight.js';
import { drawHistogram, volume } from './histogram.js';
import { tail } from './live.js';
import { addClause } from './query.js';
import { navigate } from './router.js';
import { searchBox } from './search-box.js';

const PAGE = 200;
const MAX_ROWS = 5000;
const FILTER_KEYS = ['host', 'source', 'program', 'severity', 'q', 'start', 'end'];
// The first page of a search the form has just asked for, handed to the view it navigates to
// so the accepted search is not asked twice.
let prefetched = null;
const PREFETCH_TTL_MS = 10_000;

const onlyFilters = (obj) => Object.fromEntries(FILTER_KEYS.filter((k) => obj[k] !== undefined && obj[k] !== '').map((k) => [k, obj[k]]));

export function mountLogs(main, params) {
  const ctl = new AbortController();
  const f = Object.fromEntries(FILTER_KEYS.map((k) => [k, params.get(k) ?? '']));
  const live = params.get('live') === '1';
  const terms = termsOf(f.q);
  let cursor = null;
  let loading = false;
  let stopTail = null;
  let paused = false;
  let buffered = [];
  let redrawHistogram = () => {};
  const onTheme = () => redrawHistogram();
  window.addEventListener('rt:theme', onTheme);

  const field = (name, label, props = {}) => h('label', { class: 'field' }, h('span', {}, label), h('input', { name, value: f[name], ...props }));
  const hostList = h('datalist', { id: 'host-options' });
  // severity=N asks for severity <= N (syslog numbers: smaller is more important)
  const sevSel = h('select', { name: 'severity', id: 'log-level' },
    h('option', { value: '' }, 'any'),
    SEVERITIES.map((s, i) => h('option', { value: String(i), selected: f.severity === String(i) }, `≥ ${s}`)));
  const sb = searchBox(f.q);
  const startIn = h('input', { type: 'datetime-local', name: 'start', value: f.start ? toLocalInput(Number(f.start)) : '' });
  const endIn = h('input', { type: 'datetime-local', name: 'end', value: f.end ? toLocalInput(Number(f.end)) : '' });
  const form = h('form', { id: 'log-filters', class: 'filters', role: 'search' },
    sb.el,
    field('host', 'Host', { list: 'host-options', id: 'log-host' }),
    field('source', 'Source', { id: 'log-source', placeholder: '/var/log/…' }),
    field('program', 'Program', { id: 'log-program' }),
    h('label', { class: 'field' }, h('span', {}, 'Level'), sevSel),
    h('label', { class: 'field' }, h('span', {}, 'From'), startIn),
    h('label', { class: 'field' }, h('span', {}, 'To'), endIn),
    h('button', { type: 'submit' }, 'Search'),
    hostList);
  const liveBtn = h('button', { type: 'button', id: 'live-toggle', 'aria-pressed': String(live) }, live ? 'Stop live tail' : 'Live tail');
  const pauseBtn = h('button', { type: 'button', id: 'live-pause', hidden: !live, 'aria-pressed': 'false' }, 'Pause');
  const liveState = h('span', { id: 'live-state', class: 'muted', 'aria-live': 'polite' });
  const histo = h('canvas', { id: 'histogram', class: 'histogram', role: 'img', 'aria-label': 'Log volume over time; click a bar to narrow the range' });
  const list = h('ol', { id: 'log-list', class: 'log-list', 'aria-label': 'Log lines, newest first' });
  const sentinel = h('div', { class: 'sentinel muted', id: 'log-more' });
  const status = h('p', { class: 'muted', id: 'log-status' });

  main.replaceChildren(
    h('section', { class: 'view logs-view' },
      h('div', { class: 'toolbar' }, h('h1', {}, 'Logs'), liveBtn, pauseBtn, liveState),
      form, histo, status, list, sentinel),
  );

  const filters = () => {
    const out = {};
    for (const k of FILTER_KEYS) if (f[k] !== '') out[k] = f[k];
    return out;
  };

  // Asks for the first page of `next`; shows the view for it only when the collector accepts
  // it. A 400 (a query the language refuses, a bad time) stays on this view with the reason.
  let asking = null;
  async function search(next) {
    asking?.abort();
    const mine = (asking = new AbortController());
    const wanted = onlyFilters(next);
    try {
      const page = await api('/api/v1/logs' + qs({ ...wanted, limit: PAGE }), { signal: mine.signal });
      prefetched = { key: qs(wanted), page, at: Date.now() };
    } catch (err) {
      if (err.name === 'AbortError') return;
      if (err instanceof ApiError && err.status === 400) {
        sb.showError(err, next.q ?? '');
        return;
      }
      // anything else (network, 5xx): go on; the view reports it where the lines would be
    }
    if (mine.signal.aborted) return;
    sb.showError(null);
    navigate(['logs'], { ...wanted, live: live ? '1' : '' });
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const next = {};
    for (const k of ['host', 'source', 'program', 'severity']) next[k] = String(data.get(k) ?? '').trim();
    // the query goes as typed: a refused query's position counts characters of this text
    const q = String(data.get('q') ?? '');
    next.q = q.trim() ? q : '';
    next.start = fromLocalInput(startIn.value) ?? '';
    next.end = fromLocalInput(endIn.value) ?? '';
    search(next);
  });
  sevSel.addEventListener('change', () => form.requestSubmit());
  // A chip narrows the results on screen: its clause is ANDed onto the search they came from.
  const addFilter = (clause) => {
    const q = addClause(f.q, clause);
    sb.input.value = q;
    search({ ...f, q });
  };
  liveBtn.addEventListener('click', () => navigate(['logs'], { ...filters(), live: live ? '' : '1' }));
  pauseBtn.addEventListener('click', () => {
    paused = !paused;
    pauseBtn.textContent = paused ? 'Resume' : 'Pause';
    pauseBtn.setAttribute('aria-pressed', String(paused));
    if (!paused && buffered.length) {
      prepend(buffered);
      buffered = [];
    }
    showLiveState();
  });

  function showLiveState(mode) {
    if (mode) liveState.dataset.mode = mode;
    liveState.textContent = !live ? '' : paused ? `paused · ${buffered.length} new` : `live (${liveState.dataset.mode === 'poll' ? 'polling' : 'streaming'})`;
  }

  // Host and program as quick filters: a click narrows to them (the inputs above stay the
  // keyboard's way, so the cells are no extra tab stops in a list of thousands of lines).
  function quick(key, value, text, title) {
    const cls = key === 'host' ? 'host' : 'prog';
    return h('button', { type: 'button', class: `${cls} quick`, tabindex: '-1', title, onclick: (ev) => {
      ev.stopPropagation();
      search({ ...f, [key]: value });
    } }, text);
  }

  function row(item) {
    const li = h('li', { class: 'log-line ' + severityClass(item.severity), tabindex: '0', dataset: { id: String(item.id) } },
      h('time', { datetime: new Date(item.ts).toISOString() }, fmtTime(item.ts, true)),
      h('span', { class: 'sev', title: SEVERITIES[item.severity] ?? String(item.severity) }, SEVERITIES[item.severity] ?? String(item.severity)),
      quick('host', item.host, item.host, `Show only host ${item.host}`),
      item.program !== null && item.program !== undefined
        ? quick('program', item.program, item.program, `Show only program ${item.program} (${item.source})`)
        : quick('source', item.source, item.source.split('/').pop(), `Show only ${item.source}`),
      h('span', { class: 'msg' }, highlight(item.message, terms)),
      fieldChips(item.fields, addFilter));
    li.$item = item;
    return li;
  }

  function prepend(items) {
    // items oldest first; the list is newest first
    const frag = document.createDocumentFragment();
    for (let i = items.length - 1; i >= 0; i--) frag.append(row(items[i]));
    list.prepend(frag);
    while (list.children.length > MAX_ROWS) list.lastElementChild.remove();
  }

  async function more() {
    if (loading || cursor === undefined) return;
    loading = true;
    let failed = false;
    sentinel.textContent = 'Loading…';
    try {
      const key = qs(filters());
      const ready = cursor === null && prefetched?.key === key && Date.now() - prefetched.at < PREFETCH_TTL_MS ? prefetched.page : null;
      prefetched = null;
      const page = ready ?? (await api('/api/v1/logs' + qs({ ...filters(), limit: PAGE, cursor }), { signal: ctl.signal }));
      if (cursor === null) loadHistogram(page);
      list.append(...page.items.map(row));
      cursor = page.next_cursor ?? undefined;
      status.textContent = `${list.children.length} line${list.children.length === 1 ? '' : 's'}${cursor ? ' (scroll for more)' : ''}`;
      sentinel.textContent = cursor ? '' : list.children.length ? 'End of results.' : 'No lines match.';
      list.dataset.ready = 'true';
    } catch (err) {
      failed = true;
      if (err.name !== 'AbortError') {
        sentinel.textContent = `Could not load lines: ${err.message}`;
        if (err instanceof ApiError && err.status === 400) {
          sb.showError(err, f.q);
          cursor = undefined;
          // the same filters would be refused for the tail too: stop rather than retry each second
          if (stopTail) {
            stopTail();
            stopTail = null;
            liveState.textContent = 'live tail stopped: the search was refused';
          }
        }
      }
    } finally {
      loading = false;
    }
    // keep filling the screen, but not by retrying a request that just failed
    if (!failed && cursor !== undefined && sentinel.getBoundingClientRect().top < innerHeight + 400) more();
  }

  // Context: the lines just before and after a line, from the same host and source.
  async function toggleContext(li) {
    const next = li.nextElementSibling;
    if (next?.classList.contains('context')) return next.remove();
    const it = li.$item;
    const base = { host: it.host, source: it.source };
    const box = h('li', { class: 'context', 'aria-label': 'Lines around this one' }, 'Loading context…');
    li.after(box);
    try {
      const [before, same, after] = await Promise.all([
        api('/api/v1/logs' + qs({ ...base, end: it.ts, limit: 5 })),
        api('/api/v1/logs' + qs({ ...base, start: it.ts, end: it.ts + 1, limit: 50 })),
        api('/api/v1/logs' + qs({ ...base, start: it.ts + 1, end: it.ts + 3600_000, limit: 1000 })),
      ]);
      const lines = [...after.items.slice(-5), ...same.items, ...before.items];
      box.replaceChildren(h('ol', { class: 'log-list inner' }, lines.map((x) => {
        const r = row(x);
        r.removeAttribute('tabindex');
        if (x.id === it.id) r.classList.add('focus-line');
        return r;
      })));
    } catch (err) {
      box.textContent = `Could not load context: ${err.message}`;
    }
  }
  list.addEventListener('click', (ev) => {
    if (ev.target.closest('.fields, .quick')) return;
    const li = ev.target.closest('li.log-line');
    if (li && li.parentElement === list && !getSelection()?.toString()) toggleContext(li);
  });
  list.addEventListener('keydown', (ev) => {
    // only keys on the line itself: Enter on a chip inside it is the chip's own click
    const li = ev.target.closest('li.log-line');
    if (!li || ev.target !== li) return;
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      toggleContext(li);
    } else if (ev.key === 'ArrowDown' || ev.key === 'j') {
      ev.preventDefault();
      let n = li.nextElementSibling;
      while (n && !n.classList.contains('log-line')) n = n.nextElementSibling;
      n?.focus();
    } else if (ev.key === 'ArrowUp' || ev.key === 'k') {
      ev.preventDefault();
      let p = li.previousElementSibling;
      while (p && !p.classList.contains('log-line')) p = p.previousElementSibling;
      p?.focus();
    }
  });

  const io = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) more();
  });
  io.observe(sentinel);

  async function loadHistogram(firstPage) {
    const end = f.end ? Number(f.end) : Date.now();
    const oldest = firstPage?.items.at(-1)?.ts;
    // All results on the first page: exactly their span. More pages: a span a few times what
    // the first page covers (at least an hour, at most a week), since the total is unknown.
    let start;
    if (f.start) start = Number(f.start);
    else if (oldest === undefined) start = end - 3600_000;
    else if (!firstPage.next_cursor) start = Math.min(oldest, end - 60_000);
    else start = end - Math.min(7 * 86400_000, Math.max(3600_000, 4 * (end - oldest)));
    try {
      const { start: _s, end: _e, ...rest } = filters();
      const bars = await volume(rest, start, end, 30, ctl.signal);
      histo.dataset.total = String(bars.reduce((n, b) => n + b.count, 0));
      histo.dataset.partial = String(bars.some((b) => b.partial));
      const draw = () => drawHistogram(histo, bars, { onPick: (b) => navigate(['logs'], { ...filters(), start: b.start, end: b.end }) });
      draw();
      redrawHistogram = draw;
    } catch {
      /* the histogram is an aid; the list below still works */
    }
  }

  api('/api/v1/hosts', { signal: ctl.signal }).then(
    (res) => hostList.replaceChildren(...res.items.map((x) => h('option', { value: x.host }))),
    () => {},
  );
  more();
  if (live) {
    const { start: _s, end: _e, ...tailFilters } = filters();
    stopTail = tail(tailFilters, (items) => {
      if (paused) {
        buffered.push(...items);
        showLiveState();
      } else prepend(items);
    }, showLiveState);
    showLiveState('stream');
  }
  return () => {
    ctl.abort();
    asking?.abort();
    sb.dispose();
    window.removeEventListener('rt:theme', onTheme);
    io.disconnect();
    stopTail?.();
  };
}
