// The SQLite translation of a search (collector/query/lang): its text part becomes an FTS5
// MATCH string, its field terms SQL conditions on the logs row `l`, bound as parameters.
//
// An exact `host:` term becomes the filter's host when the request has none, so the host-window
// planner (fts-plan.ts), which needs one exact host, serves it as it serves `?host=`; a host
// glob is a condition on the row and full-text pages then use the scan plan.
// `field.KEY:value` is a lookup in log_fields (key, value, id), a covering index: the ids of
// the lines with that value, never the JSON of every row.
import { compileSearch, toFts5, type FieldTerm } from '../../query/lang/index.js';
import type { LogFilter } from '../types.js';

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

function condition(t: FieldTerm, i: number | string, params: Record<string, unknown>): string {
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
    return `l.id IN (SELECT id FROM log_fields WHERE key = ${p}k AND value ${cmp} ${p})`;
  }
  return `l.${t.name} ${cmp} ${p}`;
}

/** Throws QueryError for a bad `q`. */
export function sqlSearch(filter: LogFilter): SqlSearch {
  const s = compileSearch(filter.q);
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  let n = 0;
  for (const [key, value] of Object.entries(filter.fields ?? {})) {
    where.push(condition({ type: 'field', name: 'field', key, op: 'eq', value, pos: 0 }, `p${n++}`, params));
  }
  if (!s) return { fts: null, filter, where, params };
  let f = filter;
  s.fields.forEach((t, i) => {
    if (t.name === 'host' && t.op === 'eq' && f.host === undefined) f = { ...f, host: t.value };
    else where.push(condition(t, i, params));
  });
  return { fts: s.text ? toFts5(s.text) : null, filter: f, where, params };
}

/** True when the filter's search has words, i.e. its pages come from the full-text index in id order. */
export function hasText(filter: { q?: string }): boolean {
  return compileSearch(filter.q)?.text != null;
}
