// Two collectors (buildApp, each with its own --data) on one ClickHouse, as behind a load
// balancer: an agent or a browser may reach either. A token made through one is accepted by the
// other; revoked through one, it is refused by the other within the documented delay
// (REVOCATION_DELAY_MS; polled with a deadline); a dashboard session made on one works on the
// other and signing out on that one ends it on the first; an enrollment token's last use is
// spent once when two instances enroll through both at the same moment; the admin bootstrap
// works when both start at once on a fresh database.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin } from '../../collector/bootstrap.js';
import { REVOCATION_DELAY_MS } from '../../collector/storage/clickhouse/index.js';
import { openStorageAsync } from '../../collector/storage/factory.js';
import type { Storage } from '../../collector/storage/types.js';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { createToken, runRingtail, tempDir, waitFor } from '../helpers/proc.js';
import { startChdb, type ChdbServer } from '../contract/chdb-fixture.js';

const dir = tempDir('ringtail-chdb-auth-');
let server: ChdbServer;
const storages: Storage[] = [];
let a: TestCollector;
let b: TestCollector;

const open = async (name: string, database = 'shared_auth') => {
  const s = await openStorageAsync({ backend: 'clickhouse', data: join(dir.path, name), clickhouse: { url: server.url, database } });
  storages.push(s);
  return s;
};

beforeAll(async () => {
  server = await startChdb(join(dir.path, 'chdb'));
  const [sa, sb] = await Promise.all([open('a'), open('b')]);
  a = await testCollector(undefined, { storage: sa, dataDir: join(dir.path, 'a') });
  b = await testCollector(undefined, { storage: sb, dataDir: join(dir.path, 'b') });
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  for (const s of storages) s.close();
  await server?.stop();
  dir.cleanup();
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const HOST = 'localhost:80';
const ORIGIN = 'http://localhost:80';

describe('two collectors sharing tokens and sessions on ClickHouse', () => {
  it('a token created through one collector is accepted by the other, for reads and for ingest', async () => {
    const viewer = await a.app.storage.tokens.create('viewer', 'made on a', Date.now());
    expect((await b.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: bearer(viewer.token) })).statusCode).toBe(200);
    const agent = await a.app.storage.tokens.create('agent', 'agent made on a', Date.now());
    const res = await b.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: bearer(agent.token), payload: batchOf(['hello from b'], { host: 'shared-1', agent: 'agt-shared-1', stream: 's1' }) });
    expect(res.statusCode).toBe(200);
    // b's tokens are a's too (testCollector made them through b)
    expect((await a.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: bearer(b.token('viewer')) })).statusCode).toBe(200);
  });

  it('a token revoked through one collector is refused by the other within the documented delay', async () => {
    const { token, record } = await a.app.storage.tokens.create('viewer', 'to revoke', Date.now());
    const get = (c: TestCollector) => c.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: bearer(token) });
    expect((await get(b)).statusCode).toBe(200); // b has verified it (and caches it)
    const revokedAt = Date.now();
    expect(await a.app.storage.tokens.revoke(record.id, revokedAt)).toBe(true);
    expect((await get(a)).statusCode).toBe(401); // at once where it was revoked
    const refused = await waitFor('b refusing the revoked token', async () => (await get(b)).statusCode === 401 && Date.now(), REVOCATION_DELAY_MS + 3_000, 100);
    expect(refused - revokedAt).toBeLessThanOrEqual(REVOCATION_DELAY_MS + 1_000);
  });

  it('ringtail token create|list|revoke --storage clickhouse work on the store the collectors share', async () => {
    const where = ['--storage', 'clickhouse', '--clickhouse-url', server.url, '--clickhouse-database', 'shared_auth'];
    const token = await createToken(where, 'viewer', ['--name', 'from the cli']);
    expect((await b.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: bearer(token) })).statusCode).toBe(200);
    const listed = await runRingtail(['token', 'list', ...where]);
    const record = listed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; name: string }).find((t) => t.name === 'from the cli')!;
    expect(listed.stdout).not.toContain(token);
    const revoked = await runRingtail(['token', 'revoke', ...where, '--id', record.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    await waitFor('a refusing the token revoked by the CLI', async () => (await a.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: bearer(token) })).statusCode === 401, REVOCATION_DELAY_MS + 3_000, 100);
    expect((await runRingtail(['token', 'revoke', ...where, '--id', record.id])).code).toBe(1);
  });

  it('a session made on one collector works on the other; signing out on the other ends it on both', async () => {
    const login = await a.app.inject({ method: 'POST', url: '/api/v1/session', headers: { host: HOST, origin: ORIGIN, 'content-type': 'application/json' }, payload: JSON.stringify({ token: a.token('viewer') }) });
    expect(login.statusCode).toBe(200);
    const id = /rt_session=([^;]+)/.exec(String(login.headers['set-cookie']))![1]!;
    const csrf = login.json().csrf as string;
    const cookie = { host: HOST, cookie: `rt_session=${id}` };
    const me = await b.app.inject({ method: 'GET', url: '/api/v1/session', headers: cookie });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({ role: 'viewer', via: 'cookie', csrf });
    expect((await b.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: cookie })).statusCode).toBe(200);
    const out = await b.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { ...cookie, origin: ORIGIN, 'x-csrf-token': csrf } });
    expect(out.statusCode).toBe(204);
    expect((await a.app.inject({ method: 'GET', url: '/api/v1/session', headers: cookie })).statusCode).toBe(401);
  });

  it('an enrollment token with one use left, two instances enrolling through both collectors at once: one agent token', async () => {
    for (let round = 0; round < 3; round++) {
      const e = await a.app.storage.tokens.create('enroll', `asg-${round}`, Date.now(), { uses: 1 });
      const ask = (c: TestCollector, host: string) => c.app.inject({ method: 'POST', url: '/api/v1/enroll', headers: bearer(e.token), payload: { host } });
      const answers = await Promise.all([ask(a, `i-a${round}`), ask(b, `i-b${round}`)]);
      expect(answers.map((r) => r.statusCode).sort(), `round ${round}`).toEqual([200, 403]);
      expect(answers.find((r) => r.statusCode === 403)!.json().error).toBe('RINGTAIL_ERR_ENROLL_USED_UP');
      const won = answers.find((r) => r.statusCode === 200)!.json() as { token: string; host: string };
      // the new agent token works on the collector that did not issue it, for its own host only
      const other = answers[0]!.statusCode === 200 ? b : a;
      const sent = await other.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: bearer(won.token), payload: batchOf(['enrolled'], { host: won.host, agent: `agt-${won.host}`, stream: 's' }) });
      expect(sent.statusCode).toBe(200);
    }
  });

  it('the admin bootstrap works when two collectors start at once on a fresh database', async () => {
    const [x, y] = await Promise.all([open('boot-x', 'fresh_boot'), open('boot-y', 'fresh_boot')]);
    const given = 'rt_admin_given-on-both-collectors-0123456789';
    const [cx, cy] = await Promise.all([ensureAdmin(x, join(dir.path, 'boot-x'), given, Date.now()), ensureAdmin(y, join(dir.path, 'boot-y'), given, Date.now())]);
    expect([cx.token, cy.token]).toEqual([given, given]);
    expect((await x.tokens.list()).filter((t) => t.role === 'admin')).toHaveLength(1);
    expect(await y.tokens.verify(given)).toMatchObject({ role: 'admin' });
    // generated instead (no --admin-token): whatever each collector printed works on both
    const [gx, gy] = await Promise.all([open('gen-x', 'fresh_gen'), open('gen-y', 'fresh_gen')]);
    const [ax, ay] = await Promise.all([ensureAdmin(gx, join(dir.path, 'gen-x'), undefined, Date.now()), ensureAdmin(gy, join(dir.path, 'gen-y'), undefined, Date.now())]);
    for (const t of [ax.token, ay.token].filter((t): t is string => t !== null)) {
      expect(await gx.tokens.verify(t)).toMatchObject({ role: 'admin' });
      expect(await gy.tokens.verify(t)).toMatchObject({ role: 'admin' });
    }
    expect([ax.token, ay.token].some((t) => t !== null)).toBe(true);
  });

  it('ClickHouse unreachable: a token check answers 503 with Retry-After, not 401; back once it returns', async () => {
    const { token } = await a.app.storage.tokens.create('viewer', 'during outage', Date.now());
    const get = () => b.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: bearer(token) });
    await server.kill();
    try {
      const res = await get();
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toBe('RINGTAIL_ERR_STORAGE');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await server.restart();
    }
    await waitFor('the token accepted again', async () => (await get()).statusCode === 200, 30_000, 200);
  });
});
