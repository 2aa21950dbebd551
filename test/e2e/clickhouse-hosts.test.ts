// Issue 16 item 4, host lifecycle: two `ringtail collector --storage clickhouse` processes on one
// chdb engine (test/fixtures/chdb-server.mjs, the real client protocol), agents that reach only
// collector A. Collector B lists their hosts with their states; an ephemeral agent that stops is
// retired on both; a host forgotten through B is gone from A, lines included. Host timings are
// shortened by options; every wait polls with a deadline.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN } from '../helpers/agent-run.js';
import { allLogs, api, type Proc, ringtail, waitFor } from '../helpers/proc.js';
import { sharedRig } from '../helpers/shared-rig.js';
import { SharedCollector } from '../helpers/shared-collector.js';

const DATABASE = 'hosts_shared';
const HOST_TIMINGS = ['--hosts-sweep-interval', '500ms', '--hosts-default-interval', '1s', '--hosts-down-after', '3s', '--hosts-retire-after', '6s'];

const rig = sharedRig('ringtail-chhosts-');
const { dir, procs } = rig;

function startAgent(host: string, to: SharedCollector, ephemeral: boolean): { proc: Proc; file: string } {
  const base = join(dir.path, host);
  mkdirSync(join(base, 'logs'), { recursive: true });
  const file = join(base, 'logs', 'app.log');
  appendFileSync(file, `first line of ${host}\n`);
  const proc = ringtail(
    [
      'agent', '--collector', `http://127.0.0.1:${to.port}`, '--state', join(base, 'state'), '--host', host, '--watch', file,
      '--batch-linger-ms', '100', '--scan-interval-ms', '250', '--metrics-interval-ms', '1000', ...(ephemeral ? ['--ephemeral'] : []),
    ],
    { RINGTAIL_TOKEN: to.token },
  );
  procs.push(proc);
  return { proc, file };
}

type Item = { host: string; state: string; ephemeral: boolean; last_seen: number };
const hosts = async (c: SharedCollector): Promise<Record<string, Item>> =>
  Object.fromEntries((await api<{ items: Item[] }>(c.url, ADMIN, '/api/v1/hosts?include_retired=true')).items.map((i) => [i.host, i]));

describe('host states shared by two collectors on ClickHouse', () => {
  it('B lists hosts that reported only to A; an ephemeral one that stops is retired on both; forget through B removes it on A', { timeout: 180_000 }, async () => {
    const a = new SharedCollector('collector-a', dir.path, { url: rig.chdb.url, database: DATABASE }, procs, HOST_TIMINGS);
    const b = new SharedCollector('collector-b', dir.path, { url: rig.chdb.url, database: DATABASE }, procs, HOST_TIMINGS);
    await Promise.all([a.start(), b.start()]);

    const eph = startAgent('eph-1', a, true);
    const perm = startAgent('perm-1', a, false);
    await waitFor('B lists both hosts, up', async () => {
      const h = await hosts(b);
      return h['eph-1']?.state === 'up' && h['perm-1']?.state === 'up';
    }, 60_000, 200);
    const onB = await hosts(b);
    expect(onB['eph-1']).toMatchObject({ state: 'up', ephemeral: true });
    expect(onB['perm-1']).toMatchObject({ state: 'up', ephemeral: false });
    // (its lines are read through B as well: they are in the shared store)
    expect((await allLogs(b.url, ADMIN, '&host=perm-1')).map((l) => l.message)).toContain('first line of perm-1');

    // the ephemeral instance ends: retired on both (decided once, by the evaluator)
    await eph.proc.kill('SIGTERM');
    for (const c of [a, b]) {
      await waitFor(`eph-1 retired on ${c.name}`, async () => (await hosts(c))['eph-1']?.state === 'retired', 90_000, 200);
    }
    // and out of both default listings
    for (const c of [a, b]) expect((await api<{ items: Item[] }>(c.url, ADMIN, '/api/v1/hosts')).items.map((i) => i.host)).not.toContain('eph-1');

    // perm-1 stops too (its last batch handled: stale on A); forgotten through B: gone on A, record and lines
    await perm.proc.kill('SIGTERM');
    await waitFor('perm-1 silent on A', async () => ['stale', 'down'].includes((await hosts(a))['perm-1']?.state ?? ''), 30_000, 200);
    const del = await fetch(`${b.url}/api/v1/hosts/perm-1`, { method: 'DELETE', headers: { authorization: `Bearer ${ADMIN}` } });
    expect(del.status, await del.text()).toBe(200);
    await waitFor('perm-1 gone on A', async () => (await hosts(a))['perm-1'] === undefined, 30_000, 200);
    const one = await fetch(`${a.url}/api/v1/hosts/perm-1`, { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(one.status).toBe(404);
    expect(await allLogs(a.url, ADMIN, '&host=perm-1')).toEqual([]);
    expect((await hosts(b))['perm-1']).toBeUndefined();
  });
});
