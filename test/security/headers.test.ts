// Issue 12, item 12: API responses lacked `X-Content-Type-Options: nosniff` (only the
// dashboard's files had it). Every response now carries the security headers: every registered
// route with and without credentials, errors of every kind, the live tail over a real socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { DASHBOARD_CSP } from '../../collector/plugins/dashboard.js';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';

let c: TestCollector;
beforeAll(async () => {
  c = await testCollector();
});
afterAll(async () => c.close());

type Res = { statusCode: number; headers: Record<string, unknown> };

function expectApiHeaders(res: Res, what: string): void {
  expect(res.headers['x-content-type-options'], what).toBe('nosniff');
  expect(res.headers['x-frame-options'], what).toBe('DENY');
  expect(res.headers['referrer-policy'], what).toBe('no-referrer');
  expect(res.headers['content-security-policy'], what).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(res.headers['cache-control'], what).toBe('no-store');
}

describe('security headers', () => {
  it('on every route, without credentials (401) and with an admin token', async () => {
    const seen = new Set<number>();
    for (const route of c.app.routeTable) {
      const url = route.url.replace(/:(\w+)/g, 'x');
      const what = `${route.method} ${route.url}`;
      if (url === '/api/v1/logs/stream') continue; // an endless stream: over a socket below
      for (const token of [null, c.token('admin')]) {
        const res = await c.app.inject({ method: route.method as 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
        seen.add(res.statusCode);
        expect(res.headers['x-content-type-options'], `${what}: ${res.statusCode}`).toBe('nosniff');
        expect(res.headers['x-frame-options'], `${what}: ${res.statusCode}`).toBe('DENY');
        expect(res.headers['referrer-policy'], what).toBeDefined();
        expect(res.headers['content-security-policy'], what).toMatch(/frame-ancestors 'none'/);
      }
    }
    // the walk met answers, refusals and errors alike
    for (const status of [200, 400, 401, 404]) expect(seen).toContain(status);
  });

  it.each([
    ['401 without a token', { method: 'GET', url: '/api/v1/logs' }, 401],
    ['401 with an unknown token', { method: 'GET', url: '/api/v1/logs', headers: { authorization: 'Bearer rt_admin_nope' } }, 401],
    ['404 for no route', { method: 'GET', url: '/api/v1/nothing-here' }, 404],
    ['400 for malformed JSON', { method: 'POST', url: '/api/v1/ingest', headers: { 'content-type': 'application/json' }, payload: '{"version":' }, 400],
    ['415 for an unknown content type', { method: 'POST', url: '/api/v1/ingest', headers: { 'content-type': 'text/x-nope' }, payload: 'x' }, 415],
    ['200 from /healthz', { method: 'GET', url: '/healthz' }, 200],
  ] as const)('%s', async (_name, req, status) => {
    const headers: Record<string, string> = { ...('headers' in req ? req.headers : {}) };
    if (req.method === 'POST') headers.authorization = `Bearer ${c.token('agent')}`;
    if (status === 404) headers.authorization = `Bearer ${c.token('admin')}`; // without, deny by default: 401
    const res = await c.app.inject({ ...req, headers } as InjectOptions);
    expect(res.statusCode, res.body).toBe(status);
    expectApiHeaders(res, req.url);
  });

  it('a 400 from ingest validation and a 200 ack', async () => {
    const post = (body: object) => c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: body });
    const bad = await post({ version: 1 });
    expect(bad.statusCode).toBe(400);
    expectApiHeaders(bad, 'bad batch');
    const ok = await post(batchOf(['hello'], { stream: 'hdr' }));
    expect(ok.statusCode).toBe(200);
    expectApiHeaders(ok, 'ack');
  });

  it("the dashboard's page keeps its own policy", async () => {
    const res = await c.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBe(DASHBOARD_CSP);
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-frame-options']).toBe('DENY');
  });

  it('the live tail (a hijacked reply) over a real socket', async () => {
    const base = await c.app.listen({ host: '127.0.0.1', port: 0 });
    const ac = new AbortController();
    try {
      const res = await fetch(`${base}/api/v1/logs/stream`, { headers: { authorization: `Bearer ${c.token('viewer')}` }, signal: ac.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      // the stream's own cache policy wins over the default
      expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
      const unauth = await fetch(`${base}/api/v1/logs/stream`);
      expect(unauth.status).toBe(401);
      expect(unauth.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      ac.abort();
    }
  });
});
