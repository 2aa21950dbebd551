// Failed credentials are limited the same way on the sign-in form and on bearer tokens, per
// client address (IPv6 by /64): a guesser is answered 429 whatever it presents, a valid token
// from an address that has not failed always passes, and a revoked token is no guess.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientKey } from '../../collector/sessions/throttle.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';

let now = 1_700_000_000_000;
let c: TestCollector;

const hosts = (token: string, ip: string) =>
  c.app.inject({ method: 'GET', url: '/api/v1/hosts', remoteAddress: ip, headers: { authorization: `Bearer ${token}` } });
const signIn = (token: string, ip: string) =>
  c.app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: ip, headers: { host: 'localhost:80', 'content-type': 'application/json' }, payload: JSON.stringify({ token }) });

describe('failed-credential throttle', () => {
  beforeEach(async () => {
    c = await testCollector(() => now);
  });
  afterEach(async () => c.close());

  it('200 wrong bearer tokens from one address: 401 for the first 10, then 429 with Retry-After', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 200; i++) codes.push((await hosts(`rt_viewer_guess${i}`, '10.5.0.1')).statusCode);
    expect(codes.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(codes.slice(10)).toEqual(Array(190).fill(429));
    const limited = await hosts('rt_viewer_guess', '10.5.0.1');
    expect(limited.json().error).toBe('RINGTAIL_ERR_RATE_LIMITED');
    const retry = Number(limited.headers['retry-after']);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(15 * 60);
    // decided before the token is looked at: a valid token from this address is refused too,
    // or 200-versus-429 would tell the guesser which guess was right
    expect((await hosts(c.token('viewer'), '10.5.0.1')).statusCode).toBe(429);
    // other addresses are not affected
    expect((await hosts(c.token('viewer'), '10.5.0.2')).statusCode).toBe(200);
    // the window passes and the address is served again
    now += 15 * 60_000 + 1;
    expect((await hosts(c.token('viewer'), '10.5.0.1')).statusCode).toBe(200);
    expect(c.app.events.count('auth.failed')).toBe(10);
  });

  it('sign-in and bearer failures share one limit per address', async () => {
    for (let i = 0; i < 5; i++) expect((await signIn(`rt_viewer_a${i}`, '10.6.0.1')).statusCode).toBe(401);
    for (let i = 0; i < 5; i++) expect((await hosts(`rt_viewer_b${i}`, '10.6.0.1')).statusCode).toBe(401);
    expect((await signIn(c.token('viewer'), '10.6.0.1')).statusCode).toBe(429);
    expect((await hosts(c.token('viewer'), '10.6.0.1')).statusCode).toBe(429);
  });

  it('a revoked token is no guess: an agent retrying with one does not lock its address out', async () => {
    const { token, record } = await c.app.storage.tokens.create('agent', 'decommissioned', now);
    await c.app.storage.tokens.revoke(record.id, now);
    for (let i = 0; i < 30; i++) expect((await hosts(token, '10.7.0.1')).statusCode).toBe(401);
    expect((await hosts(c.token('viewer'), '10.7.0.1')).statusCode).toBe(200);
  });

  it('a spray from 10 addresses fills the global window; a valid token from a fresh address still passes', async () => {
    for (let a = 0; a < 10; a++) for (let i = 0; i < 10; i++) await hosts(`rt_admin_guess${i}`, `10.8.0.${a}`);
    expect((await hosts(c.token('admin'), '10.8.1.1')).statusCode).toBe(200);
    // one failure from a new address is now enough for 429
    expect((await hosts('rt_admin_guess', '10.8.1.2')).statusCode).toBe(401);
    expect((await hosts(c.token('admin'), '10.8.1.2')).statusCode).toBe(429);
  });

  it('counts an IPv6 client by its /64', async () => {
    for (let i = 1; i <= 10; i++) expect((await hosts('rt_viewer_guess', `2001:db8:1:2::${i.toString(16)}`)).statusCode).toBe(401);
    expect((await hosts(c.token('viewer'), '2001:db8:1:2:ffff:ffff:ffff:ffff')).statusCode).toBe(429);
    expect((await hosts(c.token('viewer'), '2001:db8:1:3::1')).statusCode).toBe(200);
  });

});

describe('clientKey', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:DB8::1', '2001:db8:0:0::/64'],
    ['2001:db8:0:0:1::', '2001:db8:0:0::/64'],
    ['2001:0db8:0000:0001:0:0:0:1', '2001:db8:0:1::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('client key of %s is %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });
});
