// Dashboard sessions through the real app on a real SQLite file: cookie flags, CSRF (token and
// Origin), throttled failed sign-ins, expiry by the injected clock, revocation, logout.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSessionId } from '../../collector/sessions/ids.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';

let now = 1_700_000_000_000;
let c: TestCollector;
beforeAll(async () => {
  c = await testCollector(() => now);
});
afterAll(async () => c.close());

const HOST = 'localhost:80';
const ORIGIN = 'http://localhost:80';

async function login(token: string, headers: Record<string, string> = {}, ip = '10.0.0.1') {
  return c.app.inject({
    method: 'POST',
    url: '/api/v1/session',
    remoteAddress: ip,
    headers: { host: HOST, 'content-type': 'application/json', origin: ORIGIN, ...headers },
    payload: JSON.stringify({ token }),
  });
}
function sessionOf(res: { headers: Record<string, unknown> }): string {
  const set = String(res.headers['set-cookie']);
  const m = /rt_session=([^;]+)/.exec(set);
  if (!m) throw new Error(`no session cookie in ${set}`);
  return m[1]!;
}

describe('dashboard sessions', () => {
  it('signs a viewer in with an HttpOnly SameSite=Strict cookie and stores only its hash', async () => {
    const res = await login(c.token('viewer'));
    expect(res.statusCode).toBe(200);
    const set = String(res.headers['set-cookie']);
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    expect(set).toMatch(/Path=\//);
    expect(set).not.toMatch(/Secure/); // plain http on loopback; https adds Secure
    const id = sessionOf(res);
    expect(id.length).toBeGreaterThanOrEqual(40);
    expect(res.json()).toMatchObject({ role: 'viewer', csrf: expect.any(String) });
    const stored = await c.app.sessions.storedHashes();
    expect(stored).toContain(hashSessionId(id));
    expect(stored).not.toContain(id);
    const me = await c.app.inject({ method: 'GET', url: '/api/v1/session', headers: { host: HOST, cookie: `rt_session=${id}` } });
    expect(me.json()).toMatchObject({ role: 'viewer', via: 'cookie', csrf: res.json().csrf });
    const logs = await c.app.inject({ method: 'GET', url: '/api/v1/logs', headers: { host: HOST, cookie: `rt_session=${id}` } });
    expect(logs.statusCode).toBe(200);
  });

  it('refuses agent tokens, unknown tokens and foreign origins', async () => {
    const agent = await login(c.token('agent'));
    expect(agent.statusCode).toBe(401);
    expect(agent.json().message).toMatch(/role 'agent'/);
    expect((await login('rt_viewer_nope')).statusCode).toBe(401);
    const foreign = await login(c.token('viewer'), { origin: 'https://evil.example' });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.headers['set-cookie']).toBeUndefined();
  });

  it('demands the CSRF token and a same-origin Origin on state changes, not on reads', async () => {
    const res = await login(c.token('admin'), {}, '10.0.0.2');
    const id = sessionOf(res);
    const csrf = res.json().csrf as string;
    const del = (headers: Record<string, string>) =>
      c.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { host: HOST, cookie: `rt_session=${id}`, ...headers } });
    const noToken = await del({ origin: ORIGIN });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().message).toMatch(/x-csrf-token/);
    expect((await del({ origin: ORIGIN, 'x-csrf-token': csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A') })).statusCode).toBe(403);
    const cross = await del({ origin: 'https://evil.example', 'x-csrf-token': csrf });
    expect(cross.statusCode).toBe(403);
    expect(cross.json().message).toMatch(/cross-origin/);
    expect((await del({ 'x-csrf-token': csrf })).statusCode).toBe(403); // neither Origin nor Referer
    // still signed in after all the refused attempts
    const me = await c.app.inject({ method: 'GET', url: '/api/v1/session', headers: { host: HOST, cookie: `rt_session=${id}` } });
    expect(me.statusCode).toBe(200);
    const out = await del({ referer: ORIGIN + '/#/hosts', 'x-csrf-token': csrf });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/Max-Age=0/);
    const after = await c.app.inject({ method: 'GET', url: '/api/v1/session', headers: { host: HOST, cookie: `rt_session=${id}` } });
    expect(after.statusCode).toBe(401);
  });

  it('ends sessions on expiry, on idleness and when the token is revoked', async () => {
    const start = now;
    const get = (id: string) => c.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: { host: HOST, cookie: `rt_session=${id}` } });
    const idle = sessionOf(await login(c.token('viewer'), {}, '10.0.0.3'));
    now += 2 * 3600_000 + 1;
    expect((await get(idle)).statusCode).toBe(401);
    const kept = sessionOf(await login(c.token('viewer'), {}, '10.0.0.3'));
    for (let i = 0; i < 13; i++) {
      now += 3600_000 - 1;
      const r = await get(kept);
      if (now - (start + 2 * 3600_000 + 1) < 12 * 3600_000) expect(r.statusCode, `hour ${i}`).toBe(200);
      else expect(r.statusCode, `hour ${i}`).toBe(401);
    }
    const { token, record } = await c.app.storage.tokens.create('viewer', 'to revoke', now);
    const id = sessionOf(await login(token, {}, '10.0.0.3'));
    expect((await get(id)).statusCode).toBe(200);
    await c.app.storage.tokens.revoke(record.id, now);
    expect((await get(id)).statusCode).toBe(401);
  });

  it('throttles failed sign-ins per client (429 with Retry-After) without locking others out', async () => {
    for (let i = 0; i < 10; i++) expect((await login('rt_viewer_guess' + i, {}, '10.9.9.9')).statusCode).toBe(401);
    const limited = await login(c.token('viewer'), {}, '10.9.9.9');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toBe('RINGTAIL_ERR_RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await login(c.token('viewer'), {}, '10.8.8.8')).statusCode).toBe(200);
    now += 15 * 60_000 + 1;
    expect((await login(c.token('viewer'), {}, '10.9.9.9')).statusCode).toBe(200);
  });

  it('past 100 failures an hour refuses only addresses that failed: a valid token from a fresh address gets in', async () => {
    now += 3600_000;
    // 10 wrong sign-ins from each of 10 addresses: each address is at its own limit
    for (let a = 0; a < 10; a++) {
      for (let i = 0; i < 10; i++) expect((await login('rt_admin_guess' + i, {}, `10.1.0.${a}`)).statusCode).toBe(401);
      expect((await login(c.token('admin'), {}, `10.1.0.${a}`)).statusCode).toBe(429);
    }
    // the real admin token from a fresh address is not locked out (it was: 429 for an hour)
    const admin = await login(c.token('admin'), {}, '10.2.0.1');
    expect(admin.statusCode).toBe(200);
    expect(admin.json().role).toBe('admin');
    // with the global window full, one failure is enough to refuse an address, a valid token included
    expect((await login('rt_admin_guess', {}, '10.3.0.1')).statusCode).toBe(401);
    const suspect = await login(c.token('viewer'), {}, '10.3.0.1');
    expect(suspect.statusCode).toBe(429);
    expect(Number(suspect.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    // bearer clients that have not failed are unaffected
    const api = await c.app.inject({ method: 'GET', url: '/api/v1/hosts', remoteAddress: '10.4.0.1', headers: { authorization: `Bearer ${c.token('viewer')}` } });
    expect(api.statusCode).toBe(200);
    // its failure ages out of its own window while the global one is still full
    now += 15 * 60_000 + 1;
    expect((await login(c.token('viewer'), {}, '10.3.0.1')).statusCode).toBe(200);
  });
});
