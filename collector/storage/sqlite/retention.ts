// Retention deletes in slices: each call removes at most `limit` lines in one short
// transaction, so the scheduler (collector/retention.ts) can interleave them with ingest.
// Freed pages go to SQLite's free list and are reused by new lines, so "used bytes"
// (pages minus free pages) is what the size limit is checked against; the file itself keeps
// its high-water mark instead of paying for VACUUM.
import type { RetentionOps } from '../types.js';
import type { Db } from './open.js';

export function sqliteRetention(db: Db): RetentionOps {
  const olderThan = db.prepare('SELECT id, fields IS NOT NULL AS f FROM logs WHERE ts < ? ORDER BY ts LIMIT ?').raw();
  const oldest = db.prepare('SELECT id, fields IS NOT NULL AS f FROM logs ORDER BY ts LIMIT ?').raw();
  const delLog = db.prepare('DELETE FROM logs WHERE id = ?');
  const delFts = db.prepare('DELETE FROM logs_fts WHERE rowid = ?');
  // only lines with fields have a row there (a delete of another rowid would still cost a tombstone)
  const delFields = db.prepare('DELETE FROM log_fields_fts WHERE rowid = ?');
  // spans of hours entirely before the cutoff can go; a stale span is only a wider window
  const delSpans = db.prepare('DELETE FROM log_spans WHERE bucket < ?');
  const deleteIds = db.transaction((rows: Array<[number, number]>) => {
    for (const [id, withFields] of rows) {
      if (withFields) delFields.run(id);
      delLog.run(id);
      delFts.run(id);
    }
    return rows.length;
  });
  return {
    deleteOlderThan(before, limit) {
      const n = deleteIds.immediate(olderThan.all(before, limit) as Array<[number, number]>);
      if (n < limit) delSpans.run(Math.trunc(before / 3_600_000));
      return n;
    },
    deleteOldest(limit) {
      return deleteIds.immediate(oldest.all(limit) as Array<[number, number]>);
    },
    usedBytes() {
      const pages = db.pragma('page_count', { simple: true }) as number;
      const free = db.pragma('freelist_count', { simple: true }) as number;
      const size = db.pragma('page_size', { simple: true }) as number;
      return (pages - free) * size;
    },
  };
}
