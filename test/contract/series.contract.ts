// The metric series store's contract, run against every backend (series-sqlite.test.ts,
// series-clickhouse.test.ts): the same update streams must give the same fetch output, to the
// character of `rrdtool fetch`'s text. Expected answers come from the inputs — through
// MemorySeries (the rrdtool arithmetic over an in-memory ring, no store) or rrdtool's own
// printed output (REFERENCE.md §1) — never from one backend's output.
import { describe, expect, it } from 'vitest';
import { parseDefs } from '../../collector/rrd/defs.js';
import { formatFetch } from '../../collector/rrd/format.js';
import { MemorySeries } from '../../collector/rrd/memory.js';
import type { SeriesStore } from '../../collector/rrd/series-store.js';
import type { Cf } from '../../collector/rrd/types.js';
import { RRD_EXAMPLE as EXAMPLE } from '../fixtures/rrd-example.js';
import { scenario } from '../helpers/rrd-gen.js';

/** opens an empty store; each call gets its own */
export type OpenSeriesStore = () => Promise<SeriesStore>;

/** a seeded rrd-gen scenario as store calls: definition, update batches, fetch windows */
export interface SeriesCase {
  name: string;
  def: ReturnType<typeof parseDefs>;
  start: number;
  batches: string[][];
  fetches: Array<{ cf: Cf; start: number; end: number; resolution?: number }>;
  /** the rrdtool argv it came from (for tests that drive rrdtool too) */
  argv: ReturnType<typeof scenario>;
}

export function seriesCase(seed: number, name = `host-${seed}/m.s${seed}`): SeriesCase {
  const sc = scenario(seed, 'F');
  const c = sc.create;
  const step = Number(c[c.indexOf('--step') + 1]);
  const start = Number(c[c.indexOf('--start') + 1]);
  const def = parseDefs(
    c.filter((a) => a.startsWith('DS:') || a.startsWith('RRA:')),
    step,
  );
  const fetches = sc.fetches.map((f) => {
    const flag = (long: string, short: string): string | undefined => {
      const i = f.findIndex((a) => a === long || a === short);
      return i >= 0 ? f[i + 1] : undefined;
    };
    const r = flag('--resolution', '-r');
    return { cf: f[2] as Cf, start: Number(flag('--start', '-s')), end: Number(flag('--end', '-e')), ...(r ? { resolution: Number(r) } : {}) };
  });
  return { name, def, start, batches: sc.updates.map((u) => u.slice(2)), fetches, argv: sc };
}

/** applies a case's batches; returns each batch's error text or '' (rrdtool's per-command outcome) */
export async function feed(store: SeriesStore, c: SeriesCase): Promise<string[]> {
  await store.create(c.name, c.def, { start: c.start });
  const out: string[] = [];
  for (const b of c.batches) {
    const res = await store.updateMany([{ series: c.name, args: b }]);
    out.push(res.errors.get(0)?.message ?? '');
  }
  return out;
}

/** every fetch of a case as rrdtool's text (or `ERROR: …`) */
export async function fetchAll(store: SeriesStore, c: SeriesCase): Promise<string[]> {
  const out: string[] = [];
  for (const f of c.fetches) {
    try {
      out.push(formatFetch(await store.fetch(c.name, f.cf, f)));
    } catch (err) {
      out.push(`ERROR: ${(err as Error).message}`);
    }
  }
  return out;
}

/** the same case through MemorySeries: the arithmetic alone, no store */
export function reference(c: SeriesCase): { errors: string[]; fetches: string[] } {
  const m = new MemorySeries(c.def, c.start);
  const errors = c.batches.map((b) => {
    for (const a of b) {
      try {
        m.update(a);
      } catch (err) {
        return (err as Error).message;
      }
    }
    return '';
  });
  const fetches = c.fetches.map((f) => {
    try {
      return formatFetch(m.fetch(f.cf, f.start, f.end, f.resolution));
    } catch (err) {
      return `ERROR: ${(err as Error).message}`;
    }
  });
  return { errors, fetches };
}

const SEEDS = Number(process.env.SERIES_CONTRACT_SEEDS ?? 12);

export function seriesContract(backend: string, open: OpenSeriesStore): void {
  describe(`series store contract: ${backend}`, () => {
    it('prints rrdtool 1.7.2\u2019s fetch output for the reference stream', async () => {
      const s = await open();
      try {
        await s.create('ex', EXAMPLE.def, { start: 1_000_000_000 });
        await s.update('ex', EXAMPLE.updates);
        expect(formatFetch(await s.fetch('ex', 'AVERAGE', { start: 1_000_000_000, end: 1_000_000_050 }))).toBe(EXAMPLE.average);
      } finally {
        await s.close();
      }
    });

    it(`gives the arithmetic's fetch output for ${SEEDS} seeded update streams (every DS type, gaps, wraps, xff edges)`, async () => {
      const s = await open();
      try {
        for (let seed = 1; seed <= SEEDS; seed++) {
          const c = seriesCase(seed);
          const want = reference(c);
          expect(await feed(s, c), `seed ${seed} update errors`).toEqual(want.errors);
          expect(await fetchAll(s, c), `seed ${seed}`).toEqual(want.fetches);
        }
      } finally {
        await s.close();
      }
    }, 120_000);

    it('gives the same rows however the updates are batched (one call, many, several series per call)', async () => {
      const s = await open();
      try {
        const a = seriesCase(5, 'h1/a');
        const b = { ...seriesCase(5, 'h2/b') };
        await s.create(a.name, a.def, { start: a.start });
        await s.create(b.name, b.def, { start: b.start });
        const all = a.batches.flat();
        // a: one argument per call; b: everything in calls of 7, interleaved with a's
        for (let i = 0; i < all.length; i++) {
          const items = [{ series: a.name, args: [all[i]!] }];
          if (i % 7 === 0) items.push({ series: b.name, args: all.slice(i, i + 7) });
          const res = await s.updateMany(items);
          expect([...res.errors.values()].map((e) => e.message)).toEqual([]);
        }
        for (const f of a.fetches) expect(formatFetch(await s.fetch(b.name, f.cf, f))).toBe(formatFetch(await s.fetch(a.name, f.cf, f)));
        for (let r = 0; r < a.def.rra.length; r++) expect(await s.rows(b.name, r)).toEqual(await s.rows(a.name, r));
      } finally {
        await s.close();
      }
    });

    it('keeps the arguments before a bad one, refuses time going back, and says which series is missing', async () => {
      const s = await open();
      try {
        await s.create('h/x', parseDefs(['DS:v:COUNTER:20:U:U', 'RRA:AVERAGE:0.5:1:10'], 10), { start: 1_000_000_000 });
        const res = await s.updateMany([
          { series: 'h/x', args: ['1000000010:100', '1000000020:1.5', '1000000030:300'] },
          { series: 'h/missing', args: ['1000000010:1'] },
        ]);
        expect(res.accepted).toEqual([1, 0]);
        expect(res.errors.get(0)?.message).toBe("not a simple unsigned integer: '1.5'");
        expect(res.errors.get(1)).toMatchObject({ code: 'RINGTAIL_ERR_NOT_FOUND', status: 404 });
        expect((await s.info('h/x')).state.lastUp).toBe(1_000_000_010);
        await expect(s.update('h/x', ['1000000010:200'])).rejects.toThrow(
          'illegal attempt to update using time 1000000010 when last update time is 1000000010 (minimum one second step)',
        );
        await s.update('h/x', ['1000000020:200', '1000000030:400']);
        const f = await s.fetch('h/x', 'AVERAGE', { start: 1_000_000_000, end: 1_000_000_030 });
        expect(Array.from(f.data)).toEqual([NaN, 10, 20, NaN]);
      } finally {
        await s.close();
      }
    });

    it('creates, lists, refuses a second create, deletes, and re-creates a name empty', async () => {
      const s = await open();
      try {
        const def = parseDefs(['DS:v:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10'], 10);
        await s.createMany([
          { name: 'h/b', def, start: 1_000_000_000 },
          { name: 'h/a', def, start: 1_000_000_000 },
        ]);
        expect(await s.list()).toEqual(['h/a', 'h/b']);
        await expect(s.create('h/a', def, { start: 1_000_000_000 })).rejects.toThrow("creating 'h/a': File exists");
        await expect(s.createMany([{ name: 'h/c', def }, { name: 'h/a', def }])).rejects.toThrow("creating 'h/a': File exists");
        expect(await s.list()).toEqual(['h/a', 'h/b']);
        await s.update('h/a', ['1000000010:5', '1000000020:7']);
        expect(await s.delete('h/a')).toBe(true);
        expect(await s.delete('h/a')).toBe(false);
        expect(await s.list()).toEqual(['h/b']);
        await expect(s.fetch('h/a', 'AVERAGE', { start: 1_000_000_000, end: 1_000_000_020 })).rejects.toMatchObject({ status: 404 });
        await s.create('h/a', def, { start: 1_000_000_000 });
        const f = await s.fetch('h/a', 'AVERAGE', { start: 1_000_000_000, end: 1_000_000_020 });
        expect(Array.from(f.data).every((v) => Number.isNaN(v))).toBe(true);
        await s.create('h/b', def, { start: 1_000_000_000, overwrite: true });
        expect((await s.info('h/b')).state.lastUp).toBe(1_000_000_000);
      } finally {
        await s.close();
      }
    });

    it('creates and updates 1,500 series with long names in one call each (the collector\u2019s round)', async () => {
      const s = await open();
      try {
        const def = parseDefs(['DS:v:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10'], 10);
        const names = Array.from({ length: 1500 }, (_, i) => `instance-${String(i % 30).padStart(3, '0')}.eu-west-1.compute.internal/disk.write_bytes{device=nvme${i}n1,mount=/var/lib/data-${i}}`);
        await s.createMany(names.map((name) => ({ name, def, start: 1_000_000_000 })));
        for (const t of [1_000_000_010, 1_000_000_020]) {
          const res = await s.updateMany(names.map((series, i) => ({ series, args: [`${t}:${i}`] })));
          expect(res.errors.size).toBe(0);
          expect(res.accepted.every((n) => n === 1)).toBe(true);
        }
        expect((await s.list()).length).toBe(1500);
        const f = await s.fetch(names[1234]!, 'AVERAGE', { start: 1_000_000_000, end: 1_000_000_020 });
        expect(Array.from(f.data)).toEqual([1234, 1234, NaN]);
      } finally {
        await s.close();
      }
    }, 60_000);

    it('stores values exactly, extremes included, under names with quotes, tabs and backslashes', async () => {
      const s = await open();
      try {
        const name = "h\\x/it's \"odd\"\t{a=b}";
        const readings = ['0.30000000000000004', '-0', '1.7976931348623157e308', '-1e308', '5e-324', '2.2250738585072014e-308', '123456789.123456789', '1e-7'];
        const c: SeriesCase = {
          name,
          def: parseDefs(['DS:v:GAUGE:20:U:U', 'DS:w:GAUGE:20:U:U', 'RRA:LAST:0.5:1:20', 'RRA:MAX:0.5:2:10'], 10),
          start: 1_000_000_000,
          batches: readings.map((v, i) => [`${1_000_000_010 + 10 * i}:${v}:${readings[readings.length - 1 - i]}`]),
          fetches: [
            { cf: 'LAST', start: 1_000_000_000, end: 1_000_000_110 },
            { cf: 'MAX', start: 1_000_000_000, end: 1_000_000_110, resolution: 20 },
          ],
          argv: scenario(1, 'F'),
        };
        const want = reference(c);
        expect(await feed(s, c)).toEqual(want.errors);
        expect(await fetchAll(s, c)).toEqual(want.fetches);
        // every bit of every double (fetch text shows ten digits; toEqual tells -0 from 0)
        const m = new MemorySeries(c.def, c.start);
        m.update(...c.batches.flat());
        await s.delete(name);
        await feed(s, { ...c, batches: [c.batches.flat()] });
        for (const f of c.fetches) expect(Array.from((await s.fetch(name, f.cf, f)).data)).toEqual(Array.from(m.fetch(f.cf, f.start, f.end, f.resolution).data));
        expect(await s.list()).toEqual([name]);
      } finally {
        await s.close();
      }
    });

    it('answers recent(): the wanted series updated after a watermark with their finest AVERAGE rows after it, and every host updated', async () => {
      const s = await open();
      try {
        // the finest AVERAGE archive is the third: the rows come from it, not from the MAX one before it
        const def = parseDefs(['DS:v:GAUGE:20:U:U', 'RRA:MAX:0.5:1:10', 'RRA:AVERAGE:0.5:6:10', 'RRA:AVERAGE:0.5:1:20'], 10);
        const t0 = 1_000_000_000;
        const names = ['h1/cpu.idle', 'h1/df.used_pct{mount=/}', 'h1/df.used_pct{mount=/var}', 'h1/mem.free', 'h2/cpu.idle', 'h3/cpu.idle'];
        await s.createMany(names.map((name) => ({ name, def, start: t0 })));
        const at = (k: number, v: number) => `${t0 + 10 * k}:${v}`;
        await s.updateMany([
          { series: 'h1/cpu.idle', args: [1, 2, 3, 4, 5, 6].map((k) => at(k, 90 + k)) },
          { series: 'h1/df.used_pct{mount=/}', args: [1, 2, 3, 4, 5, 6].map((k) => at(k, k / 4)) },
          { series: 'h1/df.used_pct{mount=/var}', args: [1, 2, 3].map((k) => at(k, -k)) },
          { series: 'h1/mem.free', args: [1, 2, 3, 4, 5, 6, 7].map((k) => at(k, k)) },
          { series: 'h2/cpu.idle', args: [1, 2, 3].map((k) => at(k, 50)) },
        ]);
        const rows = (ks: number[], v: (k: number) => number) => ks.map((k) => ({ time: t0 + 10 * k, value: v(k) }));
        const sorted = (a: Awaited<ReturnType<typeof s.recent>>) => ({
          series: [...a.series].sort((x, y) => (x.name < y.name ? -1 : 1)),
          hosts: [...a.hosts].sort((x, y) => (x.host < y.host ? -1 : 1)),
        });
        const q = { keys: ['cpu.idle'], names: ['df.used_pct'] };
        expect(sorted(await s.recent({ ...q, after: t0 }))).toEqual({
          series: [
            { name: 'h1/cpu.idle', type: 'GAUGE', step: 10, lastUp: t0 + 60, rows: rows([1, 2, 3, 4, 5, 6], (k) => 90 + k) },
            { name: 'h1/df.used_pct{mount=/var}', type: 'GAUGE', step: 10, lastUp: t0 + 30, rows: rows([1, 2, 3], (k) => -k) },
            { name: 'h1/df.used_pct{mount=/}', type: 'GAUGE', step: 10, lastUp: t0 + 60, rows: rows([1, 2, 3, 4, 5, 6], (k) => k / 4) },
            { name: 'h2/cpu.idle', type: 'GAUGE', step: 10, lastUp: t0 + 30, rows: rows([1, 2, 3], () => 50) },
          ],
          // h3 was created and never updated; mem.free is no wanted key, but its host's update counts
          hosts: [
            { host: 'h1', lastUp: t0 + 70 },
            { host: 'h2', lastUp: t0 + 30 },
          ],
        });
        // incremental: only what was updated after the watermark, only the rows stamped after it
        expect(sorted(await s.recent({ ...q, after: t0 + 40 }))).toEqual({
          series: [
            { name: 'h1/cpu.idle', type: 'GAUGE', step: 10, lastUp: t0 + 60, rows: rows([5, 6], (k) => 90 + k) },
            { name: 'h1/df.used_pct{mount=/}', type: 'GAUGE', step: 10, lastUp: t0 + 60, rows: rows([5, 6], (k) => k / 4) },
          ],
          hosts: [{ host: 'h1', lastUp: t0 + 70 }],
        });
        // a series updated later shows; a deleted one no longer does
        await s.update('h3/cpu.idle', [at(1, 7)]);
        await s.delete('h2/cpu.idle');
        expect(sorted(await s.recent({ keys: ['cpu.idle'], names: [], after: t0 }))).toEqual({
          series: [
            { name: 'h1/cpu.idle', type: 'GAUGE', step: 10, lastUp: t0 + 60, rows: rows([1, 2, 3, 4, 5, 6], (k) => 90 + k) },
            { name: 'h3/cpu.idle', type: 'GAUGE', step: 10, lastUp: t0 + 10, rows: rows([1], () => 7) },
          ],
          hosts: [
            { host: 'h1', lastUp: t0 + 70 },
            { host: 'h3', lastUp: t0 + 10 },
          ],
        });
        expect(await s.recent({ ...q, after: t0 + 70 })).toEqual({ series: [], hosts: [] });
        // the hosts a caller consolidates itself: no series of theirs, still in `hosts`
        expect(sorted(await s.recent({ ...q, after: t0 + 40, except: new Set(['h1']) }))).toEqual({ series: [], hosts: [{ host: 'h1', lastUp: t0 + 70 }] });
      } finally {
        await s.close();
      }
    });

    it('dumps an archive oldest first, its window wrapped around the ring', async () => {
      const s = await open();
      try {
        await s.create('h/r', parseDefs(['DS:v:GAUGE:20:U:U', 'RRA:LAST:0.5:1:4'], 10), { start: 1_000_000_000 });
        // six rows into a ring of four: the dump holds the last four, oldest first
        await s.update('h/r', [1, 2, 3, 4, 5, 6].map((k) => `${1_000_000_000 + 10 * k}:${k}`));
        expect(Array.from(await s.rows('h/r', 0))).toEqual([3, 4, 5, 6]);
      } finally {
        await s.close();
      }
    });
  });
}
