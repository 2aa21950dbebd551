// Log volume: lines per time bucket for the filters of GET /api/v1/logs, counted by SQLite.
//
// The lines of [start, end) lie within the id window of their hours (log_spans). That window is
// walked downwards in slices of at most `windowIds` ids, each one `GROUP BY` statement over
// a bounded id range, in which the planner still uses the (host, ts) or ts index (or FTS5 for
// `q`). The walk stops after `budgetMs`: the answer then says `budget_exhausted`, and its
// counts are lower bounds (the lines of the ids not reached, mostly the oldest, are missing).
import { emptyHistogram } from '../histogram.js';
import type { HistogramFilter, LogHistogram } from '../types.js';
import { HIDDEN_CLAUSE, hiddenCheck } from './hosts.js';
import type { Db } from './open.js';
import { ROWID_IN_WINDOW } from './fts-plan.js';
import { hostTokensFrom, withHost } from './host-tokens.js';
import { fieldPlanner, hasText, probePerRow, sqlSearch } from './search.js';

const SPAN_MS = 3_600_000;
export const HISTOGRAM_WINDOW_IDS = 1_048_576;
export const HISTOGRAM_BUDGET_MS = 500;

export interface HistogramLimits {
  windowIds?: number;
  budgetMs?: number;
}

export function sqliteLogHistogram(db: Db, limits: HistogramLimits = {}) {
  const windowIds = limits.windowIds ?? HISTOGRAM_WINDOW_IDS;
  const budgetMs = limits.budgetMs ?? HISTOGRAM_BUDGET_MS;
  const cache = new Map<string, ReturnType<Db['prepare']>>();
  const prepared = (sql: string) => {
    let st = cache.get(sql);
    if (!st) {
      st = db.prepare(sql);
      if (cache.size > 64) cache.clear();
      cache.set(sql, st);
    }
    return st;
  };
  const planFields = fieldPlanner(db);
  const spanStmt = db.prepare('SELECT min(min_id) AS lo, max(max_id) AS hi FROM log_spans WHERE bucket >= ? AND bucket <= ?');
  const anyHidden = hiddenCheck(db);
  const tokensFrom = hostTokensFrom(db);

  return function histogram(asked: HistogramFilter): LogHistogram {
    const out = emptyHistogram(asked);
    const { start, end, interval, counts } = out;
    const buckets = counts.length;

    // the search's field terms are conditions like the filters (collector/storage/sqlite/search.ts)
    const search = sqlSearch({ ...asked, limit: 1 }, hasText(asked) ? probePerRow : planFields());
    const filter = search.filter;
    const where = ['l.ts >= @start', 'l.ts < @end', ...search.where];
    // lines of forgotten hosts not yet purged (storage/sqlite/hosts.ts)
    if (anyHidden()) where.push(HIDDEN_CLAUSE);
    const params: Record<string, unknown> = { ...search.params, start, end, interval };
    for (const k of ['host', 'source', 'program'] as const) {
      if (filter[k] !== undefined) {
        where.push(`l.${k} = @${k}`);
        params[k] = filter[k];
      }
    }
    if (filter.severity !== undefined) {
      where.push('l.severity <= @severity');
      params.severity = filter.severity;
    }
    const fts = search.fts !== null;
    if (fts) params.q = search.fts;
    // better-sqlite3 binds numbers as REAL: the casts keep the bucket number an integer division
    const sql = fts
      ? `SELECT (l.ts - CAST(@start AS INTEGER)) / CAST(@interval AS INTEGER) AS b, count(*) AS n FROM logs_fts f CROSS JOIN logs l ON l.id = f.rowid
         WHERE logs_fts MATCH @q AND ${ROWID_IN_WINDOW} AND ${where.join(' AND ')} GROUP BY b`
      : `SELECT (l.ts - CAST(@start AS INTEGER)) / CAST(@interval AS INTEGER) AS b, count(*) AS n FROM logs l
         WHERE l.id >= @wlo AND l.id <= @whi AND ${where.join(' AND ')} GROUP BY b`;

    const w = spanStmt.get(Math.trunc(start / SPAN_MS), Math.trunc((end - 1) / SPAN_MS)) as { lo: number | null; hi: number | null };
    if (w.lo === null || w.hi === null) return out;
    const stmt = prepared(sql);
    // from host_tokens_from_id on, a search on one host is one FTS5 intersection (host-tokens.ts)
    const hostFrom = fts && filter.host !== undefined ? tokensFrom() : Number.MAX_SAFE_INTEGER;
    const hostQ = fts && filter.host !== undefined ? withHost(search.fts!, filter.host) : null;
    const started = performance.now();
    let hi = w.hi;
    while (hi >= w.lo) {
      const byToken = hi >= hostFrom;
      const lo = Math.max(w.lo, hi - windowIds + 1, byToken ? hostFrom : Number.MIN_SAFE_INTEGER);
      const rows = stmt.all({ ...params, ...(byToken ? { q: hostQ } : {}), wlo: lo, whi: hi }) as Array<{ b: number; n: number }>;
      for (const r of rows) if (r.b >= 0 && r.b < buckets) counts[r.b] = counts[r.b]! + r.n;
      hi = lo - 1;
      if (hi >= w.lo && performance.now() - started > budgetMs) {
        out.budget_exhausted = true;
        break;
      }
    }
    return out;
  };
}
