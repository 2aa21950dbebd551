// Whether a full-text page is driven by the runs of short numbers (num-tokens.ts) or by FTS5's
// phrase alone, and the upkeep of that index for lines stored before it existed.
//
// A search that requires a run of short numbers (`10.0.0.1`, `23:40:46`) has a log_nums_fts
// expression whose rows are a superset of its answers. When that expression has few rows, the
// page reads them newest first and checks them against the whole search: tens of lookups
// instead of a walk over millions of entries of `10` and `0`. When it has many, the runs are frequent, so are the
// phrase's matches, and FTS5's newest-first walk of the phrase meets them early: that plan stays.
import type { Db } from './open.js';

/** candidates counted at most; an expression with this many or more does not drive */
export const DRIVE_MAX = 2048;

/**
 * Which of some lines match a search's FTS5 expression, decided by FTS5 itself: the lines go
 * into a temporary full-text table with logs_fts's tokenizer (migration 1: unicode61 with its
 * defaults) and the expression is matched there, so the answer is exactly what logs_fts would
 * say. Asking logs_fts for a candidate's rowid instead (`rowid = ? AND MATCH`) seeks every word
 * of the search in every segment: 6–30 ms per candidate for `10 0 0 1` in 10 M lines, against
 * ~0.02 ms here.
 */
export function matchChecker(db: Db): (lines: ReadonlyArray<{ id: number; message: string }>, fts: string) => Set<number> {
  db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS temp.ringtail_check USING fts5 (message, tokenize='unicode61')");
  const put = db.prepare('INSERT INTO temp.ringtail_check (rowid, message) VALUES (?, ?)');
  const match = db.prepare('SELECT rowid FROM temp.ringtail_check WHERE ringtail_check MATCH ?').pluck();
  const clear = db.prepare('DELETE FROM temp.ringtail_check');
  const fill = db.transaction((lines: ReadonlyArray<{ id: number; message: string }>) => {
    for (const l of lines) put.run(l.id, l.message);
  });
  return (lines, fts) => {
    if (lines.length === 0) return new Set();
    try {
      fill(lines);
      return new Set(match.all(fts) as number[]);
    } finally {
      clear.run();
    }
  };
}

export interface NumPlanner {
  /** the first line id log_nums_fts covers: searches below it use the phrase alone */
  fromId(): number;
  /** whether the expression has fewer than DRIVE_MAX candidates */
  drives(driver: string): boolean;
}

const FROM = "SELECT value FROM log_index_meta WHERE key = 'nums_from_id'";

export function numPlanner(db: Db): NumPlanner {
  const from = db.prepare(FROM).pluck();
  const count = db.prepare('SELECT count(*) FROM (SELECT 1 FROM log_nums_fts WHERE log_nums_fts MATCH ? LIMIT ?)').pluck();
  return {
    fromId: () => (from.get() as number | undefined) ?? Number.MAX_SAFE_INTEGER,
    drives: (driver) => (count.get(driver, DRIVE_MAX) as number) < DRIVE_MAX,
  };
}

/**
 * Indexes the lines with ids in [nums_from_id − limit, nums_from_id) and lowers it, in one
 * transaction: the newest unindexed lines first, as searches read them. Returns how many ids it
 * covered, 0 once every line is indexed. The mark moves with the slice it covers, so a crash or
 * a restart between slices resumes below the last committed one: no line is indexed twice and
 * none is skipped (collector/search-backfill.ts runs it).
 */
export function numBackfiller(db: Db): (limit: number) => number {
  const from = db.prepare(FROM).pluck();
  const lowest = db.prepare('SELECT min(id) FROM logs').pluck();
  // materialized: the tokens are computed once per line, and lines without runs get no row
  const index = db.prepare(`WITH p AS MATERIALIZED (SELECT id, ringtail_num_tokens(message) AS t FROM logs WHERE id >= ? AND id < ?)
    INSERT INTO log_nums_fts (rowid, t) SELECT id, t FROM p WHERE t != '' ORDER BY id`);
  const setFrom = db.prepare("UPDATE log_index_meta SET value = ? WHERE key = 'nums_from_id'");
  const tx = db.transaction((limit: number): number => {
    const hi = from.get() as number;
    const lo = Math.max((lowest.get() as number | null) ?? hi, hi - limit);
    if (lo >= hi) return 0;
    index.run(lo, hi);
    setFrom.run(lo);
    return hi - lo;
  });
  return (limit) => tx.immediate(limit);
}

/** Where the backfill stands: the first id the index covers and the ids below it still to do. */
export function numBackfillStatus(db: Db): () => { remaining_ids: number; covered_from_id: number } {
  const from = db.prepare(FROM).pluck();
  const lowest = db.prepare('SELECT min(id) FROM logs').pluck();
  return () => {
    const covered = (from.get() as number | undefined) ?? 1;
    const lo = lowest.get() as number | null;
    return { remaining_ids: lo === null ? 0 : Math.max(0, covered - lo), covered_from_id: covered };
  };
}
