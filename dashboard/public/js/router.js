// The view lives in the URL hash (#/host/web-1?range=1d), so any view can be bookmarked or
// shared; the page itself stays one static file.
const listeners = [];

export function current() {
  const raw = location.hash.replace(/^#/, '') || '/hosts';
  const q = raw.indexOf('?');
  const path = (q < 0 ? raw : raw.slice(0, q)).split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  return { path, params };
}

export function href(path, params = {}) {
  const parts = path.map((p) => encodeURIComponent(p)).join('/');
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return '#/' + parts + (s ? '?' + s : '');
}

/** Changes the URL. `replace` rewrites history (filters typed), otherwise a new entry (navigation). */
export function navigate(path, params = {}, { replace = false, silent = false } = {}) {
  const target = href(path, params);
  if (target === location.hash) return;
  if (silent || replace) {
    history.replaceState(null, '', target);
    if (!silent) fire();
  } else {
    location.hash = target;
  }
}

export function onRoute(fn) {
  listeners.push(fn);
}

function fire() {
  const r = current();
  for (const fn of listeners) fn(r);
}

window.addEventListener('hashchange', fire);
export const start = fire;
