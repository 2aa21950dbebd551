// Host lifecycle shared by two collectors on one ClickHouse (a chdb server over the real client
// protocol; issue 16 item 4): a host that reported only to A is listed by B with its state;
// silence is decided once, by the designated alert evaluator (A), and B follows; an ephemeral
// host that stops reporting is retired on both; forget and retire through B act on A; an
// unreachable ClickHouse neither crashes nor blocks the hosts' bookkeeping, and what it held is
// saved once ClickHouse is back. Sweeps are driven by hand on an injected clock (no timers, no sleeps).
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStorageAsync } from '../../collector/storage/factory.js';
import type { Storage } from '../../collector/storage/types.js';
import { FakeClock, bearer } from '../helpers/alerts.js';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';
import { startChdb, type ChdbServer } from '../contract/chdb-fixture.js';

const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);
const dir = tempDir('ringtail-hosts-ch-');
let server: ChdbServer;
let db = 0;
const open: Array<{ c: TestCollector; storage: Storage }> = [];

beforeAll(async () => {
  server = await startChdb(`${dir.path}/chdb`);
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.c.close();
    o.storage.close();
  }
});
afterAll(async () => {
  await server?.stop();
  dir.cleanup();
});

interface C {
  app: FastifyInstance;
  token: TestCollector['token'];
}

/** a collector on the test's shared database, with its own data directory; sweeps by hand */
async function collector(id: string, database: string, clock: FakeClock): Promise<C> {
  const data = `${dir.path}/${database}-${id}`;
  const storage = await openStorageAsync({ backend: 'clickhouse', data, clickhouse: { url: server.url, database } });
  const c = await testCollector(clock.now, {
    storage,
    dataDir: data,
    alerts: { config: { defaults: false, evaluator: 'auto', evaluation_interval_ms: 1000, evaluator_lease_s: 10 }, run: false, collectorId: id },
    hosts: { config: { down_after: '1m', retire_after: '2m', default_interval: '10s' }, run: false },
  });
  open.push({ c, storage });
  return { app: c.app, token: c.token };
}

async function send(c: C, host: string, clock: FakeClock, o: { ephemeral?: boolean; start?: number } = {}) {
  const b = batchOf([`line from ${host}`], { host, agent: `agt_${host}`, ts: clock.t, stream: `s-${host}`, start: o.start ?? 0 });
  const res = await c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: bearer(c.token('agent')), payload: o.ephemeral === undefined ? b : { ...b, ephemeral: o.ephemeral } });
  expect(res.statusCode, res.body).toBe(200);
}

type Item = { host: string; state: string; ephemeral: boolean; first_seen: number; last_seen: number; sources: string[] };
async function list(c: C, query = ''): Promise<Record<string, Item>> {
  const res = await c.app.inject({ method: 'GET', url: `/api/v1/hosts${query}`, headers: bearer(c.token('viewer')) });
  expect(res.statusCode, res.body).toBe(200);
  return Object.fromEntries((res.json().items as Item[]).map((i) => [i.host, i]));
}
const states = async (c: C) => Object.fromEntries(Object.values(await list(c, '?include_retired=true')).map((i) => [i.host, i.state]));

/** one alert turn (A renews the evaluator lease, B stands by) and one host sweep on each, as their timers would */
async function sweep(...cs: C[]) {
  for (const c of cs) {
    await c.app.alerts.evaluate();
    await c.app.hosts.tick();
  }
}

/** advances the clock in sweep-sized steps, sweeping both each time */
async function pass(clock: FakeClock, ms: number, a: C, b: C, step = 5000) {
  for (let left = ms; left > 0; left -= step) {
    clock.advance(Math.min(step, left));
    await sweep(a, b);
  }
}

describe('host lifecycle shared by two collectors on ClickHouse', () => {
  it('B lists hosts that reported only to A with their state; A (the evaluator) decides silence, B follows; ephemeral ones retire on both; forget and retire through B act on A', { timeout: 120_000 }, async () => {
    const database = `hosts_${process.pid}_${db++}`;
    const clock = new FakeClock(T0);
    const a = await collector('A', database, clock);
    const b = await collector('B', database, clock);
    // A holds the evaluator lease: it decides host transitions; B stands by
    expect(await a.app.alerts.evaluate()).toBe(true);
    expect(await b.app.alerts.evaluate()).toBe(false);

    await send(a, 'web-1', clock);
    await send(a, 'eph-1', clock, { ephemeral: true });
    await send(b, 'db-1', clock);
    await sweep(a, b, a);
    const onB = await list(b);
    expect(onB['web-1']).toMatchObject({ host: 'web-1', state: 'up', ephemeral: false, first_seen: T0, last_seen: T0, sources: ['logs'] });
    expect(onB['eph-1']).toMatchObject({ host: 'eph-1', state: 'up', ephemeral: true, last_seen: T0 });
    expect((await list(a))['db-1']).toMatchObject({ state: 'up', last_seen: T0 });

    // A keeps hearing web-1 and db-1's agent keeps reaching B; eph-1 has ended
    for (let i = 1; i <= 4; i++) {
      await pass(clock, 10_000, a, b);
      await send(a, 'web-1', clock, { start: 100 * i });
      await send(b, 'db-1', clock, { start: 100 * i });
    }
    // B saves what it heard, A takes it in (and decides), B takes A's decisions in
    await sweep(b, a, b);
    expect(await states(b)).toEqual({ 'web-1': 'up', 'eph-1': 'stale', 'db-1': 'up' });
    expect(await states(a)).toEqual({ 'web-1': 'up', 'eph-1': 'stale', 'db-1': 'up' });
    // B heard db-1 up to now: A saw it through B's saves, not as silence
    expect((await list(a))['db-1']!.last_seen).toBe(clock.t);
    // transitions are decided (and announced) once, by A
    expect(a.app.events.count('host.stale')).toBe(1);
    expect(b.app.events.count('host.stale')).toBe(0);

    // eph-1 silent past retire_after (2 m): retired on both, gone from both default lists
    for (let i = 1; i <= 9; i++) {
      await pass(clock, 10_000, a, b);
      await send(a, 'web-1', clock, { start: 1000 + 100 * i });
      await send(b, 'db-1', clock, { start: 1000 + 100 * i });
    }
    await sweep(b, a, b);
    expect(await states(b)).toEqual({ 'web-1': 'up', 'eph-1': 'retired', 'db-1': 'up' });
    expect(await states(a)).toEqual({ 'web-1': 'up', 'eph-1': 'retired', 'db-1': 'up' });
    expect(Object.keys(await list(b))).toEqual(['db-1', 'web-1']);
    // its transitions, stored once, are read through either collector
    const ev = await b.app.inject({ method: 'GET', url: '/api/v1/hosts/eph-1/events', headers: bearer(b.token('viewer')) });
    expect(ev.json().items.map((e: { from: string | null; to: string }) => `${e.from}>${e.to}`)).toEqual(['stale>retired', 'up>stale', 'null>up']);

    // db-1 stops reaching B: A (which never heard it itself) finds it down, and B follows
    await pass(clock, 95_000, a, b, 5000);
    await sweep(b);
    expect((await states(a))['db-1']).toBe('down');
    expect((await states(b))['db-1']).toBe('down');
    // it comes back through B: up on A too, and A's rules count the flap
    await send(b, 'db-1', clock, { start: 2000 });
    await sweep(b, a);
    expect((await states(a))['db-1']).toBe('up');
    expect(a.app.hosts.flaps('db-1', 30 * 60_000)).toBe(1);

    // forget web-1 through B: gone on A (record and lines), and stays gone when A saves again
    const lines = async (c: C) => (await c.app.inject({ method: 'GET', url: '/api/v1/logs?host=web-1&limit=100', headers: bearer(c.token('viewer')) })).json();
    expect((await lines(a)).items.length).toBeGreaterThan(0);
    const del = await b.app.inject({ method: 'DELETE', url: '/api/v1/hosts/web-1', headers: bearer(b.token('admin')) });
    expect(del.statusCode, del.body).toBe(200);
    await sweep(a, b, a);
    expect((await states(a))['web-1']).toBeUndefined();
    expect((await states(b))['web-1']).toBeUndefined();
    const one = await a.app.inject({ method: 'GET', url: '/api/v1/hosts/web-1', headers: bearer(a.token('viewer')) });
    expect(one.statusCode).toBe(404);
    expect((await lines(a)).items).toEqual([]);

    // retire db-1 through B (a second after it was last heard): retired on A at its next pull
    clock.advance(1000);
    const ret = await b.app.inject({ method: 'POST', url: '/api/v1/hosts/db-1/retire', headers: bearer(b.token('admin')) });
    expect(ret.statusCode, ret.body).toBe(200);
    await sweep(a);
    expect((await states(a))['db-1']).toBe('retired');
  });

  it('ClickHouse unreachable: hearing hosts goes on, sweeps neither throw nor hang, the failure is counted; what was held is saved when it is back', { timeout: 120_000 }, async () => {
    const database = `hosts_${process.pid}_${db++}`;
    const clock = new FakeClock(T0);
    const a = await collector('A', database, clock);
    const b = await collector('B', database, clock);
    expect(await a.app.alerts.evaluate()).toBe(true);
    await send(a, 'web-1', clock);
    await sweep(a, b);

    await server.kill();
    try {
      clock.advance(5000);
      // what ingest does for every batch, at once, whatever the store
      a.app.hosts.heard('web-2', clock.t, { source: 'logs', agentId: 'agt_web-2', ephemeral: true });
      expect(a.app.hosts.state('web-2')).toBe('up');
      for (let i = 0; i < 3; i++) await expect(a.app.hosts.tick()).resolves.toMatchObject({ purged: [] });
      await expect(b.app.hosts.tick()).resolves.toBeDefined();
      expect(a.app.events.count('hosts.save_deferred')).toBeGreaterThanOrEqual(3);
      expect(a.app.events.count('hosts.pull_failed')).toBeGreaterThanOrEqual(3);
      expect(b.app.events.count('hosts.pull_failed')).toBeGreaterThanOrEqual(1);
      // the listing keeps answering from memory
      expect(a.app.hosts.registry.list().map((h) => h.host)).toEqual(['web-1', 'web-2']);
    } finally {
      await server.restart();
    }
    await sweep(a, b);
    expect((await list(b))['web-2']).toMatchObject({ state: 'up', ephemeral: true, last_seen: T0 + 5000 });
    const ev = await b.app.inject({ method: 'GET', url: '/api/v1/hosts/web-2/events', headers: bearer(b.token('viewer')) });
    expect(ev.json().items).toEqual([{ ts: T0 + 5000, host: 'web-2', from: null, to: 'up' }]);
  });
});
