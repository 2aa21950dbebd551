// metric_leases' roll-up (metrics-schema.ts, metric schema 3): renewals add a lease row per host
// every half lease, and the rows of hosts that left stayed forever. Rows written more than
// LEASE_ROLLUP_DAYS ago are now rolled up by the table's TTL into one row per host that keeps the
// highest epoch (which fences the host's series versions), its collector and its last expiry; a
// database at metric schema 2 gets the TTL when a collector opens it. On chdb (a real engine):
// leases taken through the real protocol with a clock days in the past, then a merge (OPTIMIZE
// FINAL applies the TTL), then a collector of today claiming above the kept epoch.
import { readFileSync } from 'node:fs';
import type { ClickHouseClient } from '@clickhouse/client';
import { describe, expect, it } from 'vitest';
import { ensureDatabase, openClient } from '../../collector/storage/clickhouse/connection.js';
import { SeriesLeases } from '../../collector/storage/clickhouse/metrics-lease.js';
import { ensureMetricsSchema, LEASE_ROLLUP_DAYS, METRICS_SCHEMA_VERSION } from '../../collector/storage/clickhouse/metrics-schema.js';
import { chdbForFile } from './chdb-fixture.js';

const chdb = chdbForFile('ringtail-chdb-lease-ttl-');
let n = 0;
const DAY = 86_400_000;

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await (await client.query({ query, format: 'JSONEachRow' })).json()) as T[];
}

const perOwner = (client: ClickHouseClient) =>
  rows<{ owner: string; n: number; e: number; c: string }>(client, 'SELECT owner, count() AS n, max(epoch) AS e, argMax(collector, epoch) AS c FROM metric_leases GROUP BY owner ORDER BY owner').then((r) =>
    r.map((x) => ({ owner: x.owner, n: Number(x.n), epoch: Number(x.e), collector: x.c })),
  );

/** merges until the TTL has rolled every host's old rows up (a deadline, no fixed wait) */
async function mergedUntil(client: ClickHouseClient, done: (r: Awaited<ReturnType<typeof perOwner>>) => boolean): Promise<Awaited<ReturnType<typeof perOwner>>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    await client.command({ query: 'OPTIMIZE TABLE metric_leases FINAL' });
    const r = await perOwner(client);
    if (done(r) || Date.now() > deadline) return r;
  }
}

/** two collectors taking, renewing, handing over and releasing leases of two hosts, at `start` */
async function leaseHistory(client: ClickHouseClient, start: number): Promise<void> {
  let t = start;
  const clock = () => t;
  const a = new SeriesLeases(client, { collectorId: 'col-a', leaseMs: 10_000, clock });
  const b = new SeriesLeases(client, { collectorId: 'col-b', leaseMs: 10_000, clock });
  await a.ensure(['web-1', 'web-2']);
  for (let i = 0; i < 5; i++) {
    t += 6_000; // past half a lease: each ensure renews (a row per host)
    await a.ensure(['web-1', 'web-2']);
  }
  t += 10_001; // a goes quiet; b takes web-1 over (epoch 2), then stops in order
  expect((await b.ensure(['web-1'])).taken).toEqual(['web-1']);
  t += 6_000;
  await b.ensure(['web-1']);
  await b.release();
}

describe('metric_leases roll-up', () => {
  it('rolls lease rows older than a day up into one row per host, keeping the epoch a returning host is claimed above', async () => {
    const database = `lease_ttl_${process.pid}_${n++}`;
    await ensureDatabase({ url: chdb.server.url, database }, database, chdb.server.url);
    const client = openClient({ url: chdb.server.url, database }, database);
    try {
      await ensureMetricsSchema(client, database);
      await leaseHistory(client, Date.now() - (LEASE_ROLLUP_DAYS + 2) * DAY);
      // (ClickHouse applies a TTL as parts are written too: how many rows are left before the
      // merge depends on how the inserts fell into parts, so only the merged result is checked)
      // recent rows are kept as they are: only the old ones roll up
      let t = Date.now();
      const x = new SeriesLeases(client, { collectorId: 'col-x', leaseMs: 10_000, clock: () => t });
      for (let i = 0; i < 3; i++, t += 6_000) await x.ensure(['db-1']);
      const after = await mergedUntil(client, (r) => r.filter((x) => x.owner.startsWith('web-')).every((x) => x.n === 1));
      expect(after).toEqual([
        { owner: 'db-1', n: 3, epoch: 1, collector: 'col-x' },
        { owner: 'web-1', n: 1, epoch: 2, collector: 'col-b' },
        { owner: 'web-2', n: 1, epoch: 1, collector: 'col-a' },
      ]);
      // the rolled row keeps the expiry written last (b's release), so the lease is free...
      const [row] = await rows<{ expires_ms: number; written_ms: number }>(client, "SELECT expires_ms, written_ms FROM metric_leases WHERE owner = 'web-1'");
      expect(Number(row!.expires_ms)).toBeLessThan(Date.now() - DAY);
      // ...and a collector of today claims web-1 above the kept epoch, never at 1 again
      const c = new SeriesLeases(client, { collectorId: 'col-c', leaseMs: 10_000 });
      expect((await c.ensure(['web-1', 'web-2'])).taken.sort()).toEqual(['web-1', 'web-2']);
      expect([c.epochOf('web-1'), c.epochOf('web-2')]).toEqual([3, 2]);
    } finally {
      await client.close();
    }
  });

  it('a database at metric schema 2 (the tables of 44d9462) gets the roll-up when a collector opens it', async () => {
    const database = `lease_ttl_${process.pid}_${n++}`;
    await ensureDatabase({ url: chdb.server.url, database }, database, chdb.server.url);
    const client = openClient({ url: chdb.server.url, database }, database);
    try {
      const v2 = (JSON.parse(readFileSync(new URL('../fixtures/clickhouse-ddl-44d9462.json', import.meta.url), 'utf8')) as Record<string, string[]>).metrics!;
      for (const q of v2) await client.command({ query: q });
      await client.insert({ table: 'ringtail_schema', values: [{ component: 'metrics', version: 2 }], format: 'JSONEachRow' });
      await leaseHistory(client, Date.now() - (LEASE_ROLLUP_DAYS + 2) * DAY);
      await client.command({ query: 'OPTIMIZE TABLE metric_leases FINAL' });
      expect((await perOwner(client)).map((r) => r.n)).toEqual([9, 6]); // no TTL yet: every row stays

      await ensureMetricsSchema(client, database);
      const [v] = await rows<{ v: number }>(client, "SELECT max(version) AS v FROM ringtail_schema WHERE component = 'metrics'");
      expect(Number(v!.v)).toBe(METRICS_SCHEMA_VERSION);
      expect(METRICS_SCHEMA_VERSION).toBe(3);
      const [t] = await rows<{ statement: string }>(client, 'SHOW CREATE TABLE metric_leases');
      expect(t!.statement).toMatch(/TTL toDateTime\(intDiv\(written_ms, 1000\)\) \+ toIntervalDay\(1\) GROUP BY owner SET epoch = max\(epoch\)/);
      const after = await mergedUntil(client, (r) => r.every((x) => x.n === 1));
      expect(after).toEqual([
        { owner: 'web-1', n: 1, epoch: 2, collector: 'col-b' },
        { owner: 'web-2', n: 1, epoch: 1, collector: 'col-a' },
      ]);
    } finally {
      await client.close();
    }
  });
});
