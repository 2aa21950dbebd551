// The collector's memory bounds (issue 17: RSS ≤ 200 MiB under 1,000 agents appearing). Every
// worker thread is an isolate with V8's own heap sizing, chosen for a single busy thread:
// semi-spaces that double up to 16 MB (32 MB of young generation each, whatever the thread
// allocates), and an old generation allowed to grow to up to 4× its live data between full
// collections. Under `npm run bench -- collector load` (main at 0fa4d02, heap of each isolate
// at its peak): event loop 135–159 MB (young 32, old 98–122, live after a full collection ~35),
// metric store thread 72–76 MB (young 32), writer thread 29–52 MB (young 18–32), checkpointer
// 7–9 MB — 250–300 of the collector's 310–420 MiB RSS.

import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { ResourceLimits } from 'node:worker_threads';

/**
 * The writer thread and the metric store thread: a young generation of 8 MB (two 2.7 MB
 * semi-spaces). What they allocate per commit (a group's unpacked lines, a journal's arguments)
 * lives until the commit and is then garbage; V8's 16 MB semi-spaces held 32 MB each of memory
 * for that.
 */
export const STORE_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 8 };

/** The WAL checkpointer thread runs one pragma at a time: the least young generation V8 takes. */
export const CHECKPOINTER_THREAD_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 3 };

/**
 * Not adopted: bounding every isolate's old generation at 1 GB (`--max-old-space-size=1024`, and
 * `maxOldGenerationSizeMb` for the threads). V8 lets an old generation grow up to 4× its live
 * data between full collections when its bound is 2 GB or more (this machine's default) and
 * 1.6× at 1 GB: under `npm run bench -- collector load` the peak RSS median went 434 → 306 MiB
 * (load 10–26), for +5 CPU s per 1 M lines. But a bound is a crash when reached, and a
 * collector holding a month of a fleet (2.6 M series: 2,960 MiB RSS in `npm run bench -- fleet
 * --days 30`) may reach it; `memory.heap_growth_percent` below gives the same saving without a
 * ceiling, at a similar CPU price, for whoever prefers memory (docs/benchmarks/notebook.md, s6-rss).
 */

/**
 * default of `memory.heap_growth_percent`: V8's own. 30 % saved ~90 MB under the load bench but
 * cost the collector 2–3 CPU s per 1 M lines at full speed (logs bench 11.2 → 13.2–14.4 s, more
 * full collections); throughput is the scarcer of the two on two cores, so it is an option.
 */
export const DEFAULT_HEAP_GROWTH_PERCENT = 0;

/**
 * How far every JS heap of the process (the event loop's and each thread's) may grow past what
 * survived the last full collection before the next one: V8 reads it whenever it sets that
 * limit, so setting it once the process runs takes effect from the next collection, in threads
 * started before or after. V8 chooses between 1.1× and 4× by its GC and allocation speeds; with
 * the event loop's ~35 MB live under the load bench, 4× held ~100 MB of garbage. 0 leaves V8's own choice.
 */
export function setHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}

/**
 * The process's resident memory split as the kernel sees it (/proc/self/smaps_rollup, Linux):
 * anonymous (every thread's JS heap, malloc with SQLite's page caches, stacks) and file-backed
 * (the node executable's pages, ~45–50 MiB under load, and libraries), which no heap setting
 * changes. Exported as `ringtail_resident_memory_bytes{kind}`; null where there is no such file.
 */
export function residentMemory(text?: string): { anonymous: number; file: number } | null {
  let t = text;
  if (t === undefined) {
    try {
      t = readFileSync('/proc/self/smaps_rollup', 'utf8');
    } catch {
      return null;
    }
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(t!)?.[1] ?? NaN) * 1024;
  const rss = kb('Rss');
  const anonymous = kb('Anonymous');
  return Number.isFinite(rss) && Number.isFinite(anonymous) ? { anonymous, file: rss - anonymous } : null;
}
