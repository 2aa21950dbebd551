// The auth matrix: every registered route × every kind of credential, with the expected answer
// derived from the route's own `config.roles` (the auth plugin's rule), and a hard-coded public
// allow-list so a route made public by accident fails here. Routes are enumerated from the built
// app (test/helpers/route-audit.ts), so a route added later is covered without editing this file.
//
// Extends test/integration/collector-api.test.ts ('every route but health and the login page
// needs a token', which covers the no-credential column only) and the role spot checks of
// collector-api 'rejects unknown and revoked tokens' and collector-metrics 'roles: ...'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Role, TokenRecord } from '../../collector/storage/types.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';
import { withRouteAudit, type AuditedRoute } from '../helpers/route-audit.js';

const ORIGIN = 'http://localhost'; // inject() addresses requests to localhost:80
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

// The public allow-list, hard-coded on purpose: health, the sign-in call, and the dashboard's
// static files (the page is the login page; collector/plugins/dashboard.ts). Nothing under /api
// is readable without credentials, and neither is the Prometheus endpoint.
const PUBLIC_EXACT = new Set(['GET /healthz', 'HEAD /healthz', 'POST /api/v1/session', 'GET /', 'HEAD /']);
const PUBLIC_STATIC = /^(GET|HEAD) \/(?!api\/|metrics\b)(?:[A-Za-z0-9_-]+\/)*[A-Za-z0-9_.-]+\.(html|js|css|svg|png|ico)$/;
function allowListed(key: string): boolean {
  return PUBLIC_EXACT.has(key) || PUBLIC_STATIC.test(key);
}

// What each role may reach, as invariants over the declarations themselves.
const INGEST_ROUTES = new Set(['POST /api/v1/ingest', 'POST /api/v1/metrics/ingest']);
const VIEWER_STATE_CHANGES = new Set(['DELETE /api/v1/session']); // signing out of one's own session

type Kind =
  | 'none'
  | 'garbage bearer'
  | 'revoked token'
  | 'agent token'
  | 'viewer token'
  | 'admin token'
  | 'admin token as Basic'
  | 'admin token in query'
  | 'admin cookie, no csrf'
  | 'admin cookie, csrf'
  | 'viewer cookie, csrf'
  | 'admin cookie, csrf, foreign origin'
  | 'cookie of a revoked token';
const KINDS: Kind[] = [
  'none',
  'garbage bearer',
  'revoked token',
  'agent token',
  'viewer token',
  'admin token',
  'admin token as Basic',
  'admin token in query',
  'admin cookie, no csrf',
  'admin cookie, csrf',
  'viewer cookie, csrf',
  'admin cookie, csrf, foreign origin',
  'cookie of a revoked token',
];

type Expect = 'allow' | 401 | 403;

function rolesOf(route: AuditedRoute): readonly Role[] {
  return route.roles ?? ['admin']; // collector/plugins/auth.ts: deny to all but admin by default
}

function expected(route: AuditedRoute, kind: Kind): Expect {
  if (route.public) return 'allow';
  const byRole = (role: Role): Expect => (rolesOf(route).includes(role) ? 'allow' : 403);
  switch (kind) {
    case 'none':
    case 'garbage bearer':
    case 'revoked token':
    case 'admin token as Basic':
    case 'admin token in query':
    case 'cookie of a revoked token':
      return 401;
    case 'agent token':
      return byRole('agent');
    case 'viewer token':
      return byRole('viewer');
    case 'admin token':
      return byRole('admin');
    case 'admin cookie, no csrf':
    case 'admin cookie, csrf, foreign origin':
      return SAFE.has(route.method) ? byRole('admin') : 403;
    case 'admin cookie, csrf':
      return byRole('admin');
    case 'viewer cookie, csrf':
      return byRole('viewer');
  }
}

let c: TestCollector;
let routes: AuditedRoute[];
const tokens = {} as Record<Role | 'revoked' | 'revokedSession', { token: string; record: TokenRecord }>;

beforeAll(async () => {
  ({ built: c, routes } = await withRouteAudit(() => testCollector()));
  const now = Date.now();
  for (const role of ['agent', 'viewer', 'admin'] as Role[]) tokens[role] = await c.app.storage.tokens.create(role, `matrix ${role}`, now);
  tokens.revoked = await c.app.storage.tokens.create('admin', 'matrix revoked', now);
  await c.app.storage.tokens.revoke(tokens.revoked.record.id, now);
});
afterAll(async () => c?.close());

let addressSeq = 0;
/** A fresh client address (10.200.0.0/16): no request of the matrix inherits another's failures. */
function nextAddress(): string {
  const n = addressSeq++;
  return `10.200.${(n >> 8) & 255}.${n & 255}`;
}

/** A fresh session per request: a DELETE /api/v1/session that is allowed ends the one it used. */
async function session(tokenId: string): Promise<{ id: string; csrf: string }> {
  const { id, record } = await c.app.sessions.create(tokenId, Date.now());
  return { id, csrf: record.csrf };
}

async function request(route: AuditedRoute, kind: Kind): Promise<InjectOptions> {
  // Path parameters get harmless values; `__matrix` is refused by every strict query schema after
  // auth has run (a 400 proves the request got past auth), and keeps the live tail from opening.
  let url = route.url.replace(/:([A-Za-z_]+)/g, (_m, p: string) => (p === 'id' ? 'sil_matrix' : 'matrix-probe'));
  const query = route.public ? '' : '?__matrix=1';
  const headers: Record<string, string> = {};
  const unsafe = !SAFE.has(route.method);
  const withCookie = async (tokenId: string, csrf: boolean, origin: string) => {
    const s = await session(tokenId);
    headers.cookie = `rt_session=${s.id}`;
    headers.origin = origin;
    if (csrf) headers['x-csrf-token'] = s.csrf;
  };
  switch (kind) {
    case 'none':
      break;
    case 'garbage bearer':
      headers.authorization = 'Bearer rt_admin_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
      break;
    case 'revoked token':
      headers.authorization = `Bearer ${tokens.revoked.token}`;
      break;
    case 'agent token':
    case 'viewer token':
    case 'admin token':
      headers.authorization = `Bearer ${tokens[kind.split(' ')[0] as Role].token}`;
      break;
    case 'admin token as Basic':
      headers.authorization = `Basic ${Buffer.from(`admin:${tokens.admin.token}`).toString('base64')}`;
      break;
    case 'admin token in query':
      url += `${query ? query + '&' : '?'}token=${encodeURIComponent(tokens.admin.token)}&access_token=${encodeURIComponent(tokens.admin.token)}`;
      break;
    case 'admin cookie, no csrf':
      await withCookie(tokens.admin.record.id, false, ORIGIN);
      break;
    case 'admin cookie, csrf':
      await withCookie(tokens.admin.record.id, true, ORIGIN);
      break;
    case 'viewer cookie, csrf':
      await withCookie(tokens.viewer.record.id, true, ORIGIN);
      break;
    case 'admin cookie, csrf, foreign origin':
      await withCookie(tokens.admin.record.id, true, 'https://evil.example');
      break;
    case 'cookie of a revoked token': {
      const t = await c.app.storage.tokens.create('admin', 'matrix revoked session', Date.now());
      const s = await session(t.record.id);
      await c.app.storage.tokens.revoke(t.record.id, Date.now());
      headers.cookie = `rt_session=${s.id}`;
      headers.origin = ORIGIN;
      headers['x-csrf-token'] = s.csrf;
      break;
    }
  }
  if (kind !== 'admin token in query') url += query;
  // each request from its own address: a wrong credential counts against the client's address
  // (collector/sessions/throttle.ts, 429 after 10), and the matrix tests authorization, not that
  const opts: InjectOptions = { method: route.method as InjectOptions['method'], url, headers, remoteAddress: nextAddress() };
  if (unsafe) {
    headers['content-type'] = 'application/json';
    opts.payload = '{}';
  }
  return opts;
}

function verdict(route: AuditedRoute, res: LightMyRequestResponse, want: Expect): string | null {
  const s = res.statusCode;
  if (s >= 500) return `answered ${s}: ${res.body.slice(0, 200)}`;
  if (want === 'allow') return s === 401 || s === 403 ? `refused with ${s} (${res.body.slice(0, 120)}), expected to pass auth` : null;
  if (s !== want) return `answered ${s}, expected ${want} (${res.body.slice(0, 120)})`;
  if (route.method !== 'HEAD') {
    const code = want === 401 ? 'RINGTAIL_ERR_AUTH' : 'RINGTAIL_ERR_FORBIDDEN';
    let body: { error?: string; message?: string };
    try {
      body = res.json();
    } catch {
      return `answered ${s} without a JSON body`;
    }
    if (body.error !== code || typeof body.message !== 'string' || body.message === '') return `answered ${s} with ${res.body.slice(0, 120)}, expected error ${code}`;
  }
  return null;
}

describe('route inventory', () => {
  it('the audit saw exactly the routes the app registered', () => {
    const audited = routes.map((r) => `${r.method} ${r.url}`).sort();
    const table = c.app.routeTable.map((r) => `${r.method} ${r.url}`).sort();
    expect(audited).toEqual(table);
    // a sanity floor: the API, the alerts API and the dashboard all registered routes
    for (const key of ['GET /api/v1/logs', 'POST /api/v1/ingest', 'PUT /api/v1/alerts/rules/:name', 'GET /index.html']) expect(audited).toContain(key);
  });

  it('every public route is on the hard-coded allow-list', () => {
    const unexpected = routes.filter((r) => r.public && !allowListed(`${r.method} ${r.url}`)).map((r) => `${r.method} ${r.url}`);
    expect(unexpected).toEqual([]);
    for (const key of ['GET /healthz', 'POST /api/v1/session']) expect(routes.find((r) => `${r.method} ${r.url}` === key)?.public, key).toBe(true);
  });

  it('no route declares both public and roles, and roles name known roles only', () => {
    for (const r of routes) {
      if (r.public) expect(r.roles, `${r.method} ${r.url}`).toBeUndefined();
      for (const role of r.roles ?? []) expect(['agent', 'viewer', 'admin', 'enroll'], `${r.method} ${r.url}`).toContain(role);
    }
  });

  it('agent tokens reach only ingest routes; viewers change no state but their own session', () => {
    const agentReach = routes.filter((r) => !r.public && rolesOf(r).includes('agent')).map((r) => `${r.method} ${r.url}`);
    expect(agentReach.filter((k) => !INGEST_ROUTES.has(k))).toEqual([]);
    expect(agentReach.sort()).toEqual([...INGEST_ROUTES].sort());
    const viewerWrites = routes.filter((r) => !r.public && !SAFE.has(r.method) && rolesOf(r).includes('viewer')).map((r) => `${r.method} ${r.url}`);
    expect(viewerWrites.filter((k) => !VIEWER_STATE_CHANGES.has(k))).toEqual([]);
    // admin reaches every non-public route (nothing is locked away from the operator by accident)
    expect(routes.filter((r) => !r.public && !rolesOf(r).includes('admin')).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  });
});

describe('auth matrix: every route × every credential', () => {
  it.each(KINDS)('%s', async (kind) => {
    const wrong: string[] = [];
    for (const route of routes) {
      const res = await c.app.inject(await request(route, kind));
      const problem = verdict(route, res, expected(route, kind));
      if (problem) wrong.push(`${route.method} ${route.url}: ${problem}`);
    }
    expect(wrong).toEqual([]);
    expect(routes.length).toBeGreaterThan(20);
  });

  it('a bearer token wins over a session cookie: a garbage bearer with a valid admin cookie is refused', async () => {
    const s = await session(tokens.admin.record.id);
    const res = await c.app.inject({
      method: 'GET',
      url: '/api/v1/hosts',
      remoteAddress: nextAddress(),
      headers: { authorization: 'Bearer nope', cookie: `rt_session=${s.id}` },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('RINGTAIL_ERR_AUTH');
  });

  it('a valid token still passes after a burst of wrong bearer tokens from the same address', async () => {
    for (let i = 0; i < 60; i++) {
      const res = await c.app.inject({ method: 'GET', url: '/api/v1/hosts', remoteAddress: '127.0.0.66', headers: { authorization: `Bearer rt_viewer_guess${i}` } });
      expect([401, 429]).toContain(res.statusCode);
    }
    const ok = await c.app.inject({ method: 'GET', url: '/api/v1/hosts', remoteAddress: '127.0.0.77', headers: { authorization: `Bearer ${tokens.viewer.token}` } });
    expect(ok.statusCode).toBe(200);
  });
});

describe('the public sign-in call under hostile bodies', () => {
  it.each([
    ['not JSON', 'application/json', '{"token":'],
    ['token not a string', 'application/json', '{"token":123}'],
    ['token empty', 'application/json', '{"token":""}'],
    ['token 10 KB', 'application/json', JSON.stringify({ token: 'x'.repeat(10_000) })],
    ['extra field', 'application/json', JSON.stringify({ token: 'x', role: 'admin' })],
    ['prototype key', 'application/json', '{"token":"x","__proto__":{"role":"admin"}}'],
    ['array', 'application/json', '[]'],
    ['form encoded', 'application/x-www-form-urlencoded', 'token=x'],
    ['ndjson', 'application/x-ndjson', '{"token":"x"}\n'],
    ['agent token', 'application/json', null],
    ['revoked token', 'application/json', null],
  ])('%s: a coded 4xx, never a session', async (name, type, raw) => {
    const body = raw ?? JSON.stringify({ token: name === 'agent token' ? tokens.agent.token : tokens.revoked.token });
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: `127.0.1.${KINDS.length}`, headers: { 'content-type': type }, payload: body });
    expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
    expect(res.statusCode, res.body).toBeLessThan(500);
    expect(res.json().error).toMatch(/^RINGTAIL_ERR_[A-Z_]+$/);
    expect(res.headers['set-cookie']).toBeUndefined();
  });
});

// Issue 12 #7 and #12, probed as defects before their fixes and kept as the matrix's own checks.
describe('throttle and headers (issue 12 #7, #12)', () => {
  it('issue12#7: wrong bearer tokens from one address are answered 401 ten times, then 429 RINGTAIL_ERR_RATE_LIMITED with Retry-After, a valid token included', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await c.app.inject({ method: 'GET', url: '/api/v1/hosts', remoteAddress: '127.0.0.99', headers: { authorization: `Bearer rt_viewer_guess${i}` } });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(90).fill(429));
    const limited = await c.app.inject({ method: 'GET', url: '/api/v1/hosts', remoteAddress: '127.0.0.99', headers: { authorization: `Bearer ${tokens.admin.token}` } });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toBe('RINGTAIL_ERR_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // the same token from an address that has not failed passes
    const ok = await c.app.inject({ method: 'GET', url: '/api/v1/hosts', remoteAddress: nextAddress(), headers: { authorization: `Bearer ${tokens.admin.token}` } });
    expect(ok.statusCode).toBe(200);
  });

  it('issue12#12: every API response, refusals and the 404 handler included, carries X-Content-Type-Options: nosniff', async () => {
    const missing: string[] = [];
    for (const route of routes) {
      for (const kind of ['none', 'admin token'] as Kind[]) {
        const res = await c.app.inject(await request(route, kind));
        if (res.headers['x-content-type-options'] !== 'nosniff') missing.push(`${route.method} ${route.url} (${kind}, ${res.statusCode})`);
      }
    }
    const notFound = await c.app.inject({ method: 'GET', url: '/api/v1/no-such-route' });
    if (notFound.headers['x-content-type-options'] !== 'nosniff') missing.push('404 handler');
    expect(missing).toEqual([]);
  });
});
