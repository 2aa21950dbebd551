// Storage proportional to life: a series' chunks are allocated with its first known rows, so a
// host that lived two hours takes about two hours of rows, while every answer stays rrdtool's
// (the same command lines through the real rrdtool 1.7.2 and `ringtail rrd`, fetch and dump
// compared as text). Also: a ring that wrapped, then idled across whole chunks and across the
// whole ring, and a store written before lazy chunks (every chunk preallocated) keep answering
// as rrdtool does.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { boundBytes, chunkCount, chunkId, chunkLength } from '../../collector/rrd/chunks.js';
import { parseDefs } from '../../collector/rrd/defs.js';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import type { SeriesDef } from '../../collector/rrd/types.js';
import { createLayouts } from '../../collector/metrics/layout.js';
import { tempDir } from '../helpers/proc.js';
import { ringtailRrd } from '../helpers/rrd-inprocess.js';
import { hasTool } from '../helpers/tools.js';

const T0 = 1_700_000_003;
const DAY = 86_400;
const YEAR = 365 * DAY;

/** `rrdtool create` arguments for a definition. */
function defArgs(def: SeriesDef): string[] {
  const u = (v: number): string => (Number.isNaN(v) ? 'U' : String(v));
  return [
    ...def.ds.map((d) => `DS:${d.name}:${d.type}:${d.heartbeat}:${u(d.min)}:${u(d.max)}`),
    ...def.rra.map((r) => `RRA:${r.cf}:${r.xff}:${r.pdpPerRow}:${r.rows}`),
  ];
}

/**
 * Pages in use (not free) × page size: pages the journal used and gave back are reused by the
 * next rounds (their number depends on the checkpoint threshold, not on the series).
 */
function pagesInUse(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    const n = (p: string): number => db.pragma(p, { simple: true }) as number;
    return (n('page_count') - n('freelist_count')) * n('page_size');
  } finally {
    db.close();
  }
}

/** Sum of the stored chunk lengths and the number of chunks of every series in a store file. */
function chunkBytes(path: string): { bytes: number; chunks: number } {
  const db = new Database(path, { readonly: true });
  try {
    const r = db.prepare('SELECT coalesce(sum(length(data)), 0) AS bytes, count(*) AS chunks FROM rrd_chunk').get() as { bytes: number; chunks: number };
    return r;
  } finally {
    db.close();
  }
}

/** Both tools, the same arguments (the file swapped); splits long update lists like a script would. */
function makePair(rrd: string, store: string) {
  return {
    async create(args: string[]): Promise<void> {
      execFileSync('rrdtool', ['create', rrd, ...args]);
      const r = await ringtailRrd(['create', store, ...args]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
    },
    async update(args: string[]): Promise<void> {
      for (let i = 0; i < args.length; i += 2000) {
        const part = args.slice(i, i + 2000);
        execFileSync('rrdtool', ['update', rrd, ...part]);
        const r = await ringtailRrd(['update', store, ...part]);
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
      }
    },
    /** fetch: the same text, to the byte; returns the number of rows. */
    async fetch(args: string[]): Promise<number> {
      const want = execFileSync('rrdtool', ['fetch', rrd, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
      const got = await ringtailRrd(['fetch', store, ...args]);
      expect(got.err, `fetch ${args.join(' ')}`).toBe('');
      expect(got.out, `fetch ${args.join(' ')}`).toBe(want);
      return want.split('\n').filter((l) => /^\d+:/.test(l)).length;
    },
    /**
     * dump: the same XML to the byte — every archived row, in order, with its time — apart from
     * the <cdp_prep> blocks: there rrdtool prints MIN/MAX's running value as ±inf and a
     * secondary_value ringtail does not keep (as before lazy chunks; not the archives' storage).
     */
    async dump(): Promise<string> {
      const strip = (xml: string): string => xml.replace(/<cdp_prep>[\s\S]*?<\/cdp_prep>/g, '<cdp_prep/>');
      const want = strip(execFileSync('rrdtool', ['dump', rrd], { encoding: 'utf8', maxBuffer: 256 << 20 }));
      const got = await ringtailRrd(['dump', store]);
      expect(got.err).toBe('');
      if (strip(got.out) !== want) expect(strip(got.out)).toBe(want); // a readable diff only when they differ
      return want;
    },
  };
}

/** 10 s samples (t, value) for (from, to], an unknown now and then. */
function samples(from: number, to: number, seed: number): string[] {
  const out: string[] = [];
  for (let t = from + 10, i = 0; t <= to; t += 10, i++) out.push(`${t}:${(i * 37 + seed) % 101 === 5 ? 'U' : ((i * 37 + seed) % 101) / 4}`);
  return out;
}

describe.skipIf(!hasTool('rrdtool'))('lazy chunks: storage proportional to life, answers still rrdtool', () => {
  const dir = tempDir('ringtail-rrd-lazy-');
  afterAll(() => dir.cleanup());
  const hostDef = createLayouts().define('cpu.busy', 'GAUGE', 10_000);
  const bound = boundBytes(hostDef);

  it('a default-layout series that lived 2 h stores ≤ 5% of its bound; year, month, week and day fetches and dump are rrdtool\'s', async () => {
    expect(bound).toBe(593_280); // rrdtool's file for this layout is 595,320 B: these rows plus its header
    const rrd = join(dir.path, 'host.rrd');
    const store = join(dir.path, 'host.db');
    const p = makePair(rrd, store);
    await p.create(['--start', String(T0), '--step', '10', ...defArgs(hostDef)]);
    expect(chunkBytes(store)).toEqual({ bytes: 0, chunks: 0 }); // creating writes no archive
    const last = T0 + 7200;
    await p.update(samples(T0, last, 1));
    const { bytes, chunks } = chunkBytes(store);
    // 720 ten-second rows, 120 one-minute rows in each of three archives, 24 five-minute rows, 2–3 hourly ones in three:
    // ~8.9 KB of values
    expect(bytes).toBeLessThanOrEqual(0.05 * bound);
    expect(bytes).toBeGreaterThanOrEqual(1110 * 8);
    expect(chunks).toBeLessThanOrEqual(16);
    // the whole year: hourly rows, unknown except the last two or three, as many as rrdtool prints
    expect(await p.fetch(['AVERAGE', '-s', String(last - YEAR), '-e', String(last)])).toBe(YEAR / 3600 + 1);
    for (const cf of ['MIN', 'MAX']) await p.fetch([cf, '-s', String(last - YEAR), '-e', String(last)]);
    expect(await p.fetch(['AVERAGE', '-s', String(last - 31 * DAY), '-e', String(last), '-r', '300'])).toBe((31 * DAY) / 300 + 1);
    expect(await p.fetch(['MAX', '-s', String(last - 7 * DAY), '-e', String(last), '-r', '60'])).toBe((7 * DAY) / 60 + 1);
    expect(await p.fetch(['AVERAGE', '-s', String(last - DAY), '-e', String(last), '-r', '10'])).toBe(DAY / 10 + 1);
    const xml = await p.dump();
    expect(xml.match(/<row>/g)!.length).toBe(hostDef.rra.reduce((s, r) => s + r.rows, 0)); // every row, known or not
    expect((await ringtailRrd(['info', store])).code).toBe(0);
  });

  it("a host's 85 series on the collector's path (journaled updateMany): pages on disk per series ≤ 5% of the bound", () => {
    const path = join(dir.path, 'fleet.db');
    const store = openRrdStore(path, { create: true });
    store.compactSize();
    const empty = pagesInUse(path);
    const names = Array.from({ length: 85 }, (_, i) => `host-1/m${i}`);
    store.createMany(names.map((name) => ({ name, def: hostDef, start: T0 })));
    for (let t = T0 + 10; t <= T0 + 7200; t += 10) {
      const res = store.updateMany(names.map((series, i) => ({ series, args: [`${t}:${(t / 10 + i) % 100}`] })));
      expect(res.errors.size).toBe(0);
    }
    const last = T0 + 7200;
    const year = store.fetch(names[7]!, 'AVERAGE', { start: last - YEAR, end: last });
    store.close();
    const perSeries = (pagesInUse(path) - empty) / names.length;
    expect(chunkBytes(path).bytes / names.length).toBeLessThanOrEqual(0.05 * bound);
    expect(perSeries).toBeLessThanOrEqual(0.05 * bound);
    expect(year.rowCount).toBe(YEAR / 3600 + 1);
    const known = [...year.data].filter((v) => !Number.isNaN(v)).length;
    expect(known).toBeGreaterThanOrEqual(1);
    expect(known).toBeLessThanOrEqual(3);
  });

  it('a ring that wrapped, then idled across whole chunks and across the whole ring, answers as rrdtool; idle chunks are freed', async () => {
    // two DS, so a chunk holds 253 rows: the 1-step ring has 5 chunks, the 3-step one 2
    const args = ['--start', String(T0), '--step', '10', 'DS:a:GAUGE:20:U:U', 'DS:b:GAUGE:25:0:100', 'RRA:AVERAGE:0.5:1:1200', 'RRA:MAX:0.5:3:400', 'RRA:LAST:0.5:1:300', 'RRA:MIN:0.3:4:90'];
    const def = parseDefs(args.slice(4), 10);
    const rrd = join(dir.path, 'wrap.rrd');
    const store = join(dir.path, 'wrap.db');
    const p = makePair(rrd, store);
    await p.create(args);
    const two = (xs: string[]): string[] => xs.map((x, i) => `${x}:${i % 17 === 3 ? 'U' : (i * 13) % 120}`);
    const check = async (last: number): Promise<void> => {
      for (const cf of ['AVERAGE', 'MAX', 'LAST', 'MIN']) {
        await p.fetch([cf, '-s', String(last - 20_000), '-e', String(last)]);
        await p.fetch([cf, '-s', String(last - 3000), '-e', String(last + 50), '-r', '30']);
      }
      await p.dump();
    };
    let t = T0;
    // 1. 1,500 samples: the 1-step ring (1,200 rows) wraps
    await p.update(two(samples(t, (t += 15_000), 2)));
    await check(t);
    const full = chunkBytes(store).chunks;
    expect(full).toBe(def.rra.reduce((s, _, i) => s + chunkCount(def, i), 0));
    // 2. idle 3,000 s (300 rows: more than a whole chunk), then 400 samples: stale rows of the
    //    previous lap are overwritten with unknown where rrdtool writes them
    t += 3000;
    await p.update(two(samples(t, (t += 4000), 3)));
    await check(t);
    // 3. idle for longer than the whole ring, then 50 samples: only their chunks remain
    t += 40_000;
    await p.update(two(samples(t, (t += 500), 4)));
    await check(t);
    const after = chunkBytes(store);
    expect(after.chunks).toBeLessThan(full);
    expect(after.chunks).toBeLessThanOrEqual(2 * def.rra.length);
    expect(after.bytes).toBeLessThan(4 * 50 * 2 * 8 + 4 * 2 * 4 * def.rra.length);
  });

  it('a store written before lazy chunks (every chunk preallocated at full extent) reads and updates as rrdtool', async () => {
    const args = ['--start', String(T0), '--step', '10', 'DS:v:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:1100', 'RRA:MAX:0.5:6:300'];
    const def = parseDefs(args.slice(4), 10);
    const rrd = join(dir.path, 'old.rrd');
    const store = join(dir.path, 'old.db');
    const p = makePair(rrd, store);
    await p.create(args);
    // what the store wrote at create before: every chunk, all unknown, at full extent
    const db = new Database(store);
    const id = db.prepare('SELECT id FROM rrd_series').pluck().get() as number;
    const insert = db.prepare('INSERT INTO rrd_chunk (id, data) VALUES (?, ?)');
    def.rra.forEach((_, r) => {
      for (let c = 0; c < chunkCount(def, r); c++) insert.run(chunkId(id, r, c), Buffer.from(new Float64Array(chunkLength(def, r, c)).fill(NaN).buffer));
    });
    db.close();
    const pre = chunkBytes(store);
    expect(pre.bytes).toBe(boundBytes(def));
    let t = T0;
    await p.update(samples(t, (t += 2000), 5));
    await p.fetch(['AVERAGE', '-s', String(t - 12_000), '-e', String(t)]);
    await p.fetch(['MAX', '-s', String(t - 20_000), '-e', String(t)]);
    await p.dump();
    // chunks that took rows shrink to them; the ones never written stay as they were (no migration)
    const post = chunkBytes(store);
    expect(post.chunks).toBe(pre.chunks);
    expect(post.bytes).toBeLessThan(pre.bytes);
    t += 12_000; // idle longer than the ring
    await p.update(samples(t, (t += 100), 6));
    await p.fetch(['AVERAGE', '-s', String(t - 12_000), '-e', String(t)]);
    await p.dump();
  });
});
