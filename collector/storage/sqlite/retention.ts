// Retention deletes in slices: each call removes at most `limit` lines in one short
// transaction, so the scheduler (collector/retention.ts) can interleave them with ingest.
// Freed pages go to SQLite's free list and are reused by new lines, so "used bytes"
// (pages minus free pages) is what the size limit is checked against; the file itself keeps
// its high-water mark instead of paying for VACUUM.
import type { RetentionOps } from '../types.js';
import type { Db } from './open.js';
import { numTokens } from './num-tokens.js';

/**
 * Deletes lines by id with everything a line owns (its row, its full-text entry, its
 * structured-field tokens), inside the caller's transaction: the one place that knows it,
 * shared by retention and the purge of forgotten hosts' lines (storage/sqlite/hosts.ts).
 */
export function lineDeleter(db: Db): (ids: readonly number[]) => number {
  // the row's delete says whether it had fields: only those lines have a row in log_fields_fts
  // (a delete of another rowid would still cost a tombstone)
  const delLog = db.prepare('DELETE FROM logs WHERE id = ? RETURNING fields IS NOT NULL AS f, message');
  const delFts = db.prepare('DELETE FROM logs_fts WHERE rowid = ?');
  const delFields = db.prepare('DELETE FROM log_fields_fts WHERE rowid = ?');
  // lines from nums_from_id on have a row in log_nums_fts if their message has number runs (num-plan.ts)
  const numsFrom = db.prepare("SELECT value FROM log_index_meta WHERE key = 'nums_from_id'").pluck();
  const delNums = db.prepare('DELETE FROM log_nums_fts WHERE rowid = ?');
  return (ids) => {
    const from = numsFrom.get() as number;
    for (const id of ids) {
      const row = delLog.get(id) as { f: number; message: string } | undefined;
      if (row?.f) delFields.run(id);
      delFts.run(id);
      if (row && id >= from && numTokens(row.message) !== '') delNums.run(id);
    }
    return ids.length;
  };
}

export function sqliteRetention(db: Db): RetentionOps {
  const olderThan = db.prepare('SELECT id FROM logs WHERE ts < ? ORDER BY ts LIMIT ?').pluck();
  const oldest = db.prepare('SELECT id FROM logs ORDER BY ts LIMIT ?').pluck();
  // spans of hours entirely before the cutoff can go; a stale span is only a wider window
  const delSpans = db.prepare('DELETE FROM log_spans WHERE bucket < ?');
  const deleteIds = db.transaction(lineDeleter(db));
  return {
    deleteOlderThan(before, limit) {
      const n = deleteIds.immediate(olderThan.all(before, limit) as number[]);
      if (n < limit) delSpans.run(Math.trunc(before / 3_600_000));
      return n;
    },
    deleteOldest(limit) {
      return deleteIds.immediate(oldest.all(limit) as number[]);
    },
    usedBytes() {
      const pages = db.pragma('page_count', { simple: true }) as number;
      const free = db.pragma('freelist_count', { simple: true }) as number;
      const size = db.pragma('page_size', { simple: true }) as number;
      return (pages - free) * size;
    },
  };
}
