// `npm run bench -- rrd-life [--year]`: what a series of the default host layout costs over its
// life with lazy chunks — creation time (85 series, one host, one createMany), pages on disk per
// series after 2 h and 1 day of 10 s values (and 1 year with --year: the bound, every chunk at
// full extent), and the collector's update path (journaled updateMany, one value per series per
// round, then the checkpoint) for 1,000 new series and for 200 series with a full day written.
// rrdtool's file for this layout: 595,320 B whatever its age.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLayouts } from '../collector/metrics/layout.js';
import { openRrdStore } from '../collector/rrd/sqlite-store.js';

const T0 = 1_700_000_000 - (1_700_000_000 % 3600);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

function pagesInUse(store: ReturnType<typeof openRrdStore>): number {
  store.compactSize();
  const db = (store as unknown as { db: { pragma(p: string, o: { simple: true }): number } }).db;
  return (db.pragma('page_count', { simple: true }) - db.pragma('freelist_count', { simple: true })) * db.pragma('page_size', { simple: true });
}

function rounds(store: ReturnType<typeof openRrdStore>, n: number, from: number, count: number): { ups: number; p99: number } {
  const lat: number[] = [];
  const t = performance.now();
  for (let r = 0; r < count; r++) {
    const s = performance.now();
    const res = store.updateMany(Array.from({ length: n }, (_, i) => ({ series: `s${i}`, args: [`${from + 10 * (r + 1)}:${(i * 7 + r * 13) % 100}`] })));
    if (res.errors.size) throw [...res.errors.values()][0]!;
    lat.push(performance.now() - s);
  }
  store.checkpoint();
  lat.sort((a, b) => a - b);
  return { ups: (n * count) / ((performance.now() - t) / 1000), p99: lat[Math.floor(lat.length * 0.99)]! };
}

export async function main(args: string[]): Promise<void> {
  const def = createLayouts().define('cpu.busy', 'GAUGE', 10_000);
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-rrd-life-'));
  const out: string[] = [];
  try {
    const c = openRrdStore(join(dir, 'create.db'), { create: true });
    const times: number[] = [];
    for (let h = 0; h < 10; h++) {
      const t = performance.now();
      c.createMany(Array.from({ length: 85 }, (_, i) => ({ name: `h${h}/m${i}`, def, start: T0 })));
      times.push(performance.now() - t);
    }
    c.close();
    times.sort((a, b) => a - b);
    out.push(`| create 85 series (one host, one commit), median of 10 | ${times[5]!.toFixed(1)} ms (${(times[5]! / 85).toFixed(3)} ms per series) |`);
    const lives: Array<[string, number, number]> = [['2 h', 7200, 85], ['1 day', 86_400, 85]];
    if (args.includes('--year')) lives.push(['1 year', 365 * 86_400, 2]);
    for (const [label, seconds, n] of lives) {
      const store = openRrdStore(join(dir, `life-${seconds}.db`), { create: true, journal: false });
      const empty = pagesInUse(store);
      store.createMany(Array.from({ length: n }, (_, i) => ({ name: `m${i}`, def, start: T0 })));
      for (let i = 0; i < n; i++) {
        for (let day = 0; day * 86_400 < seconds; day++) {
          const a: string[] = [];
          for (let s = day * 86_400 + 10; s <= Math.min(seconds, (day + 1) * 86_400); s += 10) a.push(`${T0 + s}:${(s / 10 + i) % 100}`);
          store.update(`m${i}`, a);
        }
      }
      out.push(`| bytes per series after ${label} of 10 s values (pages in use) | ${fmt((pagesInUse(store) - empty) / n)} B (rrdtool 595,320 B) |`);
      store.close();
    }
    const fresh = openRrdStore(join(dir, 'fresh.db'), { create: true });
    fresh.createMany(Array.from({ length: 1000 }, (_, i) => ({ name: `s${i}`, def, start: T0 })));
    const f = rounds(fresh, 1000, T0, 100);
    fresh.close();
    out.push(`| updates, 1,000 new series × 100 rounds, journaled + checkpoint | ${fmt(f.ups)}/s, round p99 ${f.p99.toFixed(1)} ms |`);
    const day = openRrdStore(join(dir, 'day.db'), { create: true, journal: false });
    day.createMany(Array.from({ length: 200 }, (_, i) => ({ name: `s${i}`, def, start: T0 })));
    for (let i = 0; i < 200; i++) {
      const a: string[] = [];
      for (let s = 10; s <= 86_400; s += 10) a.push(`${T0 + s}:${(s / 10 + i) % 100}`);
      day.update(`s${i}`, a);
    }
    day.close();
    const steady = openRrdStore(join(dir, 'day.db'));
    const d = rounds(steady, 200, T0 + 86_400, 100);
    steady.close();
    out.push(`| updates, 200 series with a day written × 100 rounds, journaled + checkpoint | ${fmt(d.ups)}/s, round p99 ${d.p99.toFixed(1)} ms |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(['rrd-life: the default host layout (step 10 s, 8 archives) with lazy chunks', '', '| measure | value |', '| --- | ---: |', ...out, ''].join('\n') + '\n');
}
