// Reading log lines from ClickHouse: pages, the histogram, the live tail, hosts. Only fixed SQL
// fragments are concatenated (search.ts); every value is a bound `{name:Type}` parameter.
//
// Pages are (ts desc, stream_id desc, line_offset desc) with or without a search (ids.ts: the
// line's identity, the same on every replica and shard, breaks ties): ClickHouse has no reason
// for the SQLite store's arrival-ordered full-text pages (FTS5 streams matches by rowid); the
// text index skips granules, then the top of the time order is sorted out of what is left.
import type { ClickHouseClient } from '@clickhouse/client';
import type { LogItem, LogPage } from '../../../shared/wire.js';
import { emptyHistogram } from '../histogram.js';
import type { HistogramFilter, HostInfo, LogFilter, LogHistogram } from '../types.js';
import { decodeCursor, encodeCursor, ID_SQL, idSql, type LineIds } from './ids.js';
import { chSearch, Params } from './search.js';
import { cachedPartitionDays, windowBounds } from './windows.js';

/** the columns of a LogItem, plus the line's identity (sid, off) for cursors */
export const itemCols = (ids: LineIds) =>
  `${idSql(ids)} AS id, toString(stream_id) AS sid, line_offset AS off, ts, received_at, host, source, program, pid, facility, severity, message, fields`;
const COLS = itemCols('block');

export interface Row extends Omit<LogItem, 'fields'> {
  sid: string;
  off: number;
  fields: Record<string, string>;
}

/**
 * The identity of the items a store returned, for cursorAfter (which does no I/O and is given
 * the item back): LogItem carries no stream or offset on the wire.
 */
const identities = new WeakMap<LogItem, { stream: string; offset: number }>();

/** the (stream_id, line_offset) of an item this store returned */
export function identityOf(item: LogItem): { stream: string; offset: number } {
  const key = identities.get(item);
  if (!key) throw new Error('a log item this store did not return');
  return key;
}

export function toItem(r: Row): LogItem {
  const item = {
    id: Number(r.id),
    ts: Number(r.ts),
    received_at: Number(r.received_at),
    host: r.host,
    source: r.source,
    program: r.program ?? null,
    pid: r.pid ?? null,
    facility: r.facility ?? null,
    severity: Number(r.severity),
    message: r.message,
    fields: r.fields && Object.keys(r.fields).length > 0 ? r.fields : null,
  };
  identities.set(item, { stream: r.sid, offset: Number(r.off) });
  return item;
}

const whereSql = (where: string[]) => (where.length ? `WHERE ${where.join(' AND ')}` : '');

/** the newest ts a page can hold (inclusive), if the filter or cursor bounds it */
function upperTs(filter: LogFilter): number | undefined {
  const c = filter.cursor !== undefined ? decodeCursor(filter.cursor).ts : undefined;
  const e = filter.end !== undefined ? filter.end - 1 : undefined;
  return c === undefined ? e : e === undefined ? c : Math.min(c, e);
}

export function clickhouseQuery(client: ClickHouseClient, ids: LineIds = 'block') {
  const pageCols = itemCols(ids);
  async function rows(query: string, params: Record<string, unknown>): Promise<Row[]> {
    const rs = await client.query({ query, query_params: params, format: 'JSONEachRow' });
    return (await rs.json()) as Row[];
  }

  const days = cachedPartitionDays(client);

  const cursorAfter = (_filter: LogFilter, item: LogItem): string => encodeCursor({ ts: item.ts, ...identityOf(item) });

  return {
    cursorAfter,

    async query(filter: LogFilter): Promise<LogPage> {
      const p = new Params();
      const { where } = chSearch(filter, p);
      if (filter.cursor !== undefined) {
        const c = decodeCursor(filter.cursor);
        const cts = p.add('Int64', c.ts);
        // the first condition alone lets the partition and primary-key ranges prune
        where.push(`ts <= ${cts}`, `(ts < ${cts} OR (stream_id, line_offset) < (${p.add('UInt64', c.stream)}, ${p.add('UInt64', c.offset)}))`);
      }
      const want = filter.limit + 1;
      const bounds = windowBounds(await days(), upperTs(filter), filter.start);
      const got: LogItem[] = [];
      // day windows newest first (windows.ts) until the page is full; the last one unbounded below
      for (let k = 0; k <= bounds.length && got.length < want; k++) {
        const w = [...where];
        const params: Record<string, unknown> = { ...p.values, w_limit: want - got.length };
        if (k < bounds.length) w.push('ts >= {w_lo:Int64}'), (params.w_lo = bounds[k]);
        if (k > 0) w.push('ts < {w_hi:Int64}'), (params.w_hi = bounds[k - 1]);
        const sql = `SELECT ${pageCols} FROM logs ${whereSql(w)} ORDER BY ts DESC, stream_id DESC, line_offset DESC LIMIT {w_limit:UInt32}`;
        got.push(...(await rows(sql, params)).map(toItem));
      }
      const more = got.length > filter.limit;
      if (more) got.pop();
      const last = got[got.length - 1];
      return { items: got, next_cursor: more && last ? cursorAfter(filter, last) : null };
    },

    async histogram(asked: HistogramFilter): Promise<LogHistogram> {
      const out = emptyHistogram(asked);
      const { start, interval, counts } = out;
      const buckets = counts.length;
      const p = new Params();
      const { where } = chSearch(asked, p);
      const sql = `SELECT intDiv(ts - ${p.add('Int64', start)}, ${p.add('Int64', interval)}) AS b, count() AS n FROM logs ${whereSql(where)} GROUP BY b`;
      for (const r of (await rows(sql, p.values)) as unknown as Array<{ b: number; n: number }>) {
        const b = Number(r.b);
        if (b >= 0 && b < buckets) counts[b] = counts[b]! + Number(r.n);
      }
      return out;
    },

    async since(afterId: number, limit: number): Promise<LogItem[]> {
      const p = new Params();
      const sql = `SELECT ${COLS} FROM logs WHERE _block_number >= ${p.add('UInt64', Math.floor(afterId / 1_048_576))} AND ${ID_SQL} > ${p.add('UInt64', afterId)} ORDER BY id LIMIT ${p.add('UInt32', Math.max(0, Math.min(limit, 1_000_000)))}`;
      return (await rows(sql, p.values)).map(toItem);
    },

    async latest(uptoId: number, limit: number): Promise<LogItem[]> {
      const p = new Params();
      const sql = `SELECT ${COLS} FROM logs WHERE _block_number <= ${p.add('UInt64', Math.floor(uptoId / 1_048_576))} AND ${ID_SQL} <= ${p.add('UInt64', uptoId)} ORDER BY id DESC LIMIT ${p.add('UInt32', Math.max(0, Math.min(limit, 1_000_000)))}`;
      return (await rows(sql, p.values)).map(toItem);
    },

    async matchIds(q: string, afterId: number, uptoId: number): Promise<Set<number>> {
      const p = new Params();
      const { where } = chSearch({ q }, p);
      where.push(`${ID_SQL} > ${p.add('UInt64', afterId)}`, `${ID_SQL} <= ${p.add('UInt64', uptoId)}`, `_block_number >= ${p.add('UInt64', Math.floor(afterId / 1_048_576))}`);
      const rs = await client.query({ query: `SELECT ${ID_SQL} AS id FROM logs ${whereSql(where)}`, query_params: p.values, format: 'JSONEachRow' });
      return new Set(((await rs.json()) as Array<{ id: number }>).map((r) => Number(r.id)));
    },

    async maxId(): Promise<number> {
      // the newest part holds the newest block: read only it (by its name) instead of every part
      const parts = await client.query({
        query: `SELECT name FROM system.parts WHERE database = currentDatabase() AND table = 'logs' AND active ORDER BY max_block_number DESC LIMIT 1`,
        format: 'JSONEachRow',
      });
      const newest = ((await parts.json()) as Array<{ name: string }>)[0];
      if (!newest) return 0;
      const rs = await client.query({ query: `SELECT max(${ID_SQL}) AS id, count() AS n FROM logs WHERE _part = {part:String}`, query_params: { part: newest.name }, format: 'JSONEachRow' });
      const r = ((await rs.json()) as Array<{ id: number; n: number }>)[0];
      if (r && Number(r.n) > 0) return Number(r.id);
      // the newest part's lines were all deleted (or it merged away meanwhile): ask every part
      const all = await client.query({ query: `SELECT max(${ID_SQL}) AS id FROM logs`, format: 'JSONEachRow' });
      return Number(((await all.json()) as Array<{ id: number }>)[0]?.id ?? 0);
    },

    async hosts(): Promise<HostInfo[]> {
      const rs = await client.query({
        query: 'SELECT host, min(first_seen) AS first_seen, max(last_seen) AS last_seen FROM hosts GROUP BY host ORDER BY host',
        format: 'JSONEachRow',
      });
      return ((await rs.json()) as HostInfo[]).map((h) => ({ host: h.host, first_seen: Number(h.first_seen), last_seen: Number(h.last_seen) }));
    },
  };
}
