// Host metrics with --storage clickhouse, through buildApp on the chdb fixture: the same samples
// posted to a SQLite collector and to ClickHouse collectors give the same answers from
// GET /api/v1/series (every CF, every series), /api/v1/metrics and /api/v1/metrics/hosts; a
// second collector on the same database reads every series, refuses a host the first one
// consolidates (503 + Retry-After), takes it over once the first has closed and continues its
// series where the first left them; the alert sources seed from ClickHouse; rows carry a TTL.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricServiceSources } from '../../collector/alerts/metric-sources.js';
import { RecentSamples } from '../../collector/alerts/recent-samples.js';
import { METRICS_DB } from '../../collector/metrics/plugin.js';
import { openClient } from '../../collector/storage/clickhouse/connection.js';
import { openStorageAsync } from '../../collector/storage/factory.js';
import type { Storage } from '../../collector/storage/types.js';
import type { MetricBatch, MetricSample } from '../../shared/wire.js';
import { chdbForFile } from '../contract/chdb-fixture.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir, waitFor } from '../helpers/proc.js';

const chdb = chdbForFile('ringtail-metrics-ch-');
const DATABASE = 'metrics_app';
const T0 = 1_700_000_000_000; // a multiple of 10 s
const HOSTS = ['m-1', 'm-2', 'm/3'];
const ROUNDS = 40;
let now = T0;
const clock = () => now;

const dirs: Array<{ path: string; cleanup(): void }> = [];
const storages: Storage[] = [];
const dataOf = new Map<TestCollector, string>();
async function clickhouseCollector(): Promise<TestCollector> {
  const d = tempDir('ringtail-metrics-ch-data-');
  dirs.push(d);
  const storage = await openStorageAsync({ backend: 'clickhouse', data: d.path, clickhouse: { url: chdb.server.url, database: DATABASE } });
  storages.push(storage);
  const c = await testCollector(clock, { storage, dataDir: d.path });
  dataOf.set(c, d.path);
  return c;
}

let sq: TestCollector;
let a: TestCollector;
let b: TestCollector | undefined;
afterAll(async () => {
  for (const c of [sq, a, b]) await c?.close().catch(() => undefined);
  for (const s of storages) s.close();
  dirs.forEach((d) => d.cleanup());
});

/** a pseudo-random stream per host: a gauge, a counter (with a wrap), a derive, an absolute, gaps */
function round(host: string, i: number): MetricBatch {
  const h = HOSTS.indexOf(host) + 1;
  const ts = T0 + i * 10_000 + ((i * 7 + h * 3) % 9) * 1000; // not on step boundaries
  const samples: MetricSample[] = [];
  if (i % 11 !== 5) samples.push({ name: 'load.1', type: 'GAUGE', ts, value: ((i * 37 + h * 11) % 23) / 4 });
  samples.push({ name: 'net.rx_bytes', type: 'COUNTER', labels: { dev: 'eth0' }, ts, value: i === 25 ? 12 : (i * 1000 * h + (i * i * 13) % 700) % 4_294_967_295 });
  samples.push({ name: 'q.depth', type: 'DERIVE', ts, value: ((i * 13 + h) % 17) - 8 });
  if (i % 4 !== 2) samples.push({ name: 'req.count', type: 'ABSOLUTE', ts, value: (i * 3 + h) % 10 });
  return { version: 1, agent_id: `agt_${h}`, host, interval_ms: 10_000, samples };
}

const post = (c: TestCollector, body: MetricBatch) =>
  c.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: body });
const get = (c: TestCollector, url: string) => c.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${c.token('viewer')}` } });

/** every answer the API gives about the series: listings, and every series for every CF at two resolutions */
async function answers(c: TestCollector): Promise<unknown> {
  const list = await get(c, '/api/v1/metrics');
  expect(list.statusCode, list.body).toBe(200);
  const items = list.json().items as Array<{ host: string; metric: string }>;
  const hosts = await get(c, '/api/v1/metrics/hosts');
  const out: Record<string, unknown> = {
    items,
    // last_seen is each collector's own (the requests it received)
    hosts: (hosts.json().items as Array<Record<string, unknown>>).map(({ last_seen: _, ...h }) => h),
    one: (await get(c, `/api/v1/metrics?host=${encodeURIComponent('m/3')}`)).json(),
  };
  for (const s of items) {
    for (const cf of ['AVERAGE', 'MIN', 'MAX', 'LAST']) {
      for (const res of ['', '&resolution=60000']) {
        const r = await get(c, `/api/v1/series?host=${encodeURIComponent(s.host)}&metric=${encodeURIComponent(s.metric)}&cf=${cf}&start=${T0 - 60_000}&end=${now}${res}`);
        expect(r.statusCode, r.body).toBe(200);
        out[`${s.host} ${s.metric} ${cf}${res}`] = r.json();
      }
    }
  }
  return out;
}

describe('host metrics on ClickHouse through the app', () => {
  beforeAll(async () => {
    sq = await testCollector(clock);
    a = await clickhouseCollector();
  });

  it('stores the same samples as the SQLite backend and answers every series, listing and host summary alike', { timeout: 240_000 }, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      now = T0 + i * 10_000 + 9_000;
      for (const host of HOSTS) {
        const batch = round(host, i);
        const [x, y] = await Promise.all([post(sq, batch), post(a, batch)]);
        expect(y.statusCode, y.body).toBe(200);
        expect(y.json()).toEqual(x.json());
        // a redelivery is duplicates on both
        if (i % 10 === 3) expect((await post(a, batch)).json()).toEqual((await post(sq, batch)).json());
      }
    }
    now += 10_000;
    const want = await answers(sq);
    expect(await answers(a)).toEqual(want);
    expect(Object.keys(want as object).length).toBe(3 + HOSTS.length * 4 * 8);
    // kept in ClickHouse, not in the collector's data directory
    expect(existsSync(join(dataOf.get(a)!, METRICS_DB))).toBe(false);
    expect(existsSync(join(sq.dir, METRICS_DB))).toBe(true);
    const client = openClient({ url: chdb.server.url, database: DATABASE }, DATABASE);
    try {
      const rs = await client.query({ query: 'SELECT count() AS n FROM metric_series FINAL', format: 'JSONEachRow' });
      expect(Number(((await rs.json()) as Array<{ n: number }>)[0]!.n)).toBe(HOSTS.length * 4);
    } finally {
      await client.close();
    }
  });

  it('a second collector reads every series, refuses the hosts the first consolidates, and takes them over when it closes', { timeout: 240_000 }, async () => {
    b = await clickhouseCollector();
    expect(await answers(b)).toEqual(await answers(sq));

    // a round to the first (which renews its leases: half a lease at least is left)
    now = T0 + ROUNDS * 10_000 + 9_000;
    for (const host of HOSTS) expect((await post(a, round(host, ROUNDS))).json()).toEqual((await post(sq, round(host, ROUNDS))).json());
    const refused = await post(b, round('m-1', ROUNDS + 1));
    expect(refused.statusCode, refused.body).toBe(503);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.json().message).toMatch(/consolidated by collector/);

    // the first one stops (its leases released): the second takes m-1 and continues its series
    await a.close();
    for (let i = ROUNDS + 1; i < ROUNDS + 12; i++) {
      now = T0 + i * 10_000 + 9_000;
      for (const host of HOSTS) {
        const x = await post(sq, round(host, i));
        const y = await post(b, round(host, i));
        expect(y.statusCode, y.body).toBe(200);
        expect(y.json()).toEqual(x.json());
      }
    }
    now += 10_000;
    expect(await answers(b)).toEqual(await answers(sq));
  });

  it('the metric alert sources seed a series from ClickHouse as from SQLite (not yet, then the same window)', { timeout: 60_000 }, async () => {
    const recent = () => new RecentSamples(() => ({ keys: new Set(['load.1']), keepMs: 15 * 60_000 }));
    const fromSqlite = metricServiceSources(sq.app.hostMetrics, recent());
    const fromClickHouse = metricServiceSources(b!.app.hostMetrics, recent());
    const want = fromSqlite.seriesWindow('m-2', 'load.1', 'AVERAGE', 300, now);
    expect(want).not.toBeUndefined();
    expect(fromClickHouse.seriesWindow('m-2', 'load.1', 'AVERAGE', 300, now)).toBeUndefined(); // in flight
    await waitFor('the seed from ClickHouse', () => fromClickHouse.seriesWindow('m-2', 'load.1', 'AVERAGE', 300, now) !== undefined, 30_000, 50);
    expect(fromClickHouse.seriesWindow('m-2', 'load.1', 'AVERAGE', 300, now)).toEqual(want);
    expect(fromClickHouse.seriesLastUpdate('m-2', 'load.1', now)).toBe(fromSqlite.seriesLastUpdate('m-2', 'load.1', now));
  });

  it('archive rows carry their expiry (written + the archive span) and the table drops them by TTL', async () => {
    const client = openClient({ url: chdb.server.url, database: DATABASE }, DATABASE);
    try {
      const q = async <T>(query: string) => (await (await client.query({ query, format: 'JSONEachRow' })).json()) as T[];
      const [ddl] = await q<{ statement: string }>('SHOW CREATE TABLE metric_rows');
      expect(ddl!.statement).toMatch(/TTL toDateTime\(expires\)/);
      // the default layout's first archive: 10 s × 8640 rows = a day from when it was written
      const [r] = await q<{ lo: number; hi: number }>('SELECT min(expires - toUnixTimestamp(now())) AS lo, max(expires - toUnixTimestamp(now())) AS hi FROM metric_rows WHERE rra = 0');
      expect(Number(r!.hi)).toBeLessThanOrEqual(86_400);
      expect(Number(r!.lo)).toBeGreaterThan(86_400 - 600);
    } finally {
      await client.close();
    }
  });
});
