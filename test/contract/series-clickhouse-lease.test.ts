// One writer per host's series on a shared ClickHouse (metrics-lease.ts): two collectors' stores
// on one database, as two collectors behind a load balancer. The second is refused (503 with
// Retry-After) while the first holds the host's lease, takes the host over once the lease has
// expired or was released, and continues from the state the first stored: the whole stream,
// split between collectors, fetches what the arithmetic gives for it in one piece.
import { describe, expect, it } from 'vitest';
import { PersistedSeriesStore, type SeriesPersistence } from '../../collector/rrd/persistence.js';
import { openClient } from '../../collector/storage/clickhouse/connection.js';
import { ClickHouseSeriesPersistence } from '../../collector/storage/clickhouse/metrics.js';
import { SeriesLeases } from '../../collector/storage/clickhouse/metrics-lease.js';
import { openClickHouseSeriesStore } from '../../collector/storage/clickhouse/metrics-store.js';
import { UnavailableError } from '../../collector/ingest/unavailable.js';
import { chdbForFile } from './chdb-fixture.js';
import { fetchAll, reference, seriesCase } from './series.contract.js';

const chdb = chdbForFile('ringtail-chdb-lease-');
let n = 0;

/** a clock a test moves by hand */
function clock(start = Date.now()): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('series leases on ClickHouse', () => {
  it('refuses a host held by another collector, then takes it over after the lease expires and continues its series', async () => {
    const database = `lease_${process.pid}_${n++}`;
    const t = clock();
    const a = await openClickHouseSeriesStore({ url: chdb.server.url, database, collectorId: 'col-a', leaseMs: 10_000, clock: t.now });
    const b = await openClickHouseSeriesStore({ url: chdb.server.url, database, collectorId: 'col-b', leaseMs: 10_000, clock: t.now });
    try {
      const c = seriesCase(7, 'web-1/cpu.busy');
      const half = Math.floor(c.batches.length / 2);
      await a.create(c.name, c.def, { start: c.start });
      for (const batch of c.batches.slice(0, half)) await a.updateMany([{ series: c.name, args: batch }]);

      // b: refused whole while a holds web-1; another host goes through b at the same time
      await b.create('db-1/load', c.def, { start: c.start });
      const refused = await b.updateMany([
        { series: c.name, args: c.batches[half]! },
        { series: 'db-1/load', args: [c.batches[0]![0]!] },
      ]);
      expect(refused.accepted).toEqual([0, 1]);
      const err = refused.errors.get(0);
      expect(err).toBeInstanceOf(UnavailableError);
      expect(err).toMatchObject({ status: 503, code: 'RINGTAIL_ERR_STORAGE' });
      expect((err as UnavailableError).retryAfterS).toBeGreaterThanOrEqual(9);
      expect(err!.message).toMatch(/host 'web-1' are consolidated by collector 'col-a'.*collector 'col-b' takes them over only when that lease expires/);
      expect(refused.errors.has(1)).toBe(false);
      await expect(b.delete(c.name)).rejects.toBeInstanceOf(UnavailableError);

      // a renews while it writes: half a lease later it still holds web-1
      t.advance(6_000);
      await a.updateMany([{ series: c.name, args: c.batches[half]! }]);
      t.advance(6_000);
      expect((await b.updateMany([{ series: c.name, args: c.batches[half + 1]! }])).errors.get(0)).toBeInstanceOf(UnavailableError);

      // a goes quiet (crashed, say): its lease runs out and b takes the host over
      t.advance(10_001);
      const want = reference(c);
      for (let k = half + 1; k < c.batches.length; k++) {
        const res = await b.updateMany([{ series: c.name, args: c.batches[k]! }]);
        expect(res.errors.get(0)?.message ?? '', `batch ${k}`).toBe(want.errors[k]);
      }
      // a, back, is now the one refused
      expect((await a.updateMany([{ series: c.name, args: ['N:1'] }])).errors.get(0)).toBeInstanceOf(UnavailableError);

      expect(await fetchAll(a, c)).toEqual(want.fetches);
      expect(await fetchAll(b, c)).toEqual(want.fetches);
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);

  it('hands the hosts over at once when the holder closes (releases its leases)', async () => {
    const database = `lease_${process.pid}_${n++}`;
    const a = await openClickHouseSeriesStore({ url: chdb.server.url, database, collectorId: 'col-a' });
    const b = await openClickHouseSeriesStore({ url: chdb.server.url, database, collectorId: 'col-b' });
    try {
      const c = seriesCase(3, 'web-2/mem');
      await a.create(c.name, c.def, { start: c.start });
      await a.updateMany([{ series: c.name, args: c.batches[0]! }]);
      expect((await b.updateMany([{ series: c.name, args: c.batches[1]! }])).errors.get(0)).toBeInstanceOf(UnavailableError);
      await a.close();
      for (const batch of c.batches.slice(1)) await b.updateMany([{ series: c.name, args: batch }]);
      expect(await fetchAll(b, c)).toEqual(reference(c).fetches);
    } finally {
      await b.close();
    }
  }, 60_000);

  it('gives each host to exactly one of several collectors claiming it at the same moment', async () => {
    const database = `lease_${process.pid}_${n++}`;
    const hosts = Array.from({ length: 8 }, (_, i) => `race-${i}`);
    const stores = await Promise.all(['c1', 'c2', 'c3'].map((id) => openClickHouseSeriesStore({ url: chdb.server.url, database, collectorId: id })));
    try {
      const results = await Promise.all(stores.map((s) => s.leases.ensure(hosts)));
      for (const h of hosts) {
        const winners = results.filter((r) => r.taken.includes(h)).length;
        const losers = results.filter((r) => r.refused.has(h)).length;
        expect([h, winners, losers]).toEqual([h, 1, 2]);
      }
      const held = stores.map((s) => s.leases.holding());
      expect(held.flat().sort()).toEqual([...hosts].sort());
    } finally {
      for (const s of stores) await s.close();
    }
  }, 60_000);

  it('keeps one claim of an epoch when a collector claims it from a stale read (the insert token is the compare-and-set)', async () => {
    const database = `lease_${process.pid}_${n++}`;
    await (await openClickHouseSeriesStore({ url: chdb.server.url, database, collectorId: 'setup' })).close();
    const client = openClient({ url: chdb.server.url, database }, database);
    // col-b reads "no lease", then stalls until col-a has claimed epoch 1, then claims epoch 1 too
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let stalled = false;
    const staleClient = new Proxy(client, {
      get(target, prop, receiver) {
        if (prop !== 'query') return Reflect.get(target, prop, receiver) as unknown;
        return async (...args: Parameters<typeof client.query>) => {
          const rs = await target.query(...args);
          if (!stalled) {
            stalled = true;
            await gate;
          }
          return rs;
        };
      },
    });
    const a = new SeriesLeases(client, { collectorId: 'col-a' });
    const b = new SeriesLeases(staleClient, { collectorId: 'col-b' });
    try {
      const late = b.ensure(['web-9']);
      expect((await a.ensure(['web-9'])).taken).toEqual(['web-9']);
      release();
      const lost = await late;
      expect(lost.taken).toEqual([]);
      expect(lost.refused.get('web-9')?.message).toMatch(/collector 'col-a'/);
      const rs = await client.query({ query: "SELECT collector FROM metric_leases WHERE owner = 'web-9' AND epoch = 1", format: 'JSONEachRow' });
      expect(await rs.json()).toEqual([{ collector: 'col-a' }]);
    } finally {
      await client.close();
    }
  }, 60_000);

  it('lets the collector that took a host over win against a late write of the one it replaced (versions fenced by lease epoch)', async () => {
    const database = `lease_${process.pid}_${n++}`;
    const t = clock();
    const a = await openClickHouseSeriesStore({ url: chdb.server.url, database, collectorId: 'col-a', leaseMs: 10_000, clock: t.now });
    const b = await openClickHouseSeriesStore({ url: chdb.server.url, database, collectorId: 'col-b', leaseMs: 10_000, clock: t.now });
    const client = openClient({ url: chdb.server.url, database }, database);
    try {
      const c = seriesCase(9, 'web-5/disk');
      await a.create(c.name, c.def, { start: c.start });
      const cut = c.batches.length - 2;
      for (const batch of c.batches.slice(0, cut)) await a.updateMany([{ series: c.name, args: batch }]);
      const handedOver = (await a.info(c.name)).state.lastUp;
      // a stalls past its lease; b takes web-5 over and writes the last batches
      t.advance(10_001);
      for (const batch of c.batches.slice(cut)) expect((await b.updateMany([{ series: c.name, args: batch }])).errors.size).toBe(0);
      expect(b.leases.epochOf('web-5')).toBe(2);
      // then a's insert, sent before it stalled, lands: epoch 1, a higher write count, other values
      const stored = (await new ClickHouseSeriesPersistence(client, 'probe').load([c.name])).get(c.name)!;
      const late = new ClickHouseSeriesPersistence(client, 'col-a', () => 1);
      // the rows b wrote (those a wrote before are a's to replace)
      const rows = await late.readRows(stored.id, 0, handedOver + 1, Number.MAX_SAFE_INTEGER);
      expect(rows.length).toBeGreaterThan(0);
      await late.write([
        {
          name: c.name,
          id: stored.id,
          def: stored.def,
          version: stored.version + 100,
          state: { ...stored.state, lastUp: stored.state.lastUp - 1 },
          rows: rows.map((r) => ({ ...r, values: r.values.map(() => 12345) })),
        },
      ]);
      const want = reference(c);
      expect((await b.info(c.name)).state.lastUp).toBe(stored.state.lastUp);
      expect(await fetchAll(b, c)).toEqual(want.fetches);
    } finally {
      await client.close();
      await a.close();
      await b.close();
    }
  }, 60_000);

  it('rewrites the same rows when a write is retried after its rows landed and its state did not', async () => {
    const database = `lease_${process.pid}_${n++}`;
    // the tables, through the store
    await (await openClickHouseSeriesStore({ url: chdb.server.url, database, collectorId: 'setup' })).close();
    const client = openClient({ url: chdb.server.url, database }, database);
    const real = new ClickHouseSeriesPersistence(client, 'col-a');
    let failNext = false;
    // rows stored, then the "crash" before the state insert
    const faulty: SeriesPersistence = Object.assign(Object.create(real) as SeriesPersistence, {
      write: async (changes: Parameters<SeriesPersistence['write']>[0]) => {
        if (!failNext) return real.write(changes);
        failNext = false;
        const rows = changes.flatMap((c) => c.rows.map((r) => ({ id: c.id, rra: r.rra, time: r.time, values: r.values.map((v) => (Number.isNaN(v) ? 'nan' : v)), version: c.version })));
        if (rows.length) await client.insert({ table: 'metric_rows', values: rows, format: 'JSONEachRow' });
        throw new Error('connection reset (test)');
      },
    });
    const store = new PersistedSeriesStore(faulty);
    try {
      const c = seriesCase(11, 'web-3/net');
      await store.create(c.name, c.def, { start: c.start });
      for (const [k, batch] of c.batches.entries()) {
        if (k % 2 === 1) {
          failNext = true;
          await expect(store.updateMany([{ series: c.name, args: batch }])).rejects.toThrow('connection reset (test)');
        }
        await store.updateMany([{ series: c.name, args: batch }]); // the agent sends it again
      }
      expect(await fetchAll(store, c)).toEqual(reference(c).fetches);
    } finally {
      await store.close();
    }
  }, 60_000);
});
