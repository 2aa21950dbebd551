// `ringtail hosts list|retire|forget --storage clickhouse …` as real processes on a chdb engine
// (test/fixtures/chdb-server.mjs) shared with a `ringtail collector --storage clickhouse`: the
// command acts on the shared store as a collector's API would, with no --data. A retire through
// the command shows on the running collector at its next sweep; a forget deletes the host's
// record, lines and metric series (once no collector holds the host's metric lease: while one
// does, the command says which series are left and exits 1).
import { describe, expect, it } from 'vitest';
import { ADMIN } from '../helpers/agent-run.js';
import { batchOf } from '../helpers/collector.js';
import { allLogs, api, runRingtail, waitFor } from '../helpers/proc.js';
import { sharedRig } from '../helpers/shared-rig.js';
import { SharedCollector } from '../helpers/shared-collector.js';
import { WIRE_VERSION } from '../../shared/wire.js';

const DATABASE = 'hosts_cli';
const rig = sharedRig('ringtail-chhosts-cli-');
const { dir, procs } = rig;

type Item = { host: string; state: string };
const where = () => ['--storage', 'clickhouse', '--clickhouse-url', rig.chdb.url, '--clickhouse-database', DATABASE];
const hostsOn = async (c: SharedCollector): Promise<Record<string, Item>> =>
  Object.fromEntries((await api<{ items: Item[] }>(c.url, ADMIN, '/api/v1/hosts?include_retired=true')).items.map((i) => [i.host, i]));
const listed = async (extra: string[] = []) => {
  const r = await runRingtail(['hosts', 'list', ...where(), ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim() === '' ? [] : r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Item);
};

async function feed(c: SharedCollector, host: string) {
  const h = { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' };
  const l = await fetch(`${c.url}/api/v1/ingest`, { method: 'POST', headers: h, body: JSON.stringify(batchOf([`line of ${host}`], { host, agent: `agt_${host}`, stream: host, ts: Date.now() })) });
  expect(l.status, await l.text()).toBe(200);
  const m = await fetch(`${c.url}/api/v1/metrics/ingest`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({ version: WIRE_VERSION, agent_id: `agt_${host}`, host, samples: [{ name: 'load.1', type: 'GAUGE', ts: Date.now(), value: 1 }] }),
  });
  expect(m.status, await m.text()).toBe(200);
}

const seriesOf = async (c: SharedCollector, host: string) => (await api<{ items: unknown[] }>(c.url, ADMIN, `/api/v1/metrics?host=${host}`)).items.length;

describe('ringtail hosts on ClickHouse (processes)', () => {
  it('lists the shared hosts, retires one on the running collector, forgets one with its lines and series', { timeout: 180_000 }, async () => {
    const c = new SharedCollector('collector', dir.path, { url: rig.chdb.url, database: DATABASE }, procs, ['--hosts-sweep-interval', '200ms']);
    await c.start();
    await feed(c, 'web-1');
    await feed(c, 'web-2');
    await waitFor('both hosts saved to ClickHouse', async () => (await listed()).length === 2, 30_000, 200);
    expect((await listed()).map((h) => [h.host, h.state])).toEqual([
      ['web-1', 'up'],
      ['web-2', 'up'],
    ]);

    const retire = await runRingtail(['hosts', 'retire', '--host', 'web-2', ...where()]);
    expect(retire.code, retire.stderr).toBe(0);
    expect(JSON.parse(retire.stdout)).toEqual({ host: 'web-2', retired: true });
    await waitFor('web-2 retired on the running collector', async () => (await hostsOn(c))['web-2']?.state === 'retired', 30_000, 200);
    expect((await listed()).map((h) => h.host)).toEqual(['web-1']);
    expect((await listed(['--include-retired'])).map((h) => [h.host, h.state])).toEqual([
      ['web-1', 'up'],
      ['web-2', 'retired'],
    ]);

    // the running collector holds web-1's metric lease (it consolidates its series; a sample
    // just now: the lease is fresh, 30 s): the series cannot be deleted yet, and the command says so
    await feed(c, 'web-1');
    expect(await seriesOf(c, 'web-1')).toBeGreaterThan(0);
    const held = await runRingtail(['hosts', 'forget', '--host', 'web-1', '--wait-ms', '500', ...where()]);
    expect(held.code).toBe(1);
    expect(held.stderr).toMatch(/RINGTAIL_ERR_STORAGE forgot 'web-1' but \d+ metric series are left .*web-1\/load\.1.*consolidated by collector/);
    await waitFor('web-1 gone on the running collector', async () => (await hostsOn(c))['web-1'] === undefined, 30_000, 200);
    expect(await allLogs(c.url, ADMIN, '&host=web-1')).toEqual([]);

    // stopped in order, the collector releases its leases: the series go too
    await c.proc!.kill('SIGTERM');
    const forget = await runRingtail(['hosts', 'forget', '--host', 'web-1', ...where()]);
    expect(forget.code, forget.stderr).toBe(0);
    expect(JSON.parse(forget.stdout)).toMatchObject({ host: 'web-1', forgotten: true });
    expect(JSON.parse(forget.stdout).series).toBeGreaterThan(0);
    const again = await runRingtail(['hosts', 'forget', '--host', 'web-1', ...where()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('RINGTAIL_ERR_NOT_FOUND');
    await c.start();
    expect(await seriesOf(c, 'web-1')).toBe(0);
    expect(await seriesOf(c, 'web-2')).toBeGreaterThan(0);
    expect((await listed(['--include-retired'])).map((h) => h.host)).toEqual(['web-2']);
  });
});
