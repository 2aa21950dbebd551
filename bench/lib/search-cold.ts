// The search benchmark's shapes as a user meets them: the first searches after the collector
// starts, with the database not in the operating system's page cache (`--cold`).
//
// Eviction is per file (dd iflag=nocache count=0: POSIX_FADV_DONTNEED over the whole file), of
// the benchmark's own files only: other processes on the machine keep their cache. Each shape is
// measured, from an evicted database and a collector app just started, in three ways side by side:
//   - no warm-up: every page a search needs comes from disk; the same searches again in that app
//     are the warm figures (their pages are cached by then);
//   - warm-up at once: the collector's warm-up (storage/sqlite/warm.ts) starts with the app and
//     the searches run while it reads, as a user who searches right after a start does;
//   - warm-up done (one app for all shapes): searches after the warm-up has ended, with its cost.
// `grep -F` likewise twice: its first pattern on the evicted flat file (cold, like with like with
// the cold searches) and the median of its patterns once the file is cached (warm).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { buildApp } from '../../collector/app.js';
import { dbPath } from '../../collector/storage/sqlite/open.js';
import type { WarmOptions, WarmReport } from '../../collector/storage/types.js';
import { grepMs, measure, type Case, type Timing } from './search.js';
import { pct, table } from './stats.js';

/** Drops `file`'s pages from the page cache (when it exists). */
export function evict(file: string): void {
  if (existsSync(file)) execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
}

function evictDb(data: string): void {
  for (const f of [dbPath(data), `${dbPath(data)}-wal`]) evict(f);
}

/** Starts a collector app on `data`, with or without a warm-up; `warmed` resolves with its report. */
async function startApp(data: string, warmup: WarmOptions | false) {
  const app = await buildApp({ dataDir: data, retention: { max_age_days: 0, max_bytes: 0 }, warmup });
  let done: (r: WarmReport) => void = () => {};
  const warmed = new Promise<WarmReport>((resolve) => (done = resolve));
  app.events.on((name, _n, fields) => {
    if (name === 'storage.warmup') done(fields as unknown as WarmReport);
  });
  await app.ready();
  const token = (await app.storage.tokens.create('viewer', 'bench', Date.now())).token;
  return { app, token, warmed };
}

const f1 = (x: number) => x.toFixed(1);

export async function coldSearchBench(o: { data: string; flat: string; cases: Case[]; runs: number }): Promise<void> {
  process.stderr.write(`search --cold: ${o.cases.length} shapes × ${o.runs} searches, load average ${loadavg().map(f1).join(' ')}\n`);
  const cold: Timing[] = [];
  const warm: Timing[] = [];
  const racing: Timing[] = [];
  for (const c of o.cases) {
    evictDb(o.data);
    let s = await startApp(o.data, false);
    cold.push(await measure(s.app, s.token, c, o.runs));
    warm.push(await measure(s.app, s.token, c, o.runs));
    await s.app.close();

    evictDb(o.data);
    s = await startApp(o.data, {});
    racing.push(await measure(s.app, s.token, c, o.runs));
    await s.app.close();
    await s.warmed;
  }
  evictDb(o.data);
  const t0 = performance.now();
  const s = await startApp(o.data, {});
  // the warm-up's pauses do not hold the process (their timers are unref'd): this does
  const hold = setInterval(() => {}, 1000);
  const report = await s.warmed.finally(() => clearInterval(hold));
  const wait = performance.now() - t0;
  const after = [];
  for (const c of o.cases) after.push(await measure(s.app, s.token, c, o.runs));
  await s.app.close();

  const rows: string[][] = [];
  for (const [k, c] of o.cases.entries()) {
    evict(o.flat);
    const gCold = grepMs(c.grep[0]!, o.flat);
    const gWarm = pct(
      c.grep.map((p) => grepMs(p, o.flat)),
      50,
    );
    const [n, r, w, a] = [cold[k]!, racing[k]!, warm[k]!, after[k]!];
    rows.push([
      c.name,
      `${f1(n.first)} / ${f1(r.first)}`,
      `${f1(n.p50)} / ${f1(n.p99)}`,
      `${f1(r.p50)} / ${f1(r.p99)}`,
      `${f1(a.p50)} / ${f1(a.p99)}`,
      `${f1(w.p50)} / ${f1(w.p99)}`,
      gCold.toFixed(0),
      gWarm.toFixed(0),
      `1/${(gCold / Math.max(n.p50, 0.01)).toFixed(0)}`,
      `1/${(gCold / Math.max(r.p50, 0.01)).toFixed(0)}`,
      `1/${(gWarm / Math.max(w.p50, 0.01)).toFixed(0)}`,
    ]);
  }
  process.stdout.write(
    table(
      [
        'search (limit 100)',
        '1st search ms: cold / warm-up at once',
        'cold p50/p99',
        'warm-up at once p50/p99',
        'warm-up done p50/p99',
        'warm p50/p99',
        'grep cold ms',
        'grep warm ms',
        'cold/grep cold',
        'warm-up at once/grep cold',
        'warm/grep warm',
      ],
      rows,
    ),
  );
  process.stdout.write(
    `\nwarm-up (storage/sqlite/warm.ts): ${report.state}, ${(report.bytes / 2 ** 20).toFixed(0)} MiB (structure ${(report.tiers.structure / 2 ** 20).toFixed(1)}, fts ${(report.tiers.fts / 2 ** 20).toFixed(0)}, rows ${(report.tiers.rows / 2 ** 20).toFixed(0)}) in ${report.reads} reads, ${(report.ms / 1000).toFixed(1)} s (structure read after ${f1(report.tiers_ms.structure ?? NaN)} ms, fts after ${((report.tiers_ms.fts ?? NaN) / 1000).toFixed(1)} s), process CPU ${(report.cpu_ms / 1000).toFixed(2)} s; ready to warm ${(wait / 1000).toFixed(1)} s; load average ${loadavg().map(f1).join(' ')}\n`,
  );
}
