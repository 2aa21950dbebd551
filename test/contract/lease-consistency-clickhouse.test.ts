// Leases and claims read their own decision back (consistency.ts). On a cluster the read may reach
// a replica that has not fetched the winning insert yet, so with a cluster layout every lease and
// claim INSERT is written with insert_quorum = 'auto' and insert_quorum_parallel = 0, and every
// read-back carries select_sequential_consistency = 1; on one server nothing is added. chdb cannot
// run a cluster, but it runs the same statements with the same settings (they are checked by the
// engine: an unknown setting or value is an error there), on one server's tables: the protocol is
// driven here through a client that records what each call carried.
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickhouseEvaluatorLease } from '../../collector/storage/clickhouse/alerts-lease.js';
import { ensureAlertsSchema } from '../../collector/storage/clickhouse/alerts-schema.js';
import { ensureAuthSchema } from '../../collector/storage/clickhouse/auth-schema.js';
import { Claims } from '../../collector/storage/clickhouse/claims.js';
import { ensureDatabase, openClient } from '../../collector/storage/clickhouse/connection.js';
import { QUORUM_TIMEOUT_MS } from '../../collector/storage/clickhouse/consistency.js';
import { layoutOf, type Layout } from '../../collector/storage/clickhouse/layout.js';
import { SeriesLeases } from '../../collector/storage/clickhouse/metrics-lease.js';
import { ensureMetricsSchema } from '../../collector/storage/clickhouse/metrics-schema.js';
import { chdbForFile } from './chdb-fixture.js';

const chdb = chdbForFile('ringtail-chdb-consistency-');
const DB = 'consistency';
let real: ClickHouseClient;

interface Call {
  kind: 'insert' | 'query';
  /** the table inserted into, or the query text */
  what: string;
  settings: Record<string, unknown>;
}

/** a client that forwards to chdb and records each insert's and query's settings */
function recording(calls: Call[]): ClickHouseClient {
  return new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'insert') {
        return (p: { table: string; clickhouse_settings?: Record<string, unknown> }) => {
          calls.push({ kind: 'insert', what: p.table, settings: p.clickhouse_settings ?? {} });
          return target.insert(p as Parameters<ClickHouseClient['insert']>[0]);
        };
      }
      if (prop === 'query') {
        return (p: { query: string; clickhouse_settings?: Record<string, unknown> }) => {
          calls.push({ kind: 'query', what: p.query, settings: p.clickhouse_settings ?? {} });
          return target.query(p as Parameters<ClickHouseClient['query']>[0]);
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

const CLUSTER: Layout = layoutOf({ cluster: 'ringtail_test' }, DB);
const QUORUM = { insert_quorum: 'auto', insert_quorum_parallel: 0, insert_quorum_timeout: QUORUM_TIMEOUT_MS };
const SEQUENTIAL = { select_sequential_consistency: '1' };

beforeAll(async () => {
  await ensureDatabase({ url: chdb.server.url, database: DB }, DB, chdb.server.url);
  real = openClient({ url: chdb.server.url, database: DB }, DB);
  await ensureMetricsSchema(real, DB);
  await ensureAlertsSchema(real, DB);
  await ensureAuthSchema(real, DB);
});
afterAll(async () => {
  await real?.close();
});

/** every call on `table`: inserts into it and queries reading it */
const on = (calls: Call[], table: string) => calls.filter((c) => (c.kind === 'insert' ? c.what === table : new RegExp(`\\bFROM ${table}\\b`).test(c.what)));

function expectCluster(calls: Call[], table: string) {
  const mine = on(calls, table);
  expect(mine.some((c) => c.kind === 'insert')).toBe(true);
  expect(mine.some((c) => c.kind === 'query')).toBe(true);
  for (const c of mine) expect(c.settings, `${c.kind} ${c.what.slice(0, 60)}`).toMatchObject(c.kind === 'insert' ? QUORUM : SEQUENTIAL);
}

function expectOneServer(calls: Call[], table: string) {
  const mine = on(calls, table);
  expect(mine.length).toBeGreaterThan(0);
  for (const c of mine) {
    expect(Object.keys(c.settings).filter((k) => /quorum|sequential/.test(k))).toEqual([]);
  }
}

describe('read-back of leases and claims', () => {
  it.each([
    ['a cluster', CLUSTER],
    ['one server', undefined],
  ] as const)('metric series leases on %s: claim, refuse, renew, release', async (_name, layout) => {
    const calls: Call[] = [];
    let t = Date.now();
    const clock = () => t;
    const owner = `web-${layout ? 'c' : 's'}`;
    const a = new SeriesLeases(recording(calls), { collectorId: 'col-a', leaseMs: 10_000, clock, layout });
    const b = new SeriesLeases(recording(calls), { collectorId: 'col-b', leaseMs: 10_000, clock, layout });
    expect((await a.ensure([owner])).taken).toEqual([owner]);
    expect((await b.ensure([owner])).refused.has(owner)).toBe(true);
    t += 6_000; // past half a lease: a renews
    expect((await a.ensure([owner])).refused.size).toBe(0);
    await a.release();
    expect((await b.ensure([owner])).taken).toEqual([owner]);
    await b.release();
    (layout ? expectCluster : expectOneServer)(calls, 'metric_leases');
  });

  it.each([
    ['a cluster', CLUSTER],
    ['one server', undefined],
  ] as const)('the evaluator lease on %s: one holder, handed over on release', async (_name, layout) => {
    await real.command({ query: 'TRUNCATE TABLE alert_leases' });
    const calls: Call[] = [];
    const t = Date.now();
    const la = clickhouseEvaluatorLease(recording(calls), { collectorId: 'A', leaseMs: 10_000, clock: () => t, layout });
    const lb = clickhouseEvaluatorLease(recording(calls), { collectorId: 'B', leaseMs: 10_000, clock: () => t, layout });
    expect(await la.acquire()).toBe(true);
    expect(await lb.acquire()).toBe(false);
    expect(await la.acquire()).toBe(true); // renewal
    await la.release();
    expect(await lb.acquire()).toBe(true);
    (layout ? expectCluster : expectOneServer)(calls, 'alert_leases');
  });

  it.each([
    ['a cluster', CLUSTER],
    ['one server', undefined],
  ] as const)('claims on %s: two claimers of one slot, one winner both read', async (_name, layout) => {
    const calls: Call[] = [];
    const [x, y] = [new Claims(recording(calls), layout), new Claims(recording(calls), layout)];
    const key = `tok_${layout ? 'c' : 's'}`;
    const [rx, ry] = await Promise.all([x.claim('host', key, 0, 'web-1', 1000), y.claim('host', key, 0, 'web-2', 1001)]);
    expect([rx.won, ry.won].filter(Boolean)).toHaveLength(1);
    expect(rx.winner.value).toBe(ry.winner.value);
    expect((await x.latest('host', [key])).get(key)?.value).toBe(rx.winner.value);
    (layout ? expectCluster : expectOneServer)(calls, 'claims');
  });
});
