// The live tail on a cluster (ids.ts 'key'): new lines found by a key every replica agrees on,
// not by block numbers.
//
// The key is (received_at, stream_id, line_offset). received_at is when a collector received the
// line, so lines are not visible in key order: another collector's group commit, its INSERT
// through the Distributed table, and a replica that fetches the part later all make a line
// appear after lines with larger keys. So the feed never moves a watermark past a line: at every
// look it re-reads a window of the last `lookbackMs` of received_at and returns the lines of the
// window it has not returned yet (deduplicated by identity). Cheaply: ClickHouse first sums the
// window per second of received_at (count and XOR of the identities' hashes); only the seconds
// whose sums differ from what the feed has seen are read line by line (identities only), and
// only the new lines are read whole.
//
// What holds: a line is returned once, and is returned if it becomes readable (on the replica
// the Distributed table reads) within lookbackMs of its received_at as this collector's clock
// counts (collectors' clocks agree within NTP's milliseconds; the lease protocols need that
// already). Reads avoid a replica more than half the lookback behind
// (max_replica_delay_for_distributed_queries, no fallback to stale replicas: the read fails and
// is tried again at the next look, while the window still holds the lines). A line readable
// later than that (an INSERT that took longer than the lookback, a replica lagging longer with
// no other replica) is not shown by the tail; /api/v1/logs finds it. Lines stored with an old
// received_at (`ringtail migrate`) are never tail lines.
// Cost (docs/scale-out.md): the window's identities are kept in memory (~100 B per line), and the
// first look reads them all; measured with 300,000 lines in the window on chdb: idle look p50
// 48 ms, first look 3.1 s.
import { TupleParam, type ClickHouseClient } from '@clickhouse/client';
import type { LogItem } from '../../../shared/wire.js';
import type { TailFeed } from '../types.js';
import { itemCols, identityOf, toItem, type Row } from './query.js';
import { chSearch, Params } from './search.js';
import { KEY_ID_SQL } from './ids.js';

/** how far back in received_at every look re-reads (> an INSERT's timeout + replication lag) */
export const DEFAULT_TAIL_LOOKBACK_MS = 60_000;

/** settings of every tail read: never from a replica further behind than the window can cover */
export function tailReadSettings(lookbackMs: number) {
  return {
    max_replica_delay_for_distributed_queries: String(Math.max(1, Math.floor(lookbackMs / 2000))),
    fallback_to_stale_replicas_for_distributed_queries: 0,
  } as const;
}

export interface TailFeedOptions {
  lookbackMs?: number;
  /** ms since the epoch (tests move it) */
  clock?: () => number;
}

interface Second {
  ids: Set<string>;
  xor: bigint;
}

interface Pending {
  sid: string;
  off: number;
  r: number;
}

const HASH = 'cityHash64(stream_id, line_offset)';
const identity = (sid: string, off: number | string) => `${sid}:${off}`;

function byKey(a: Pending, b: Pending): number {
  if (a.r !== b.r) return a.r - b.r;
  if (a.sid !== b.sid) return BigInt(a.sid) < BigInt(b.sid) ? -1 : 1;
  return a.off - b.off;
}

export function keyTailFeed(client: ClickHouseClient, opts: TailFeedOptions = {}): TailFeed {
  const lookbackMs = opts.lookbackMs ?? DEFAULT_TAIL_LOOKBACK_MS;
  const clock = opts.clock ?? Date.now;
  const settings = tailReadSettings(lookbackMs);
  const seen = new Map<number, Second>();
  let pending: Pending[] = [];
  let started = false;
  // lines received from the feed's creation on (a client connecting) are the client's, even if
  // they are in ClickHouse before the first look
  const createdAt = clock();

  async function rows<T>(query: string, query_params: Record<string, unknown>): Promise<T[]> {
    const rs = await client.query({ query, query_params, format: 'JSONEachRow', clickhouse_settings: settings });
    return (await rs.json()) as T[];
  }

  /** finds the window's lines not seen yet; on the first look, marks them all seen */
  async function look(first: boolean): Promise<void> {
    const lo = Math.floor((clock() - lookbackMs) / 1000);
    for (const sec of seen.keys()) if (sec < lo) seen.delete(sec);
    const sums = await rows<{ sec: number; n: number; x: string }>(
      `SELECT intDiv(received_at, 1000) AS sec, count() AS n, toString(groupBitXor(${HASH})) AS x FROM logs WHERE received_at >= {lo:Int64} GROUP BY sec`,
      { lo: lo * 1000 },
    );
    const changed: number[] = [];
    const present = new Set<number>();
    for (const s of sums) {
      const sec = Number(s.sec);
      present.add(sec);
      const mine = seen.get(sec);
      if (!mine || mine.ids.size !== Number(s.n) || mine.xor !== BigInt(s.x)) changed.push(sec);
    }
    // a second whose lines were all deleted (retention, forget) is forgotten
    for (const sec of seen.keys()) if (!present.has(sec)) seen.delete(sec);
    if (changed.length === 0) return;
    const found = await rows<{ sid: string; off: number; r: number; h: string }>(
      `SELECT toString(stream_id) AS sid, line_offset AS off, received_at AS r, toString(${HASH}) AS h FROM logs
WHERE received_at >= {lo:Int64} AND intDiv(received_at, 1000) IN {secs:Array(Int64)}`,
      { lo: lo * 1000, secs: changed },
    );
    const next = new Map<number, Second>(changed.map((sec) => [sec, { ids: new Set(), xor: 0n }]));
    for (const f of found) {
      const r = Number(f.r);
      const sec = Math.floor(r / 1000);
      const into = next.get(sec);
      if (!into) continue;
      const id = identity(f.sid, f.off);
      if (into.ids.has(id)) continue;
      into.ids.add(id);
      into.xor ^= BigInt(f.h);
      if (first ? r >= createdAt : !seen.get(sec)?.ids.has(id)) pending.push({ sid: f.sid, off: Number(f.off), r });
    }
    for (const [sec, s] of next) seen.set(sec, s);
    pending.sort(byKey);
  }

  const identityParams = (rs: Array<{ sid: string; off: number }>) => rs.map((p) => new TupleParam([BigInt(p.sid), p.off]));
  const ID_IN = '(stream_id, line_offset) IN {keys:Array(Tuple(UInt64, UInt64))}';

  return {
    async next(limit) {
      if (!started) {
        await look(true);
        started = true;
      } else if (pending.length === 0) await look(false);
      if (pending.length === 0) return [];
      const take = pending.slice(0, Math.max(1, limit));
      const got = await rows<Row>(
        `SELECT ${itemCols('key')} FROM logs WHERE received_at >= {lo:Int64} AND received_at <= {hi:Int64} AND ${ID_IN}
ORDER BY received_at, stream_id, line_offset LIMIT 1 BY stream_id, line_offset`,
        { lo: take[0]!.r, hi: Math.max(...take.map((p) => p.r)), keys: identityParams(take) },
      );
      // taken off only once read: a failed read is tried again at the next call
      pending = pending.slice(take.length);
      return got.map(toItem);
    },

    async matchIds(q, items: LogItem[]) {
      if (items.length === 0) return new Set();
      const keys = items.map((i) => identityOf(i));
      const p = new Params();
      const { where } = chSearch({ q }, p);
      const received = items.map((i) => i.received_at ?? 0);
      where.push(
        `received_at >= ${p.add('Int64', Math.min(...received))}`,
        `received_at <= ${p.add('Int64', Math.max(...received))}`,
        `(stream_id, line_offset) IN ${p.add('Array(Tuple(UInt64, UInt64))', identityParams(keys.map((k) => ({ sid: k.stream, off: k.offset }))))}`,
      );
      const got = await rows<{ id: number }>(`SELECT ${KEY_ID_SQL} AS id FROM logs WHERE ${where.join(' AND ')}`, p.values);
      return new Set(got.map((r) => Number(r.id)));
    },
  };
}
