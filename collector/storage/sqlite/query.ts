// Reading log lines. Only fixed SQL fragments are concatenated; every value is a bound parameter.
//
// Query plans (10 M lines, see BENCHMARKS.md): without `q`, rows come from the ts or (host, ts)
// index in (ts desc, id desc) order and the LIMIT stops the walk early. With `q`, FTS5 drives:
// `logs_fts CROSS JOIN logs` makes the full-text index the outer loop and `ORDER BY rowid DESC`
// is served by FTS5 itself, so a word in millions of lines yields its newest matches without
// materialising and sorting them all. Full-text results are therefore newest-*arrived* first;
// as ingest clamps implausible times, arrival order and time order agree except for backlogs.
import { ErrorCodes, RingtailError } from '../../../shared/errors.js';
import type { LogItem, LogPage } from '../../../shared/wire.js';
import type { LogFilter } from '../types.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { Db } from './open.js';

const COLS = 'l.id, l.ts, l.received_at, l.host, l.source, l.program, l.pid, l.facility, l.severity, l.message, l.fields';

interface Row extends Omit<LogItem, 'fields'> {
  fields: string | null;
}

function toItem(r: Row): LogItem {
  return { ...r, fields: r.fields === null ? null : (JSON.parse(r.fields) as Record<string, string>) };
}

export function hasQ(filter: { q?: string }): filter is { q: string } {
  return filter.q !== undefined && filter.q.trim() !== '';
}

/** FTS5 reports query mistakes as SQLite errors; they are the client's, so they become 400s. */
export function ftsError(err: unknown): RingtailError | null {
  const msg = (err as Error).message ?? '';
  if (/fts5|unterminated|syntax error|no such column|unknown special query|malformed MATCH/i.test(msg)) {
    return new RingtailError(ErrorCodes.BAD_QUERY, `q: invalid full-text query: ${msg}`);
  }
  return null;
}

function cursorAfter(filter: LogFilter, item: LogItem): string {
  return encodeCursor(hasQ(filter) ? { kind: 'id', id: item.id } : { kind: 'ts', ts: item.ts, id: item.id });
}

export function sqliteLogQuery(db: Db) {
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
  const matchStmt = db.prepare('SELECT rowid FROM logs_fts WHERE logs_fts MATCH ? AND rowid > ? AND rowid <= ?').pluck();
  const maxIdStmt = db.prepare('SELECT max(id) FROM logs').pluck();

  return {
    query(filter: LogFilter): LogPage {
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: filter.limit + 1 };
      const fts = hasQ(filter);
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
      if (filter.cursor !== undefined) {
        const c = decodeCursor(filter.cursor);
        if (fts !== (c.kind === 'id')) {
          throw new RingtailError(ErrorCodes.BAD_QUERY, `cursor: this cursor belongs to a query ${fts ? 'without' : 'with'} q`);
        }
        if (c.kind === 'id') {
          where.push('f.rowid < @cid');
        } else {
          where.push('(l.ts < @cts OR (l.ts = @cts AND l.id < @cid))');
          params.cts = c.ts;
        }
        params.cid = c.id;
      }
      let sql: string;
      if (fts) {
        params.q = filter.q;
        where.unshift('logs_fts MATCH @q');
        sql = `SELECT ${COLS} FROM logs_fts f CROSS JOIN logs l ON l.id = f.rowid
          WHERE ${where.join(' AND ')} ORDER BY f.rowid DESC LIMIT @limit`;
      } else {
        sql = `SELECT ${COLS} FROM logs l ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
          ORDER BY l.ts DESC, l.id DESC LIMIT @limit`;
      }
      let rows: Row[];
      try {
        rows = prepared(sql).all(params) as Row[];
      } catch (err) {
        throw (fts && ftsError(err)) || err;
      }
      const more = rows.length > filter.limit;
      if (more) rows.pop();
      const items = rows.map(toItem);
      const last = items[items.length - 1];
      return { items, next_cursor: more && last ? cursorAfter(filter, last) : null };
    },

    cursorAfter,

    since(afterId: number, limit: number): LogItem[] {
      return (sinceStmt.all(afterId, limit) as Row[]).map(toItem);
    },

    matchIds(q: string, afterId: number, uptoId: number): Set<number> {
      try {
        return new Set(matchStmt.all(q, afterId, uptoId) as number[]);
      } catch (err) {
        throw ftsError(err) ?? err;
      }
    },

    maxId(): number {
      return (maxIdStmt.get() as number | null) ?? 0;
    },
  };
}
