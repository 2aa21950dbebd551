// Warming the database file into the operating system's page cache after the collector starts.
//
// The first searches after a start read their pages from disk: on the 10 M-line benchmark
// database (2.4 GiB, 16 KiB pages) a full-text page with a time range read ~100–200 pages of
// which the first search of a word spent ~50 on the same few structures every search walks (the
// interior pages of the full-text data's B-tree, the `%_fts_idx` tree of segment boundaries),
// and every search ~100 on its answers' rows. Those pages are read here in the background,
// before anybody asks, in the order of how many searches each page serves:
//   1. 'structure': the interior pages of every B-tree (a lookup's path to its leaf), every tree
//      small enough to be read whole (schema, log_spans, the `%_fts_idx` and config tables,
//      tokens), and the WAL file;
//   2. 'fts': the leaves of the full-text data (`%_fts_data`: the doclists of every word);
//   3. 'rows': the leaves of `logs` and of its time and host indexes, newest first (searches
//      answer newest first);
// until `maxBytes` are read. On that database, evicted, at load 11–18: 2.3 GiB in ~11,900 reads,
// 31–36 s (structure after ~0.8 s, doclists after ~12 s), 3.6–5.6 CPU s (about as much as `grep`
// reading the same bytes); searches after it as fast as with a warm cache (word + 1 day p50/p99
// 9.1/28 ms against 27.9/118 cold: bench/lib/search-cold.ts). The page numbers come from the B-trees' own interior pages (the
// SQLite file format), read from the file like the rest: nothing goes through the database
// connection, so the event loop only sees a read's completion.
//
// Low priority: one read of at most `chunkBytes` in flight, in libuv's pool, and a pause after
// each of `pauseFactor` times its duration, so that a search's synchronous reads wait behind one
// chunk at most and get the disk at least half the time; while `busy()` (the collector: a search
// is being answered) it reads nothing, as searches racing it for the disk (and, under load, for
// the CPU) were slower than with no warm-up at all (bench --cold, load ~20: word + 1 day p99 186
// against 129 ms). stop() ends it between two reads.
// The file may lag the WAL, so a page parsed here may be stale: that only warms a page for
// nothing (every child page number is checked against the file's size before it is read).
import { open, type FileHandle } from 'node:fs/promises';
import { totalmem } from 'node:os';
import type { WarmOptions, WarmReport, WarmTier, Warmup } from '../types.js';
import type { Db } from './open.js';

/**
 * A quarter of the machine's memory: the page cache gives it back when a process needs it, and on
 * the benchmark machine (24 GiB) it holds the whole 10 M-line database (2.4 GiB).
 */
export const warmBytes = () => Math.floor(totalmem() / 4);
/** the indexes of `logs` that searches read (logs_fts_docsize is never read by a search: not warmed) */
const ROW_INDEXES = ['logs_ts', 'logs_host_ts'];
const CHUNK_BYTES = 256 * 1024;
/** a tree of at most this many leaves is read whole in the 'structure' tier (4 MiB with 16 KiB pages) */
const WHOLE_TREE_LEAVES = 256;
/** the WAL is read whole in the 'structure' tier up to this size (its autocheckpoint keeps it at ~16 MiB) */
const WAL_MAX = 64 * 1024 * 1024;
const TIERS: WarmTier[] = ['structure', 'fts', 'rows'];
/** pages this far apart are read as one run, with the pages between them */
const MAX_GAP_PAGES = 4;
/** how often a warm-up held by busy() looks again */
const HOLD_MS = 10;

interface Tree {
  name: string;
  root: number;
}

/** a B-tree page's children (interior page), [] for a leaf, null for a page that is neither */
export function childPages(page: Buffer, headerAt: number, pageCount: number): number[] | null {
  const type = page[headerAt];
  if (type === 0x0a || type === 0x0d) return [];
  if (type !== 0x02 && type !== 0x05) return null;
  const cells = page.readUInt16BE(headerAt + 3);
  const kids: number[] = [];
  for (let i = 0; i < cells; i++) {
    const at = headerAt + 12 + 2 * i;
    if (at + 2 > page.length) return null;
    const cell = page.readUInt16BE(at);
    if (cell + 4 > page.length) return null;
    kids.push(page.readUInt32BE(cell));
  }
  kids.push(page.readUInt32BE(headerAt + 8));
  return kids.every((k) => k >= 1 && k <= pageCount) ? kids : null;
}

/**
 * Page runs as (first page, count) in page order: pages at most `maxGap` pages apart merged (the
 * pages between read with them) up to `maxPages` per run.
 */
export function pageRuns(pages: Iterable<number>, maxPages: number, maxGap = 0): Array<[number, number]> {
  const sorted = [...new Set(pages)].sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const p of sorted) {
    const last = runs[runs.length - 1];
    if (last && p - (last[0] + last[1]) <= maxGap && p - last[0] < maxPages) last[1] = p - last[0] + 1;
    else runs.push([p, 1]);
  }
  return runs;
}

/** Starts warming the database `file` (opened as `db`); returns at once. */
export function warmDatabase(db: Db, file: string, opts: WarmOptions = {}): Warmup {
  // read on the connection, before the first await: the schema is in memory after open
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const trees = db.prepare('SELECT name, rootpage AS root FROM sqlite_schema WHERE rootpage > 0').all() as Tree[];
  trees.push({ name: 'sqlite_schema', root: 1 });
  const maxBytes = opts.maxBytes ?? warmBytes();
  const chunkPages = Math.max(1, Math.floor((opts.chunkBytes ?? CHUNK_BYTES) / pageSize));
  const pauseFactor = opts.pauseFactor ?? 1;
  const busy = opts.busy ?? (() => false);
  const maxGap = opts.maxGapPages ?? MAX_GAP_PAGES;
  const lastTier = TIERS.indexOf(opts.upTo ?? 'rows');

  const report: WarmReport = { state: 'done', bytes: 0, tiers: { structure: 0, fts: 0, rows: 0 }, reads: 0, ms: 0, tiers_ms: {}, held_ms: 0, cpu_ms: 0 };
  let stopped = false;
  let wake: (() => void) | null = null;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const buf = Buffer.allocUnsafe(chunkPages * pageSize);

  /** waits `ms`, or until stop() */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      timer.unref();
      wake = () => {
        clearTimeout(timer);
        wake = null;
        resolve();
      };
    });

  async function run(): Promise<void> {
    const fh = await open(file, 'r');
    try {
      const pageCount = Math.floor((await fh.stat()).size / pageSize);
      let tier: WarmTier = 'structure';
      /** reads `bytes` at `at` into buf, then pauses (low priority); false once stopped or over budget */
      const readAt = async (h: FileHandle, at: number, bytes: number): Promise<boolean> => {
        if (stopped || report.bytes + bytes > maxBytes) return false;
        if (busy()) {
          const h0 = performance.now();
          while (busy() && !stopped) await pause(HOLD_MS);
          report.held_ms += performance.now() - h0;
          if (stopped) return false;
        }
        const t = performance.now();
        const { bytesRead } = await h.read(buf, 0, bytes, at);
        report.bytes += bytesRead;
        report.tiers[tier] += bytesRead;
        report.reads++;
        if (pauseFactor > 0 && !stopped) await pause((performance.now() - t) * pauseFactor);
        return !stopped;
      };
      const read = (first: number, count: number) => readAt(fh, (first - 1) * pageSize, count * pageSize);
      /** the children of page `p`, just read into buf (page 1 begins with the file's 100-byte header) */
      const kidsOf = (p: number) => childPages(buf.subarray(0, pageSize), p === 1 ? 100 : 0, pageCount);

      // 1. interior levels of every tree, and the leaves of the small ones
      const leavesOf = new Map<string, number[]>();
      for (const t of trees) {
        let level = [t.root];
        let leaves: number[] = [];
        for (;;) {
          // every page of a level is of one kind (a B-tree is balanced): the first one tells
          if (!(await read(level[0]!, 1))) return;
          const kids = kidsOf(level[0]!);
          if (kids === null) break;
          if (kids.length === 0) {
            leaves = level;
            break;
          }
          const next = [...kids];
          for (const p of level.slice(1)) {
            if (!(await read(p, 1))) return;
            next.push(...(kidsOf(p) ?? []));
          }
          level = next;
        }
        if (leaves.length > 1 && leaves.length <= WHOLE_TREE_LEAVES) {
          for (const [first, n] of pageRuns(leaves.slice(1), chunkPages)) if (!(await read(first, n))) return;
        } else if (leaves.length > WHOLE_TREE_LEAVES) leavesOf.set(t.name, leaves);
      }
      // the pages written since the last checkpoint are read from the WAL
      const wal = await open(`${file}-wal`, 'r').catch(() => null);
      if (wal) {
        try {
          const end = Math.min((await wal.stat()).size, WAL_MAX);
          for (let at = 0; at < end; at += buf.length) if (!(await readAt(wal, at, Math.min(buf.length, end - at)))) return;
        } finally {
          await wal.close();
        }
      }

      report.tiers_ms.structure = +(performance.now() - t0).toFixed(1);

      // 2. the full-text doclists; 3. the rows and the leaves of their time and host indexes
      // (searches without words, host plans), newest first: the file grows as lines are added,
      // so its last pages first. Each tier takes the pages the budget holds, in its order of
      // value; pages a few apart are read as one run with those between (on the 10 M-line
      // database, gaps of up to 4 pages: 2.7× fewer reads of the rows' leaves for 1.3× the bytes)
      const lists: Array<[WarmTier, number[], boolean]> = [
        ['fts', [...leavesOf].filter(([n]) => n.endsWith('_fts_data')).flatMap(([, l]) => l), false],
        ['rows', ['logs', ...ROW_INDEXES].flatMap((n) => leavesOf.get(n) ?? []), true],
      ];
      for (const [name, want, backwards] of lists) {
        if (TIERS.indexOf(name) > lastTier) return;
        tier = name;
        const room = Math.max(0, Math.floor((maxBytes - report.bytes) / pageSize));
        const chosen = backwards ? [...new Set(want)].sort((a, b) => b - a) : want;
        const runs = pageRuns(chosen.slice(0, room), chunkPages, maxGap);
        if (backwards) runs.reverse();
        for (const [first, n] of runs) if (!(await read(first, n))) return;
        report.tiers_ms[name] = +(performance.now() - t0).toFixed(1);
      }
    } finally {
      await fh.close();
    }
  }

  const done = run()
    .catch((err: unknown) => {
      report.state = 'failed';
      report.error = (err as Error).message;
    })
    .then(() => {
      if (stopped && report.state === 'done') report.state = 'stopped';
      report.ms = +(performance.now() - t0).toFixed(1);
      report.held_ms = +report.held_ms.toFixed(1);
      const c = process.cpuUsage(cpu0);
      report.cpu_ms = +((c.user + c.system) / 1000).toFixed(1);
      return report;
    });

  return {
    done,
    stop() {
      stopped = true;
      wake?.();
      return done;
    },
  };
}
