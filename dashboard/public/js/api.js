// The one way the dashboard talks to the collector: same-origin fetch with the session cookie,
// the CSRF token on every state change, JSON errors turned into ApiError, 401 announced so the
// app can show the login page.
let csrf = null;

export function setCsrf(token) {
  csrf = token;
}

export class ApiError extends Error {
  constructor(status, code, message, body = null) {
    super(message);
    this.status = status;
    this.code = code;
    /** the whole JSON error body (a refused query's `position`, for one) */
    this.body = body;
  }
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    signal,
  });
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith('/api/v1/session')) window.dispatchEvent(new CustomEvent('rt:unauthorized'));
    throw new ApiError(res.status, data?.error ?? data?.code ?? 'HTTP_' + res.status, data?.message ?? res.statusText, data);
  }
  return data;
}

/** '?a=1&b=x' from an object, leaving out empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? '?' + s : '';
}

/** True when the collector answers this path at all (false on 404: the feature is not there). */
const probes = new Map();
export function available(path) {
  if (!probes.has(path)) {
    probes.set(
      path,
      api(path).then(
        () => true,
        (err) => !(err instanceof ApiError && err.status === 404 && err.code === 'RINGTAIL_ERR_NOT_FOUND' && /no route/.test(err.message)),
      ),
    );
  }
  return probes.get(path);
}

/** GET `path`, or null when the collector has no such route (a feature not merged/enabled). */
export async function tryApi(path, opts) {
  try {
    return await api(path, opts);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && /^no route/.test(err.message)) return null;
    throw err;
  }
}

/** The first of several candidate paths the collector serves (APIs still settling), or null. */
export async function firstAvailable(paths) {
  for (const p of paths) if (await available(p)) return p;
  return null;
}

/** Runs async jobs with at most `n` in flight. */
export function limiter(n) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= n || queue.length === 0) return;
    active++;
    const { job, resolve, reject } = queue.shift();
    job().then(resolve, reject).finally(() => {
      active--;
      next();
    });
  };
  return (job) =>
    new Promise((resolve, reject) => {
      queue.push({ job, resolve, reject });
      next();
    });
}
