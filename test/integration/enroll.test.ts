// Enrollment (issue 15 item 3): an enrollment token trades itself, at an instance's first start,
// for an agent token bound to the instance's host name; limited in uses and lifetime; revoking
// it stops new instances, not running ones. Every refusal names its reason and is counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';

let now = 1_800_000_000_000;
let c: TestCollector;
beforeAll(async () => {
  c = await testCollector(() => now);
});
afterAll(async () => c.close());

function enroll(token: string, body: unknown = { host: 'web-9' }) {
  return c.app.inject({ method: 'POST', url: '/api/v1/enroll', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
}
function ingest(token: string, host: string, stream = `s-${host}-${Math.random()}`) {
  return c.app.inject({
    method: 'POST',
    url: '/api/v1/ingest',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: JSON.stringify(batchOf(['hello from ' + host], { host, stream, agent: `agt_${host}` })),
  });
}

describe('enrollment', () => {
  it('issues an agent token bound to the host, once per allowed use, counted atomically', async () => {
    const e = await c.app.storage.tokens.create('enroll', 'fleet-a', now, { uses: 1 });
    expect(e.token).toMatch(/^rt_enroll_/);
    // two at once with one use left: exactly one succeeds
    const [a, b] = await Promise.all([enroll(e.token, { host: 'web-9', agent_id: 'agt_1' }), enroll(e.token, { host: 'web-10' })]);
    const answers = [a, b].map((r) => r.statusCode).sort();
    expect(answers).toEqual([200, 403]);
    const ok = a.statusCode === 200 ? a : b;
    const no = a.statusCode === 200 ? b : a;
    expect(no.json().error).toBe('RINGTAIL_ERR_ENROLL_USED_UP');
    const issued = ok.json() as { token: string; host: string; token_id: string };
    expect(issued.token).toMatch(/^rt_agent_/);
    // the secret is stored hashed like every token: the list never shows it
    const listed = await c.app.storage.tokens.list();
    expect(JSON.stringify(listed)).not.toContain(issued.token);
    expect(JSON.stringify(listed)).not.toContain(e.token);
    expect(listed.find((t) => t.id === e.record.id)).toMatchObject({ role: 'enroll', uses: 1, uses_max: 1 });
    expect(listed.find((t) => t.id === issued.token_id)).toMatchObject({ role: 'agent', enrolled_host: issued.host });
    // the agent token sends for its host, and for no other even with auth.bind_agent_hosts off
    expect((await ingest(issued.token, issued.host)).statusCode).toBe(200);
    const other = await ingest(issued.token, issued.host === 'web-9' ? 'web-10' : 'web-9');
    expect(other.statusCode).toBe(403);
    expect(other.json().error).toBe('RINGTAIL_ERR_FORBIDDEN');
    // and a third try is refused too, counted
    const before = c.app.events.count('enroll.refused');
    const third = await enroll(e.token);
    expect(third.statusCode).toBe(403);
    expect(third.json().error).toBe('RINGTAIL_ERR_ENROLL_USED_UP');
    expect(c.app.events.count('enroll.refused')).toBe(before + 1);
    expect(c.app.events.count('enroll.issued')).toBeGreaterThanOrEqual(1);
  });

  it('N uses issue N agent tokens however many ask at once', async () => {
    const e = await c.app.storage.tokens.create('enroll', 'fleet-n', now, { uses: 3 });
    const res = await Promise.all(Array.from({ length: 8 }, (_, i) => enroll(e.token, { host: `n-${i}` })));
    expect(res.filter((r) => r.statusCode === 200)).toHaveLength(3);
    expect(res.filter((r) => r.statusCode === 403 && r.json().error === 'RINGTAIL_ERR_ENROLL_USED_UP')).toHaveLength(5);
  });

  it('an expired enrollment token is refused with its reason', async () => {
    const e = await c.app.storage.tokens.create('enroll', 'fleet-ttl', now, { expires_at: now + 3_600_000 });
    expect((await enroll(e.token, { host: 'ttl-1' })).statusCode).toBe(200);
    now += 3_600_000;
    const before = c.app.events.count('enroll.refused');
    const res = await enroll(e.token, { host: 'ttl-2' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('RINGTAIL_ERR_ENROLL_EXPIRED');
    expect(c.app.events.count('enroll.refused')).toBe(before + 1);
  });

  it('revoking it stops new instances, not running ones', async () => {
    const e = await c.app.storage.tokens.create('enroll', 'fleet-r', now);
    const first = (await enroll(e.token, { host: 'r-1' })).json() as { token: string };
    expect(await c.app.storage.tokens.revoke(e.record.id, now)).toBe(true);
    const before = c.app.events.count('enroll.refused');
    const res = await enroll(e.token, { host: 'r-2' });
    expect(res.statusCode).toBe(401);
    expect(res.json().error).toBe('RINGTAIL_ERR_ENROLL_REVOKED');
    expect(c.app.events.count('enroll.refused')).toBe(before + 1);
    // the instance enrolled before keeps shipping
    expect((await ingest(first.token, 'r-1')).statusCode).toBe(200);
  });

  it('an enrollment token can do nothing but enroll, and only it (or an admin) can enroll', async () => {
    const e = await c.app.storage.tokens.create('enroll', 'fleet-w', now);
    const before = c.app.events.count('enroll.refused');
    for (const [method, url] of [['GET', '/api/v1/logs'], ['GET', '/api/v1/hosts'], ['POST', '/api/v1/ingest'], ['POST', '/api/v1/metrics/ingest']] as const) {
      const res = await c.app.inject({ method, url, headers: { authorization: `Bearer ${e.token}` } });
      expect(res.statusCode, url).toBe(403);
      expect(res.json().error).toBe('RINGTAIL_ERR_FORBIDDEN');
    }
    const byAgent = await enroll(c.token('agent'));
    expect(byAgent.statusCode).toBe(403);
    expect(byAgent.json().error).toBe('RINGTAIL_ERR_FORBIDDEN');
    expect(c.app.events.count('enroll.refused')).toBe(before + 5);
    // an admin enrolls by hand: a bound agent token, no enrollment token involved
    const byAdmin = await enroll(c.token('admin'), { host: 'manual-1' });
    expect(byAdmin.statusCode).toBe(200);
    expect((await ingest(byAdmin.json().token as string, 'manual-1')).statusCode).toBe(200);
  });

  it('bad bodies are 400s naming the field', async () => {
    const e = await c.app.storage.tokens.create('enroll', 'fleet-b', now, { uses: 1 });
    for (const body of [{}, { host: '' }, { host: 'x'.repeat(256) }, { host: 'h', extra: 1 }]) {
      const res = await enroll(e.token, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error).toBe('RINGTAIL_ERR_BAD_REQUEST');
    }
    // no use was spent on them
    expect((await enroll(e.token, { host: 'b-1' })).statusCode).toBe(200);
  });
});

describe('enrollment across processes', () => {
  it('with one use left, processes enrolling on the same database at once issue exactly one token', async () => {
    const { execFile } = await import('node:child_process');
    const { existsSync, readdirSync, writeFileSync } = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    const { tempDir, waitFor } = await import('../helpers/proc.js');
    const { openSqliteStorage } = await import('../../collector/storage/sqlite/index.js');
    const dist = fileURLToPath(new URL('../../dist/collector/storage/sqlite/index.js', import.meta.url));
    expect(existsSync(dist), 'npm run build first').toBe(true);
    const d = tempDir('ringtail-enroll-race-');
    try {
      for (let round = 0; round < 3; round++) {
        const data = `${d.path}/r${round}`;
        const s = openSqliteStorage(data);
        const secret = (await s.tokens.create('enroll', 'race', Date.now(), { uses: 1 })).token;
        s.close();
        const go = `${d.path}/go${round}`;
        // each process opens the database, says so, then spins until `go` exists: they enroll together
        const script = `
          import { existsSync, writeFileSync } from 'node:fs';
          import { openSqliteStorage } from ${JSON.stringify(dist)};
          const s = openSqliteStorage(${JSON.stringify(data)});
          writeFileSync(${JSON.stringify(`${d.path}/ready${round}-`)} + process.pid, '');
          while (!existsSync(${JSON.stringify(go)})) {}
          const r = await s.tokens.enroll(process.env.SECRET, 'host-' + process.pid, undefined, Date.now());
          s.close();
          process.stdout.write(r.ok ? 'ok' : r.reason);`;
        const runs = Array.from(
          { length: 4 },
          () =>
            new Promise<string>((resolve, reject) =>
              execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, SECRET: secret }, timeout: 30_000 }, (err, out, stderr) =>
                err ? reject(new Error(stderr || String(err))) : resolve(out),
              ),
            ),
        );
        await waitFor('all four to open the database', () => readdirSync(d.path).filter((f) => f.startsWith(`ready${round}-`)).length === 4, 30_000);
        writeFileSync(go, '');
        const results = (await Promise.all(runs)).sort();
        expect(results).toEqual(['ok', 'used_up', 'used_up', 'used_up']);
        const after = openSqliteStorage(data);
        expect((await after.tokens.list()).filter((t) => t.role === 'agent')).toHaveLength(1);
        after.close();
      }
    } finally {
      d.cleanup();
    }
  }, 60_000);
});
