// Host lifecycle on a real collector database: states from silence with an injected clock (the
// sweep is called by hand), transitions stored and served, ephemeral hosts retired instead of
// down, retire/forget through the API, and the bad input of issue 14.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type AppOptions } from '../../collector/app.js';
import { PURGE_SLICE } from '../../collector/hosts/service.js';
import { fieldMatch } from '../../collector/storage/sqlite/field-tokens.js';
import { LOG_SCHEMA_VERSION } from '../../collector/storage/sqlite/open.js';
import { WIRE_VERSION, type MetricBatch } from '../../shared/wire.js';
import { FakeClock, bearer } from '../helpers/alerts.js';
import { batchOf } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';

const T0 = 1_700_000_000_000;
let dir: { path: string; cleanup(): void };
let clock: FakeClock;
const apps: FastifyInstance[] = [];
const tokens = new WeakMap<FastifyInstance, Record<string, string>>();

beforeEach(() => {
  dir = tempDir('ringtail-hosts-');
  clock = new FakeClock(T0);
});
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close();
  dir.cleanup();
});

async function start(extra: Partial<AppOptions> = {}): Promise<FastifyInstance> {
  const app = await buildApp({ dataDir: dir.path, clock: clock.now, ...extra });
  await app.ready();
  apps.push(app);
  return app;
}
async function stop(app: FastifyInstance) {
  apps.splice(apps.indexOf(app), 1);
  await app.close();
}
async function token(app: FastifyInstance, role: 'agent' | 'viewer' | 'admin'): Promise<string> {
  const t = tokens.get(app) ?? {};
  tokens.set(app, t);
  return (t[role] ??= (await app.storage.tokens.create(role, role, Date.now())).token);
}
async function logs(app: FastifyInstance, host: string, opts: { agent?: string; ephemeral?: boolean; start?: number; stream?: string; messages?: string[] } = {}) {
  const b = batchOf(opts.messages ?? ['a line'], { host, agent: opts.agent ?? `agt_${host}`, ts: clock.t, start: opts.start, stream: opts.stream });
  const payload = opts.ephemeral === undefined ? b : { ...b, ephemeral: opts.ephemeral };
  const res = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: bearer(await token(app, 'agent')), payload });
  expect(res.statusCode, res.body).toBe(200);
}
async function metrics(app: FastifyInstance, host: string, opts: { ephemeral?: boolean; interval_ms?: number; ts?: number; agent?: string } = {}) {
  const batch: MetricBatch = {
    version: WIRE_VERSION,
    agent_id: opts.agent ?? `agt_${host}`,
    host,
    interval_ms: opts.interval_ms ?? 10_000,
    samples: [{ name: 'cpu.busy', type: 'GAUGE', ts: opts.ts ?? clock.t, value: 5 }],
  };
  if (opts.ephemeral !== undefined) batch.ephemeral = opts.ephemeral;
  const res = await app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: bearer(await token(app, 'agent')), payload: batch });
  expect(res.statusCode, res.body).toBe(200);
}
async function get(app: FastifyInstance, url: string, role: 'viewer' | 'admin' = 'viewer') {
  const res = await app.inject({ method: 'GET', url, headers: bearer(await token(app, role)) });
  return { status: res.statusCode, json: res.json() };
}
type Item = { host: string; state: string; ephemeral: boolean; first_seen: number; last_seen: number; sources: string[] };
async function hostList(app: FastifyInstance, query = ''): Promise<Item[]> {
  const r = await get(app, `/api/v1/hosts${query}`);
  expect(r.status).toBe(200);
  return r.json.items;
}
/** advances the clock in sweep-sized steps, sweeping each time, as the timer would */
async function pass(app: FastifyInstance, ms: number, step = 5000) {
  for (let left = ms; left > 0; left -= step) {
    clock.advance(Math.min(step, left));
    await app.hosts.tick();
  }
}

describe('GET /api/v1/hosts lists every host whatever it sends', () => {
  it('a host that sends only metrics is listed with its state, first and last seen', async () => {
    const app = await start();
    await metrics(app, 'db-1');
    await logs(app, 'web-1');
    const items = await hostList(app);
    expect(items.map((h) => h.host)).toEqual(['db-1', 'web-1']);
    expect(items[0]).toMatchObject({ host: 'db-1', state: 'up', ephemeral: false, first_seen: T0, last_seen: T0, sources: ['metrics'] });
    expect(items[1]).toMatchObject({ host: 'web-1', state: 'up', sources: ['logs'] });
  });
});

describe('a permanent host that stops reporting', () => {
  it('goes stale after 3 intervals, down after 5 more minutes, and is up again when heard; each transition is an event', async () => {
    const app = await start();
    await metrics(app, 'db-1', { interval_ms: 10_000 });
    await pass(app, 25_000);
    expect(app.hosts.state('db-1')).toBe('up');
    await pass(app, 5000); // 30 s = 3 intervals
    expect(app.hosts.state('db-1')).toBe('stale');
    await pass(app, 295_000);
    expect(app.hosts.state('db-1')).toBe('stale');
    await pass(app, 5000);
    expect(app.hosts.state('db-1')).toBe('down');
    expect(await hostList(app, '?state=down')).toMatchObject([{ host: 'db-1', state: 'down' }]);
    await pass(app, 3_600_000 * 2, 60_000);
    expect(app.hosts.state('db-1')).toBe('down'); // a permanent host is never retired by silence
    await metrics(app, 'db-1');
    expect(app.hosts.state('db-1')).toBe('up');
    expect(app.events.count('host.down')).toBe(1);
    expect(app.events.count('host.stale')).toBe(1);
    const prom = await app.inject({ method: 'GET', url: '/metrics', headers: bearer(await token(app, 'viewer')) });
    expect(prom.body).toContain('ringtail_hosts{state="up"} 1');
    expect(prom.body).toContain('ringtail_events_total{event="host.down"} 1');
    const ev = await get(app, '/api/v1/hosts/db-1/events');
    expect(ev.status).toBe(200);
    expect(ev.json.items.map((e: { from: string | null; to: string }) => `${e.from}>${e.to}`)).toEqual(['down>up', 'stale>down', 'up>stale', 'null>up']);
    expect(ev.json.items[1]).toMatchObject({ host: 'db-1', ts: T0 + 330_000 });
    expect(app.hosts.flaps('db-1', 30 * 60_000)).toBe(1); // the one down -> up, just now
  });

  it('counts down/up flaps for host-flapping', async () => {
    const app = await start({ hosts: { config: { down_after: '1m' } } });
    for (let i = 0; i < 3; i++) {
      await metrics(app, 'db-1');
      await pass(app, 95_000); // 30 s stale + 60 s down
      expect(app.hosts.state('db-1')).toBe('down');
    }
    await metrics(app, 'db-1');
    expect(app.hosts.flaps('db-1', 30 * 60_000)).toBe(3);
    expect(app.hosts.transitions('db-1').filter((e) => e.to === 'down')).toHaveLength(3);
    // across a restart: transitions of the last hour are loaded back
    await stop(app);
    clock.advance(60_000);
    const again = await start({ hosts: { config: { down_after: '1m' } } });
    expect(again.hosts.flaps('db-1', 30 * 60_000)).toBe(3);
    expect(again.hosts.transitions('db-1').map((e) => e.to)).toEqual(['up', 'stale', 'down', 'up', 'stale', 'down', 'up', 'stale', 'down', 'up']);
  });
});

describe('an ephemeral host that stops reporting', () => {
  it('is retired after hosts.retire_after instead of down; leaves the default list, keeps its logs and series; comes back with its history', async () => {
    const app = await start();
    await metrics(app, 'i-0abc', { ephemeral: true });
    await logs(app, 'i-0abc', { ephemeral: true, messages: ['worker started'] });
    expect((await hostList(app))[0]).toMatchObject({ host: 'i-0abc', ephemeral: true, state: 'up' });
    await pass(app, 3_600_000 - 5000, 60_000);
    expect(app.hosts.state('i-0abc')).toBe('stale');
    await pass(app, 5000);
    expect(app.hosts.state('i-0abc')).toBe('retired');
    expect(app.events.count('host.down')).toBe(0);
    expect(app.events.count('host.retired')).toBe(1);
    expect(await hostList(app)).toEqual([]);
    expect((await hostList(app, '?include_retired=true')).map((h) => h.state)).toEqual(['retired']);
    expect((await hostList(app, '?state=retired')).map((h) => h.host)).toEqual(['i-0abc']);
    const lines = await get(app, '/api/v1/logs?host=i-0abc');
    expect(lines.json.items.map((l: { message: string }) => l.message)).toEqual(['worker started']);
    const series = await get(app, '/api/v1/metrics?host=i-0abc');
    expect(series.json.items).toHaveLength(1);

    await metrics(app, 'i-0abc', { ephemeral: true });
    const back = (await hostList(app))[0]!;
    expect(back).toMatchObject({ host: 'i-0abc', state: 'up', first_seen: T0 });
    expect((await get(app, '/api/v1/metrics?host=i-0abc')).json.items).toHaveLength(1);
  });

  it('a retired host has its series purged after hosts.purge_after; its lines stay', async () => {
    const app = await start({ hosts: { config: { retire_after: '10m', purge_after: '1d' } } });
    await metrics(app, 'i-1', { ephemeral: true });
    await logs(app, 'i-1', { ephemeral: true });
    await pass(app, 10 * 60_000, 60_000);
    expect(app.hosts.state('i-1')).toBe('retired');
    await pass(app, 86_400_000 - 120_000, 3_600_000);
    expect((await get(app, '/api/v1/metrics?host=i-1')).json.items).toHaveLength(1);
    await pass(app, 3_600_000, 60_000);
    expect((await get(app, '/api/v1/metrics?host=i-1')).json.items).toHaveLength(0);
    expect(await hostList(app, '?include_retired=true')).toEqual([]);
    expect((await get(app, '/api/v1/logs?host=i-1')).json.items).toHaveLength(1);
    expect(app.events.count('host.purged')).toBe(1);
  });

  it('hosts due for purge in the same tick go PURGE_SLICE at a time, the rest at the next ticks', async () => {
    const app = await start({ hosts: { config: { retire_after: '10m', purge_after: '1d' } } });
    const hosts = Array.from({ length: PURGE_SLICE + 5 }, (_, i) => `i-${i}`);
    for (const h of hosts) await metrics(app, h, { ephemeral: true });
    await pass(app, 10 * 60_000, 60_000);
    expect(hosts.every((h) => app.hosts.state(h) === 'retired')).toBe(true);
    clock.advance(86_400_000);
    const first = await app.hosts.tick();
    expect(first.purged).toHaveLength(PURGE_SLICE);
    const second = await app.hosts.tick();
    expect(second.purged).toHaveLength(5);
    expect(new Set([...first.purged, ...second.purged])).toEqual(new Set(hosts));
    expect((await app.hosts.tick()).purged).toEqual([]);
    for (const h of hosts) expect((await get(app, `/api/v1/metrics?host=${h}`)).json.items).toHaveLength(0);
    expect(app.events.count('host.purged')).toBe(hosts.length);
  });
});

describe('host-scoped alert rules', () => {
  it('an absence rule fires for a silent permanent host and never for a retired ephemeral one', async () => {
    const app = await start({ alerts: { config: { rules: [{ kind: 'absence', name: 'silent', seconds: 120 }] }, run: false }, hosts: { config: { retire_after: '3m' } } });
    await logs(app, 'perm-1');
    await logs(app, 'eph-1', { ephemeral: true });
    for (let i = 0; i < 36; i++) {
      await pass(app, 10_000);
      await app.alerts.evaluator.cycle();
    }
    expect(app.hosts.state('eph-1')).toBe('retired');
    const firing = app.alerts.evaluator.current(clock.t).map((a) => a.host);
    expect(firing).toEqual(['perm-1']);
    expect(app.alerts.sources.hosts()).toMatchObject([{ host: 'perm-1', state: 'stale', ephemeral: false }]) // logs only: 3 × hosts.default_interval (1 min);
    // retired by an operator: out of every host rule's reach, its alert resolves
    const res = await app.inject({ method: 'POST', url: '/api/v1/hosts/perm-1/retire', headers: bearer(await token(app, 'admin')) });
    expect(res.statusCode).toBe(200);
    clock.advance(10_000);
    await app.alerts.evaluator.cycle();
    expect(app.alerts.evaluator.current(clock.t)).toEqual([]);
    expect(app.alerts.sources.hosts()).toEqual([]);
  });
});

describe('retire and forget', () => {
  it('POST /api/v1/hosts/:host/retire retires a permanent host (admin only)', async () => {
    const app = await start();
    await logs(app, 'old-1');
    const viewer = await app.inject({ method: 'POST', url: '/api/v1/hosts/old-1/retire', headers: bearer(await token(app, 'viewer')) });
    expect(viewer.statusCode).toBe(403);
    const res = await app.inject({ method: 'POST', url: '/api/v1/hosts/old-1/retire', headers: bearer(await token(app, 'admin')) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ host: 'old-1', state: 'retired' });
    expect(await hostList(app)).toEqual([]);
  });

  it('DELETE /api/v1/hosts/:host forgets a host: series deleted, lines hidden, still forgotten after a restart; reporting again makes a new host', async () => {
    let app = await start();
    await metrics(app, 'gone-1');
    await logs(app, 'gone-1', { messages: ['secret-ish old line'] });
    await logs(app, 'keep-1', { messages: ['other host line'] });
    clock.advance(60_000);
    await app.hosts.tick();
    const del = await app.inject({ method: 'DELETE', url: '/api/v1/hosts/gone-1', headers: bearer(await token(app, 'admin')) });
    expect(del.statusCode, del.body).toBe(200);
    expect((await hostList(app, '?include_retired=true')).map((h) => h.host)).toEqual(['keep-1']);
    expect((await get(app, '/api/v1/metrics?host=gone-1')).json.items).toEqual([]);
    expect((await get(app, '/api/v1/logs?host=gone-1')).json.items).toEqual([]);
    expect((await get(app, '/api/v1/logs?q=line')).json.items.map((l: { host: string }) => l.host)).toEqual(['keep-1']);
    expect((await get(app, `/api/v1/logs/histogram?start=${T0 - 3_600_000}&end=${T0 + 3_600_000}&buckets=1`)).json.counts).toEqual([1]);
    expect((await get(app, '/api/v1/metrics/hosts')).json.items.map((h: { host: string }) => h.host)).toEqual([]);

    await stop(app);
    clock.advance(60_000);
    app = await start();
    expect((await hostList(app, '?include_retired=true')).map((h) => h.host)).toEqual(['keep-1']);
    expect((await get(app, '/api/v1/logs?host=gone-1')).json.items).toEqual([]);

    await logs(app, 'gone-1', { agent: 'agt_new', stream: 's9', messages: ['new life'] });
    const again = (await hostList(app)).find((h) => h.host === 'gone-1')!;
    expect(again.first_seen).toBe(clock.t);
    expect((await get(app, '/api/v1/logs?host=gone-1')).json.items.map((l: { message: string }) => l.message)).toEqual(['new life']);
    // the hidden lines are deleted in slices by the tick; the tombstone goes with the last of them
    expect((await app.hosts.tick()).forgottenLines).toBe(1);
    expect((await app.hosts.tick()).forgottenLines).toBe(0);
    expect((await get(app, '/api/v1/logs?host=gone-1')).json.items.map((l: { message: string }) => l.message)).toEqual(['new life']);
  });
});

describe('a forgotten host and structured fields (merge with the field index, migration 5)', () => {
  it("its lines are hidden from field searches, field filters and the histogram, and the purge deletes their field tokens", async () => {
    const app = await start();
    const withFields = (host: string, user: string) => {
      const b = batchOf([`login ${host}`], { host, agent: `agt_${host}`, ts: clock.t });
      b.segments[0]!.lines[0]!.fields = { user_id: user };
      return b;
    };
    for (const [host, user] of [['gone-f', '42'], ['keep-f', '42']] as const) {
      const res = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: bearer(await token(app, 'agent')), payload: withFields(host, user) });
      expect(res.statusCode, res.body).toBe(200);
    }
    const hostsOf = async (url: string) => (await get(app, url)).json.items.map((l: { host: string }) => l.host);
    expect(await hostsOf('/api/v1/logs?field.user_id=42')).toEqual(['keep-f', 'gone-f']);
    const del = await app.inject({ method: 'DELETE', url: '/api/v1/hosts/gone-f', headers: bearer(await token(app, 'admin')) });
    expect(del.statusCode, del.body).toBe(200);
    expect(await hostsOf('/api/v1/logs?field.user_id=42')).toEqual(['keep-f']);
    expect(await hostsOf(`/api/v1/logs?q=${encodeURIComponent('field.user_id:42')}`)).toEqual(['keep-f']);
    expect(await hostsOf(`/api/v1/logs?q=${encodeURIComponent('login field.user_id:42')}`)).toEqual(['keep-f']);
    const range = `start=${T0 - 3_600_000}&end=${T0 + 3_600_000}&buckets=1`;
    expect((await get(app, `/api/v1/logs/histogram?${range}&field.user_id=42`)).json.counts).toEqual([1]);
    expect((await get(app, `/api/v1/logs/histogram?${range}&q=login`)).json.counts).toEqual([1]);

    const db = new Database(join(dir.path, 'ringtail.db'), { readonly: true });
    try {
      const entries = () => db.prepare('SELECT count(*) FROM log_fields_fts WHERE log_fields_fts MATCH ?').pluck().get(fieldMatch('user_id', '42', false));
      expect(entries()).toBe(2);
      expect((await app.hosts.tick()).forgottenLines).toBe(1);
      expect(entries()).toBe(1);
      expect(db.prepare("SELECT count(*) FROM logs WHERE host = 'gone-f'").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
    expect(await hostsOf('/api/v1/logs?field.user_id=42')).toEqual(['keep-f']);
  });

  it('a database at schema 5 (the field index) upgrades through 6 (the host tables), 7 (field tokens) and 8 (number runs), keeping its lines and fields', async () => {
    let app = await start();
    const b = batchOf(['old line'], { host: 'old-1', agent: 'agt_old', ts: clock.t });
    b.segments[0]!.lines[0]!.fields = { region: 'eu' };
    expect((await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: bearer(await token(app, 'agent')), payload: b })).statusCode).toBe(200);
    await stop(app);
    const db = new Database(join(dir.path, 'ringtail.db'));
    db.exec('DROP TABLE host_state; DROP TABLE host_events; DROP TABLE forgotten_hosts; DROP TABLE host_requests; DROP TABLE host_meta; DROP TABLE log_fields_fts; DROP TABLE log_nums_fts; DROP TABLE log_index_meta');
    // schema 5's field index, as that version wrote it
    db.exec('CREATE TABLE log_fields (key TEXT NOT NULL, value TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (key, value, id)) WITHOUT ROWID');
    db.exec("INSERT INTO log_fields (key, value, id) SELECT 'region', 'eu', id FROM logs");
    db.pragma('user_version = 5');
    db.close();
    tokens.delete(app);
    app = await start();
    const check = new Database(join(dir.path, 'ringtail.db'), { readonly: true });
    try {
      expect(check.pragma('user_version', { simple: true })).toBe(LOG_SCHEMA_VERSION);
      expect(check.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'log_fields'").pluck().get()).toBe(0);
      expect(check.prepare('SELECT count(*) FROM host_state').pluck().get()).toBeGreaterThanOrEqual(0);
    } finally {
      check.close();
    }
    expect((await get(app, '/api/v1/logs?field.region=eu')).json.items.map((l: { message: string }) => l.message)).toEqual(['old line']);
    await logs(app, 'new-1');
    expect((await hostList(app)).map((h) => h.host)).toContain('new-1');
  });
});

describe('bad input (issue 14)', () => {
  it('forget or retire of an unknown host: 404 RINGTAIL_ERR_NOT_FOUND; events of an unknown host too', async () => {
    const app = await start();
    for (const [method, url] of [['DELETE', '/api/v1/hosts/nope'], ['POST', '/api/v1/hosts/nope/retire'], ['GET', '/api/v1/hosts/nope/events']] as const) {
      const res = await app.inject({ method, url, headers: bearer(await token(app, 'admin')) });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ error: 'RINGTAIL_ERR_NOT_FOUND' });
      expect(res.json().message).toContain("'nope'");
    }
  });

  it('a host name of 10 KB or with control characters: 400 naming the field, on ingest and in the API path', async () => {
    const app = await start();
    const cases = ['h'.repeat(10 * 1024), 'web\u0000-1', 'web-1\nFAKE LOG LINE', 'tab\there'];
    for (const host of cases) {
      const lb = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: bearer(await token(app, 'agent')), payload: batchOf(['x'], { host }) });
      expect(lb.statusCode).toBe(400);
      expect(lb.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_REQUEST' });
      expect(lb.json().message).toMatch(/^body\/host: /);
      const mb = await app.inject({
        method: 'POST',
        url: '/api/v1/metrics/ingest',
        headers: bearer(await token(app, 'agent')),
        payload: { version: WIRE_VERSION, agent_id: 'a', host, samples: [] },
      });
      expect(mb.statusCode).toBe(400);
      expect(mb.json().message).toMatch(/^body\/host: /);
      const api = await app.inject({ method: 'DELETE', url: `/api/v1/hosts/${encodeURIComponent(host)}`, headers: bearer(await token(app, 'admin')) });
      expect(api.statusCode).toBe(400);
      expect(api.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_REQUEST' });
      expect(api.json().message).toMatch(/params\/host/);
    }
    const bad = await app.inject({ method: 'GET', url: '/api/v1/hosts?state=gone', headers: bearer(await token(app, 'viewer')) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^state: /);
    expect(await hostList(app, '?include_retired=true')).toEqual([]);
  });

  it('two agents claiming one host name at once: both stored, counted and logged as hosts.name_conflict; a relaunched agent is no conflict', async () => {
    const app = await start();
    await metrics(app, 'web-1', { agent: 'agt_a' });
    clock.advance(10_000);
    await metrics(app, 'web-1', { agent: 'agt_b' });
    clock.advance(10_000);
    await metrics(app, 'web-1', { agent: 'agt_a' });
    expect(app.events.count('hosts.name_conflict')).toBe(2);
    // an instance replaced after its agent went quiet (3 intervals) is the same host, not a conflict
    await pass(app, 60_000);
    await metrics(app, 'web-1', { agent: 'agt_c' });
    expect(app.events.count('hosts.name_conflict')).toBe(2);
    expect((await get(app, '/api/v1/hosts/web-1')).json).toMatchObject({ agent_id: 'agt_c', state: 'up' });
  });

  it("a host's clock jumping backwards: still up, last_seen never moves back; the collector's clock jumping back neither revives nor flaps a host", async () => {
    const app = await start();
    await metrics(app, 'skew-1', { ts: clock.t });
    clock.advance(10_000);
    // the host's clock jumped back an hour: its samples are duplicates, but it was heard
    await metrics(app, 'skew-1', { ts: clock.t - 3_600_000 });
    expect((await get(app, '/api/v1/hosts/skew-1')).json).toMatchObject({ state: 'up', first_seen: T0, last_seen: T0 + 10_000 });

    await pass(app, 400_000);
    expect(app.hosts.state('skew-1')).toBe('down');
    const events = app.events.count('host.down') + app.events.count('host.up') + app.events.count('host.stale');
    clock.advance(-2 * 3_600_000); // the collector's clock jumps back two hours
    await pass(app, 60_000);
    expect(app.hosts.state('skew-1')).toBe('down');
    expect(app.events.count('host.down') + app.events.count('host.up') + app.events.count('host.stale')).toBe(events);
    // heard at an earlier wall time than its last_seen: up again, but last_seen is kept
    await metrics(app, 'skew-1', { ts: clock.t });
    const h = (await get(app, '/api/v1/hosts/skew-1')).json;
    expect(h).toMatchObject({ state: 'up', last_seen: T0 + 10_000 });
    // transitions of one host never go back in time
    const ts = (await get(app, '/api/v1/hosts/skew-1/events')).json.items.map((e: { ts: number }) => e.ts);
    expect([...ts].sort((a, b) => b - a)).toEqual(ts);
    // and it does not go stale before its silence, counted from its last_seen, really is 3 intervals
    await pass(app, 25_000);
    expect(app.hosts.state('skew-1')).toBe('up');
  });
});

describe('saving host state beside the writer', () => {
  it('a save that finds the database locked waits briefly, keeps everything and saves it at the next sweep', async () => {
    const app = await start();
    await metrics(app, 'db-1');
    const other = new Database(join(dir.path, 'ringtail.db'));
    try {
      other.exec('BEGIN IMMEDIATE'); // another writer (the writer thread) holds the lock
      clock.advance(5000);
      const t = performance.now();
      await app.hosts.tick();
      expect(performance.now() - t).toBeLessThan(1000); // not the 5 s busy timeout
      expect(app.events.count('hosts.save_deferred')).toBe(1);
      other.exec('COMMIT');
      clock.advance(5000);
      await app.hosts.tick();
      const row = other.prepare("SELECT host, state, last_seen FROM host_state WHERE host = 'db-1'").get();
      expect(row).toEqual({ host: 'db-1', state: 'up', last_seen: T0 });
      expect(other.prepare("SELECT count(*) AS n FROM host_events WHERE host = 'db-1'").get()).toEqual({ n: 1 });
    } finally {
      other.close();
    }
  });
});

describe('collector restart', () => {
  it('states and last_seen survive a restart; the collector being down is not the hosts being down', async () => {
    let app = await start();
    await metrics(app, 'db-1');
    await metrics(app, 'i-9', { ephemeral: true });
    clock.advance(3000);
    await stop(app); // flushes last_seen
    clock.advance(2 * 3_600_000);
    app = await start();
    await app.hosts.tick();
    expect((await hostList(app)).map((h) => [h.host, h.state, h.last_seen])).toEqual([
      ['db-1', 'up', T0],
      ['i-9', 'up', T0],
    ]);
    expect((await hostList(app))[1]!.ephemeral).toBe(true);
    await pass(app, 30_000);
    expect(app.hosts.state('db-1')).toBe('stale');
  });
});

describe('the default rules ask the host registry', () => {
  it('host-down fires for a silent permanent host, never for a silent ephemeral one; a retired host leaves every rule', async () => {
    const app = await start({ alerts: { config: { defaults: true }, run: false } });
    await metrics(app, 'perm-1');
    await metrics(app, 'eph-1', { ephemeral: true });
    const hostDown = (host: string) => app.alerts.evaluator.current(clock.t).find((a) => a.rule === 'host-down' && a.host === host);
    // three minutes of silence from both: past host-down's 2 minutes
    for (let s = 0; s < 180; s += 10) {
      await pass(app, 10_000);
      await app.alerts.evaluator.cycle();
    }
    expect(hostDown('perm-1')).toMatchObject({ state: 'firing', severity: 'critical' });
    expect(hostDown('eph-1')).toBeUndefined();
    // retiring the permanent host by hand resolves its alert and keeps it out of the next cycles
    const res = await app.inject({ method: 'POST', url: '/api/v1/hosts/perm-1/retire', headers: bearer(await token(app, 'admin')) });
    expect(res.statusCode, res.body).toBe(200);
    await pass(app, 10_000);
    await app.alerts.evaluator.cycle();
    expect(hostDown('perm-1')).toBeUndefined();
  });
});
