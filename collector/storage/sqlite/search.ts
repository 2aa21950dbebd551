// The SQLite translation of a search (collector/query/lang): its text part becomes an FTS5
// MATCH string, its field terms SQL conditions on the logs row `l`, bound as parameters.
//
// An exact `host:` term becomes the filter's host when the request has none, so the host-window
// planner (fts-plan.ts), which needs one exact host, serves it as it serves `?host=`; a host
// glob is a condition on the row and full-text pages then use the scan plan.
// `field.KEY:value` reads the candidates of that value from the field tokens (log_fields_fts,
// field-tokens.ts), never the JSON of every row, and checks each candidate's own fields JSON
// (a token may stand for several keys or long values). One of three accesses (FieldAccess):
//   - `in`: the rowids of the value's token (a glob's: its prefix query), read once per
//     statement; the row lookups then follow those ids. Right for a rare value (a user id) and
//     for globs.
//   - `exists`: the row's fields JSON only. Right when the candidates are few (full-text
//     matches) or the value is common (the time-ordered walk meets enough matches early): the
//     `in` set of a value held by a third of the lines costs ~0.8 s per 200,000 lines to build
//     and sort, the JSON check of a row it reads anyway a few µs.
//   - `row`: the same, for the live tail's window of new lines.
import { compileSearch, toFts5, type FieldTerm } from '../../query/lang/index.js';
import type { LogFilter } from '../types.js';
import { fieldMatch } from './field-tokens.js';
import type { Db } from './open.js';
import { numDriver } from './num-tokens.js';

export interface SqlSearch {
  /** FTS5 MATCH expression, or null when the search has no words */
  fts: string | null;
  /** a log_nums_fts expression of a superset of the answers (num-tokens.ts), or null */
  nums: string | null;
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
    const row = `EXISTS (SELECT 1 FROM json_each(l.fields) WHERE l.fields IS NOT NULL AND key = ${p}k AND value ${cmp} ${p})`;
    if (access(t) !== 'in') return row;
    params[`sf${i}m`] = fieldMatch(t.key!, t.value, t.op === 'glob');
    return `l.id IN (SELECT rowid FROM log_fields_fts WHERE log_fields_fts MATCH ${p}m) AND ${row}`;
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
  if (!s) return { fts: null, nums: null, filter, where, params };
  let f = filter;
  s.fields.forEach((t, i) => {
    if (t.name === 'host' && t.op === 'eq' && f.host === undefined) f = { ...f, host: t.value };
    else where.push(condition(t, i, params, access));
  });
  return { fts: s.text ? toFts5(s.text) : null, nums: numDriver(s.text), filter: f, where, params };
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
  // an upper bound: a token's rowids include the lines of colliding keys and long values
  const countEq = db.prepare('SELECT count(*) FROM (SELECT 1 FROM log_fields_fts WHERE log_fields_fts MATCH ? LIMIT ?)').pluck();
  // two subqueries: SQLite answers a lone min() or max() from the end of the index, both together by a scan
  const span = db.prepare('SELECT (SELECT max(id) FROM logs) - (SELECT min(id) FROM logs) + 1').pluck();
  return (limit) => {
    let rows: number | undefined;
    return (t) => {
      if (t.op === 'glob') return 'in';
      const n = countEq.get(fieldMatch(t.key!, t.value, false), RARE_FIELD_IDS + 1) as number;
      if (n > RARE_FIELD_IDS) return 'exists';
      if (limit === undefined) return 'in';
      rows ??= (span.get() as number | null) ?? 0;
      return n * n * DRIVE_PER_PROBE <= limit * rows ? 'in' : 'exists';
    };
  };
}
