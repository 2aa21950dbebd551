// Reading log lines. Only fixed SQL fragments are concatenated; every value is a bound parameter.
//
// Query plans (10 M lines, see BENCHMARKS.md): without `q`, rows come from the ts or (host, ts)
// index in (ts desc, id desc) order and the LIMIT stops the walk early. With `q`, FTS5 drives:
// `logs_fts CROSS JOIN logs` makes the full-text index the outer loop and `ORDER BY rowid DESC`
// is served by FTS5 itself, so a word in millions of lines yields its newest matches without
// materialising and sorting them all. Full-text results are therefore newest-*arrived* first;
// as ingest clamps implausible times, arrival order and time order agree except for backlogs.
// With a host filter, lines that have their host token in the full-text index (host-tokens.ts)
// are searched as one intersection `(search) AND "<host token>"`; older lines' windows may keep
// only matches among the host's ids from the (host, ts) index, or read the host's lines and check
// them (fts-plan.ts). Every plan returns the same rows in the same order.
import { ErrorCodes, RingtailError } from '../../../shared/errors.js';
import type { LogItem, LogPage } from '../../../shared/wire.js';
import type { LogFilter } from '../types.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { hostWindowPlanner, ROWID_IN_WINDOW, type PlanChoice } from './fts-plan.js';
import { hostTokensFrom, withHost } from './host-tokens.js';
import { HIDDEN_CLAUSE, hiddenCheck } from './hosts.js';
import type { Db } from './open.js';
import { fieldPlanner, hasText, probePerRow, sqlSearch } from './search.js';
import { matchChecker, numPlanner } from './num-plan.js';

const SPAN_MS = 3_600_000;
const FTS_FIRST_WINDOW = 262_144;
// bounds the work of one statement, which cannot be interrupted
const FTS_MAX_WINDOW = 1_048_576;
/**
 * A window of the host-token intersection (host-tokens.ts) spans this many of the largest other
 * windows: its LIMIT ends it at the page's last answer, and FTS5 skips the matches of other hosts
 * instead of reading them, so the ids cost far less than a scan's (10 M lines, a word in 1 % and a
 * host in 0.5 % of them: 100 answers in ~2 M ids took three 1 Mi windows, 4.3 ms; one, 2.5 ms).
 */
const TOKEN_WINDOW_FACTOR = 4;
/** how long one full-text page may search before it answers with what it has */
export const FTS_BUDGET_MS = 250;

/** Window sizes, budget and plan of full-text pages; tests make them small or force a plan. */
export interface QueryLimits {
  firstWindow?: number;
  maxWindow?: number;
  budgetMs?: number;
  plan?: PlanChoice;
}

const COLS = 'l.id, l.ts, l.received_at, l.host, l.source, l.program, l.pid, l.facility, l.severity, l.message, l.fields';

interface Row extends Omit<LogItem, 'fields'> {
  fields: string | null;
}

function toItem(r: Row): LogItem {
  return { ...r, fields: r.fields === null ? null : (JSON.parse(r.fields) as Record<string, string>) };
}

function cursorAfter(filter: LogFilter, item: LogItem): string {
  return encodeCursor(hasText(filter) ? { kind: 'id', id: item.id } : { kind: 'ts', ts: item.ts, id: item.id });
}

export function sqliteLogQuery(db: Db, limits: QueryLimits = {}) {
  const firstWindow = limits.firstWindow ?? FTS_FIRST_WINDOW;
  const maxWindow = limits.maxWindow ?? FTS_MAX_WINDOW;
  const budgetMs = limits.budgetMs ?? FTS_BUDGET_MS;
  const planWindow = hostWindowPlanner(db, limits.plan);
  const planFields = fieldPlanner(db);
  const nums = numPlanner(db);
  const tokensFrom = hostTokensFrom(db);
  // a test forcing one of the older plans gets it on every window
  const useTokens = limits.plan === undefined || limits.plan === 'auto' || limits.plan === 'token';
  const check = matchChecker(db);
  const cache = new Map<string, ReturnType<Db['prepare']>>();
  const prepared = (sql: string) => {
    let st = cache.get(sql);
    if (!st) {
      st = db.prepare(sql);
      if (cache.size > 256) cache.clear();
      cache.set(sql, st);
    }
    return st;
  };
  const sinceStmt = db.prepare(`SELECT ${COLS} FROM logs l WHERE l.id > ? ORDER BY l.id LIMIT ?`);
  const sinceVisible = db.prepare(`SELECT ${COLS} FROM logs l WHERE l.id > ? AND ${HIDDEN_CLAUSE} ORDER BY l.id LIMIT ?`);
  const latestStmt = db.prepare(`SELECT ${COLS} FROM logs l WHERE l.id <= ? ORDER BY l.id DESC LIMIT ?`);
  const latestVisible = db.prepare(`SELECT ${COLS} FROM logs l WHERE l.id <= ? AND ${HIDDEN_CLAUSE} ORDER BY l.id DESC LIMIT ?`);
  // lines of forgotten hosts are hidden from every read while some remain (storage/sqlite/hosts.ts)
  const anyHidden = hiddenCheck(db);
  const maxIdStmt = db.prepare('SELECT max(id) FROM logs').pluck();
  const spanStmt = db.prepare('SELECT min(min_id) AS lo, max(max_id) AS hi FROM log_spans WHERE bucket >= ? AND bucket <= ?');

  /**
   * Full-text pages walk the id space downwards in windows that grow fourfold (256 Ki ids,
   * then 1 Mi at most), each one bounded query. A word whose matches the other filters all reject
   * (`q=GET&severity=0`) would otherwise make one statement walk millions of matches on the
   * event loop; here the walk stops after FTS_BUDGET_MS and the page says so
   * (`budget_exhausted`, with a cursor to continue below the last window searched).
   */
  function ftsPage(filter: LogFilter, fts: string, driver: string | null, where: string[], params: Record<string, unknown>, top: number): LogPage {
    let bottom = 1;
    let hi = Math.min(top, (maxIdStmt.get() as number | null) ?? 0);
    if (filter.start !== undefined || filter.end !== undefined) {
      // The lines of the time range lie within the id window of its hours (log_spans).
      const blo = filter.start !== undefined ? Math.trunc(filter.start / SPAN_MS) : Number.MIN_SAFE_INTEGER;
      const bhi = filter.end !== undefined ? Math.trunc((filter.end - 1) / SPAN_MS) : Number.MAX_SAFE_INTEGER;
      const w = spanStmt.get(blo, bhi) as { lo: number | null; hi: number | null };
      if (w.lo === null || w.hi === null) return { items: [], next_cursor: null };
      bottom = Math.max(bottom, w.lo);
      hi = Math.min(hi, w.hi);
    }
    const tail = `${where.length ? ' AND ' + where.join(' AND ') : ''} ORDER BY f.rowid DESC LIMIT @limit`;
    const scan = prepared(`SELECT ${COLS} FROM logs_fts f CROSS JOIN logs l ON l.id = f.rowid
      WHERE logs_fts MATCH @q AND ${ROWID_IN_WINDOW}${tail}`);
    // `+` keeps the IN a filter on FTS5's output: as a rowid constraint FTS5 would seek each id
    const member =
      filter.host === undefined
        ? null
        : prepared(`SELECT ${COLS} FROM logs_fts f CROSS JOIN logs l ON l.id = f.rowid
      WHERE logs_fts MATCH @q AND ${ROWID_IN_WINDOW} AND +f.rowid IN (SELECT h.id FROM logs h INDEXED BY logs_host_ts
        WHERE h.host = @host AND h.ts >= @hlo AND h.ts < @hhi AND h.id >= @wlo AND h.id <= @whi)${tail}`);
    // the host's own lines of the window, to be checked against the search (fts-plan.ts 'host')
    const hostLines =
      filter.host === undefined
        ? null
        : prepared(`SELECT ${COLS} FROM logs l INDEXED BY logs_host_ts
      WHERE l.host = @host AND l.ts >= @hlo AND l.ts < @hhi AND l.id >= @wlo AND l.id <= @whi${where.length ? ' AND ' + where.join(' AND ') : ''}`);
    // Lines from nums_from_id on may be read from the candidates of the search's runs of short
    // numbers (num-plan.ts), newest first, with the page's other conditions, then checked by the
    // whole search (matchChecker); there are fewer than DRIVE_MAX, so that part is one window.
    const pq = driver !== null && nums.drives(driver) ? driver : null;
    const numsFrom = pq === null ? Number.MAX_SAFE_INTEGER : nums.fromId();
    // ids from hostFrom on are searched with the host's token in the expression (host-tokens.ts)
    const hostFrom = filter.host === undefined || !useTokens ? Number.MAX_SAFE_INTEGER : tokensFrom();
    const hostFts = filter.host === undefined ? fts : withHost(fts, filter.host);
    const driven = prepared(`SELECT ${COLS} FROM log_nums_fts c CROSS JOIN logs l ON l.id = c.rowid
      WHERE log_nums_fts MATCH @pq AND c.rowid >= CAST(@wlo AS INTEGER) AND c.rowid <= CAST(@whi AS INTEGER)${where.length ? ' AND ' + where.join(' AND ') : ''} ORDER BY c.rowid DESC`);
    const byCheck = (args: Record<string, unknown>, need: number): Row[] => {
      const candidates = driven.all(args) as Row[];
      const ok = check(candidates, fts);
      return candidates.filter((r) => ok.has(r.id)).slice(0, need);
    };
    const byHost = (args: Record<string, unknown>, need: number): Row[] => {
      const candidates = hostLines!.all(args) as Row[];
      const ok = check(candidates, fts);
      return candidates
        .filter((r) => ok.has(r.id))
        .sort((x, y) => y.id - x.id)
        .slice(0, need);
    };
    const rows: Row[] = [];
    const started = performance.now();
    // With a host filter a window costs its matches walked (member) or its host lines (host), not
    // its ids, and the LIMIT ends a scan: the first window is the largest, so that a rare word on
    // one host of many takes two windows, not three (each one its probes and its host set).
    let window = member ? maxWindow : firstWindow;
    while (hi >= bottom) {
      const byNums = hi >= numsFrom;
      const byToken = !byNums && hi >= hostFrom;
      let lo = byNums ? Math.max(bottom, numsFrom) : Math.max(bottom, hi - (byToken ? TOKEN_WINDOW_FACTOR * maxWindow : window) + 1, byToken ? hostFrom : 0);
      const need = filter.limit + 1 - rows.length;
      let got: Row[];
      const plan = byNums ? { kind: 'nums' as const } : byToken ? { kind: 'token' as const } : member ? planWindow({ q: fts, host: filter.host!, lo, hi, start: filter.start, end: filter.end, need, bottom }) : { kind: 'scan' as const };
      // the host's lines are few all the way down: one read for the rest of the range
      if (plan.kind === 'host') lo = plan.lo;
      const args = { ...params, q: fts, wlo: lo, whi: hi, limit: need };
      if (plan.kind === 'nums') got = byCheck({ ...params, pq, wlo: lo, whi: hi }, need);
      else if (plan.kind === 'token') got = scan.all({ ...args, q: hostFts }) as Row[];
      else if (plan.kind === 'skip') got = [];
      else if (plan.kind === 'member') got = member!.all({ ...args, hlo: plan.hlo, hhi: plan.hhi }) as Row[];
      else if (plan.kind === 'host') got = byHost({ ...args, hlo: plan.hlo, hhi: plan.hhi }, need);
      else got = scan.all(args) as Row[];
      rows.push(...got);
      if (rows.length > filter.limit) {
        rows.pop();
        const items = rows.map(toItem);
        return { items, next_cursor: cursorAfter(filter, items[items.length - 1]!) };
      }
      hi = lo - 1;
      if (!byNums) window = Math.min(window * 4, maxWindow);
      if (hi >= bottom && performance.now() - started > budgetMs) {
        return { items: rows.map(toItem), next_cursor: encodeCursor({ kind: 'id', id: hi + 1 }), budget_exhausted: true };
      }
    }
    return { items: rows.map(toItem), next_cursor: null };
  }

  return {
    query(asked: LogFilter): LogPage {
      // the search's field terms are conditions like the filters; an exact host term is the host filter
      // full-text matches are candidates checked one by one; other pages walk a range of rows
      const search = sqlSearch(asked, hasText(asked) ? probePerRow : planFields(asked.limit));
      const filter = search.filter;
      const where: string[] = [...search.where];
      if (anyHidden()) where.push(HIDDEN_CLAUSE);
      const params: Record<string, unknown> = { ...search.params, limit: filter.limit + 1 };
      const fts = search.fts !== null;
      if (filter.host !== undefined) {
        where.push('l.host = @host');
        params.host = filter.host;
      }
      if (filter.source !== undefined) {
        where.push('l.source = @source');
        params.source = filter.source;
      }
      if (filter.program !== undefined) {
        where.push('l.program = @program');
        params.program = filter.program;
      }
      if (filter.severity !== undefined) {
        where.push('l.severity <= @severity');
        params.severity = filter.severity;
      }
      if (filter.start !== undefined) {
        where.push('l.ts >= @start');
        params.start = filter.start;
      }
      if (filter.end !== undefined) {
        where.push('l.ts < @end');
        params.end = filter.end;
      }
      let ftsTop = Number.MAX_SAFE_INTEGER;
      if (filter.cursor !== undefined) {
        const c = decodeCursor(filter.cursor);
        if (fts !== (c.kind === 'id')) {
          throw new RingtailError(ErrorCodes.BAD_QUERY, `cursor: this cursor belongs to a query ${fts ? 'without' : 'with'} q`);
        }
        if (c.kind === 'id') {
          ftsTop = c.id - 1;
        } else {
          where.push('(l.ts < @cts OR (l.ts = @cts AND l.id < @cid))');
          params.cts = c.ts;
          params.cid = c.id;
        }
      }
      if (search.fts !== null) return ftsPage(filter, search.fts, search.nums, where, params, ftsTop);
      const sql = `SELECT ${COLS} FROM logs l ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
          ORDER BY l.ts DESC, l.id DESC LIMIT @limit`;
      const rows = prepared(sql).all(params) as Row[];
      const more = rows.length > filter.limit;
      if (more) rows.pop();
      const items = rows.map(toItem);
      const last = items[items.length - 1];
      return { items, next_cursor: more && last ? cursorAfter(filter, last) : null };
    },

    cursorAfter,

    since(afterId: number, limit: number): LogItem[] {
      return ((anyHidden() ? sinceVisible : sinceStmt).all(afterId, limit) as Row[]).map(toItem);
    },

    latest(uptoId: number, limit: number): LogItem[] {
      return ((anyHidden() ? latestVisible : latestStmt).all(uptoId, limit) as Row[]).map(toItem);
    },

    matchIds(q: string, afterId: number, uptoId: number): Set<number> {
      // the new lines' own fields: the tail reads those rows anyway
      const search = sqlSearch({ q, limit: 1 }, () => 'row');
      const where = [...search.where];
      if (search.filter.host !== undefined) where.push('l.host = @host');
      if (anyHidden()) where.push(HIDDEN_CLAUSE);
      const more = where.length ? ' AND ' + where.join(' AND ') : '';
      // Descending: FTS5 seeks a rowid range near the newest end of a doclist cheaply (0.1 ms
      // for a word in 1 M lines) and the same range ascending costs ~80 ms.
      const sql =
        search.fts !== null
          ? `SELECT f.rowid FROM logs_fts f CROSS JOIN logs l ON l.id = f.rowid WHERE logs_fts MATCH @q AND f.rowid > CAST(@lo AS INTEGER) AND f.rowid <= CAST(@hi AS INTEGER)${more} ORDER BY f.rowid DESC`
          : `SELECT l.id FROM logs l WHERE l.id > @lo AND l.id <= @hi${more}`;
      const ids = prepared(sql).pluck().all({ ...search.params, q: search.fts, host: search.filter.host, lo: afterId, hi: uptoId }) as number[];
      return new Set(ids);
    },

    maxId(): number {
      return (maxIdStmt.get() as number | null) ?? 0;
    },
  };
}
