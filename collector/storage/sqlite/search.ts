// The SQLite translation of a search (collector/query/lang): its text part becomes an FTS5
// MATCH string, its field terms SQL conditions on the logs row `l`, bound as parameters.
//
// An exact `host:` term becomes the filter's host when the request has none, so the host-window
// planner (fts-plan.ts), which needs one exact host, serves it as it serves `?host=`; a host
// glob is a condition on the row and full-text pages then use the scan plan.
// `field.KEY:value` is a lookup in log_fields (key, value, id), never the JSON of every row,
// in one of three ways (FieldAccess):
//   - `in`: the ids of the value, read once per statement; the row lookups then follow those
//     ids. Right for a rare value (a user id) and for globs.
//   - `exists`: one index probe (key, value, id) per candidate row. Right when the candidates
//     are few or the value is common (the time-ordered walk meets enough matches early): the
//     `in` set of a value held by a third of the lines costs ~0.8 s per 200,000 lines to build
//     and sort, the probe per row ~2 µs (fields benchmark in the commit that added this).
//   - `row`: the row's own fields JSON, for the live tail's window of new lines, which it
//     reads anyway.
import { compileSearch, toFts5, type FieldTerm } from '../../query/lang/index.js';
import type { LogFilter } from '../types.js';
import type { Db } from './open.js';

export interface SqlSearch {
  /** FTS5 MATCH expression, or null when the search has no words */
  fts: string | null;
  /** the filter with an exact host term folded into `host` (when it had none) */
  filter: LogFilter;
  /** conditions on `l`, ANDed; their parameters are in `params` */
  where: string[];
  params: Record<string, unknown>;
}

/** `*` is the only wildcard of the language; SQLite's GLOB also gives `?` and `[` meaning. */
export function toSqlGlob(pattern: string): string {
  return pattern.replace(/[[?]/g, (c) => `[${c}]`);
}

export type FieldAccess = (t: FieldTerm) => 'in' | 'exists' | 'row';

/** A store's choice for row-by-row candidates (full-text matches): a probe per candidate, a set for globs. */
export const probePerRow: FieldAccess = (t) => (t.op === 'glob' ? 'in' : 'exists');

function condition(t: FieldTerm, i: number | string, params: Record<string, unknown>, access: FieldAccess): string {
  const p = `@sf${i}`;
  if (t.name === 'level') {
    params[`sf${i}lo`] = t.severity!.lo;
    params[`sf${i}hi`] = t.severity!.hi;
    return `l.severity >= ${p}lo AND l.severity <= ${p}hi`;
  }
  params[`sf${i}`] = t.op === 'glob' ? toSqlGlob(t.value) : t.value;
  const cmp = t.op === 'glob' ? 'GLOB' : '=';
  if (t.name === 'field') {
    params[`sf${i}k`] = t.key;
    switch (access(t)) {
      case 'in':
        return `l.id IN (SELECT id FROM log_fields WHERE key = ${p}k AND value ${cmp} ${p})`;
      case 'exists':
        return `EXISTS (SELECT 1 FROM log_fields WHERE key = ${p}k AND value ${cmp} ${p} AND id = l.id)`;
      case 'row':
        return `EXISTS (SELECT 1 FROM json_each(l.fields) WHERE l.fields IS NOT NULL AND key = ${p}k AND value ${cmp} ${p})`;
    }
  }
  return `l.${t.name} ${cmp} ${p}`;
}

/** Throws QueryError for a bad `q`. `access` chooses how each field term reads the field index. */
export function sqlSearch(filter: LogFilter, access: FieldAccess = probePerRow): SqlSearch {
  const s = compileSearch(filter.q);
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  let n = 0;
  for (const [key, value] of Object.entries(filter.fields ?? {})) {
    where.push(condition({ type: 'field', name: 'field', key, op: 'eq', value, pos: 0 }, `p${n++}`, params, access));
  }
  if (!s) return { fts: null, filter, where, params };
  let f = filter;
  s.fields.forEach((t, i) => {
    if (t.name === 'host' && t.op === 'eq' && f.host === undefined) f = { ...f, host: t.value };
    else where.push(condition(t, i, params, access));
  });
  return { fts: s.text ? toFts5(s.text) : null, filter: f, where, params };
}

/** True when the filter's search has words, i.e. its pages come from the full-text index in id order. */
export function hasText(filter: { q?: string }): boolean {
  return compileSearch(filter.q)?.text != null;
}

/** ids of a field value counted up to this many make it rare: its ids drive the walk */
export const RARE_FIELD_IDS = 10_000;

/** a driving id costs about this many probes of a walk (a row lookup and a sort vs an index probe) */
const DRIVE_PER_PROBE = 10;

/**
 * The access of a walk in time or id order over the rows of a range (pages without words, the
 * histogram). A walk for `limit` of n matches among R rows probes about limit × R / n of them;
 * driving by the n ids costs about DRIVE_PER_PROBE probes each (fields benchmark, 200,000 lines:
 * a value on 2 % of them answered in 94 ms driving, a third of them in 845 ms driving and 11 ms
 * walking). Without a limit (the histogram counts every match) a rare value drives.
 */
export function fieldPlanner(db: Db): (limit?: number) => FieldAccess {
  const countEq = db.prepare('SELECT count(*) FROM (SELECT 1 FROM log_fields WHERE key = ? AND value = ? LIMIT ?)').pluck();
  // two subqueries: SQLite answers a lone min() or max() from the end of the index, both together by a scan
  const span = db.prepare('SELECT (SELECT max(id) FROM logs) - (SELECT min(id) FROM logs) + 1').pluck();
  return (limit) => {
    let rows: number | undefined;
    return (t) => {
      if (t.op === 'glob') return 'in';
      const n = countEq.get(t.key, t.value, RARE_FIELD_IDS + 1) as number;
      if (n > RARE_FIELD_IDS) return 'exists';
      if (limit === undefined) return 'in';
      rows ??= (span.get() as number | null) ?? 0;
      return n * n * DRIVE_PER_PROBE <= limit * rows ? 'in' : 'exists';
    };
  };
}
