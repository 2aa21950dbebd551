// HostStateStore on ClickHouse, shared by every collector on the database (hosts-schema.ts has the
// tables and why their rows merge column by column).
//
// Cost: a collector keeps its hosts in memory (collector/hosts/registry.ts) and saves what
// changed once per sweep (hosts.sweep_interval, 5 s): one INSERT of the changed records, one of
// the transitions when there are any, one of the tick's meta row — whatever the request rate.
// Each sweep also pulls what the others saved since the last pull (changes(): two reads).
// Staleness: a collector shows a host heard by another one at most one sweep interval (the
// other's save) plus one (its own pull) late — 10 s with the defaults.
//
// No transaction spans the tables: a save cut short is saved again whole at the next sweep (the
// records merge, the transitions carry a deduplication token per save).
import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { ErrorCodes, RingtailError } from '../../../shared/errors.js';
import { HOST_STATE_TIE, type HostChanges, type HostEvent, type HostSource, type HostState, type HostStateRow, type HostStateStore, type SharedHostRow } from '../types.js';
import { connectDatabase, guarded } from './connection.js';
import { ensureHostsSchema } from './hosts-schema.js';
import type { Layout } from './layout.js';
import { deleteLinesSql } from './retention.js';
import { checkDatabaseName } from './schema.js';
import type { ClickHouseLogOptions } from './types.js';

/** lightweight deletes must be visible to the next read: the statement waits for its mutation */
const DELETE_SETTINGS = { lightweight_deletes_sync: '2', mutations_sync: '2' } as const;
/** each host's newest tombstone */
const FORGOTTEN = '(SELECT host, max(at) AS at FROM host_forgotten GROUP BY host)';
/** every host's record merged over all writes, rows a tombstone covers left out */
const MERGED = `SELECT s.host AS host, min(s.first_seen) AS first_seen, max(s.last_seen) AS last_seen, max(s.state) AS st,
  max(s.agent) AS ag, groupUniqArrayArray(s.sources) AS sources, max(s.written) AS written
FROM host_state AS s LEFT ANY JOIN ${FORGOTTEN} AS f ON s.host = f.host
WHERE s.last_seen > f.at`;

interface Merged {
  host: string;
  first_seen: number;
  last_seen: number;
  st: [number, number, string];
  ag: [number, string, number, number];
  sources: string[];
}

function shared(r: Merged): SharedHostRow {
  const [since, , state] = r.st;
  const [agentAt, agentId, ephemeral, interval] = r.ag;
  return {
    host: r.host,
    first_seen: Number(r.first_seen),
    last_seen: Number(r.last_seen),
    state: state as HostState,
    state_since: Number(since),
    ephemeral: Number(ephemeral) === 1,
    interval_ms: Number(interval) < 0 ? null : Number(interval),
    sources: [...r.sources].sort() as HostSource[],
    agent_id: agentId === '' ? null : agentId,
    agent_at: Number(agentAt),
  };
}

export async function openClickHouseHostStore(opts: ClickHouseLogOptions): Promise<HostStateStore & { close(): Promise<void> }> {
  const database = checkDatabaseName(opts.database);
  const { client, layout, url } = await connectDatabase(opts, database);
  await guarded('set up the host tables', url, () => ensureHostsSchema(client, database, layout));
  return clickhouseHostStore(client, url, layout);
}

/**
 * The statement that deletes one host's lines: on a cluster it names every shard's logs_local and
 * goes through the distributed DDL queue, which carries text, not parameters, so the host is
 * written in as a string literal (escaped; host names are already free of control characters).
 */
export function deleteHostLinesSql(layout: Layout, host: string): { query: string; query_params: Record<string, unknown> } {
  if (!layout) return { query: 'DELETE FROM logs WHERE host = {h:String}', query_params: { h: host } };
  return { query: deleteLinesSql(layout, `host = '${host.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`), query_params: {} };
}

export function clickhouseHostStore(client: ClickHouseClient, url: string, layout?: Layout): HostStateStore & { close(): Promise<void> } {
  const rows = async <T>(query: string, query_params: Record<string, unknown> = {}): Promise<T[]> => {
    const rs = await client.query({ query, query_params, format: 'JSONEachRow' });
    return (await rs.json()) as T[];
  };
  const insert = async (table: string, values: object[], token?: string) => {
    if (values.length === 0) return;
    await client.insert({ table, values, format: 'JSONEachRow', ...(token ? { clickhouse_settings: { insert_deduplication_token: token } } : {}) });
  };
  const del = (query: string, query_params: Record<string, unknown>) => client.command({ query, query_params, clickhouse_settings: DELETE_SETTINGS });
  const g =
    <A extends unknown[], T>(what: string, fn: (...a: A) => Promise<T>) =>
    (...a: A) =>
      guarded(what, url, () => fn(...a));
  // transitions of one collector keep their order within a millisecond (seq), across collectors the time's
  let lastSeq = 0;
  const seq = () => (lastSeq = Math.max(Date.now() * 1000, lastSeq + 1));
  const serverNow = async () => Number((await rows<{ t: number }>('SELECT toUnixTimestamp64Milli(now64(3)) AS t'))[0]!.t);
  const merged = async (since: number) =>
    (await rows<Merged>(`${MERGED} GROUP BY s.host HAVING written > {since:Int64} ORDER BY host`, { since })).map(shared);
  const removeHosts = async (hosts: string[]) => {
    for (const [table, col] of [['host_state', 'host'], ['host_events', 'host'], ['hosts', 'host']] as const) {
      await del(`DELETE FROM ${table} WHERE ${col} IN {hs:Array(String)}`, { hs: hosts });
    }
  };

  return {
    shared: true,
    load: g('read host states', async () => (await merged(Number.MIN_SAFE_INTEGER)).map(({ agent_at: _a, ...r }) => r)),
    changes: g('read host state changes', async (since: number): Promise<HostChanges> => {
      const through = await serverNow();
      const [changed, forgotten] = await Promise.all([
        merged(since),
        rows<{ host: string; at: number }>('SELECT host, max(at) AS at, max(written) AS w FROM host_forgotten GROUP BY host HAVING w > {since:Int64}', { since }),
      ]);
      return { rows: changed, forgotten: forgotten.map((f) => ({ host: f.host, at: Number(f.at) })), through };
    }),
    save: g('save host states', async (records: HostStateRow[], events: HostEvent[], removed: string[], meta: Record<string, number> = {}) => {
      if (removed.length > 0) {
        // the tombstone covers what is stored of each host; a host heard after it comes back new
        await client.command({
          query: `INSERT INTO host_forgotten (host, at) SELECT host, max(last_seen) FROM host_state WHERE host IN {hs:Array(String)} GROUP BY host`,
          query_params: { hs: removed },
        });
        await removeHosts(removed);
      }
      await insert(
        'host_state',
        records.map((r) => ({
          host: r.host,
          first_seen: r.first_seen,
          last_seen: r.last_seen,
          state: [r.state_since, HOST_STATE_TIE[r.state], r.state],
          // keyed by when it was heard: the newest declaration wins (a syslog-only record names none)
          agent: [r.agent_id === null ? 0 : r.last_seen, r.agent_id ?? '', r.ephemeral ? 1 : 0, r.interval_ms ?? -1],
          sources: r.sources,
        })),
      );
      const evs = events.map((e) => ({ host: e.host, ts: e.ts, seq: seq(), from_state: e.from ?? '', to_state: e.to }));
      // a save retried after a failure sends the same transitions again: one copy kept
      const token = createHash('sha256').update(JSON.stringify(events)).digest('hex');
      await insert('host_events', evs, `host-events:${token}`);
      const v = seq();
      await insert('host_meta', Object.entries(meta).map(([key, value]) => ({ key, value, v })));
    }),
    events: g('read host transitions', async (host: string, limit: number, since = Number.MIN_SAFE_INTEGER) =>
      (
        await rows<{ ts: number; host: string; from: string; to: string }>(
          `SELECT ts, host, from_state AS from, to_state AS to FROM host_events WHERE host = {host:String} AND ts >= {since:Int64} ORDER BY ts DESC, seq DESC LIMIT {limit:UInt32}`,
          { host, since, limit },
        )
      ).map(event),
    ),
    eventsSince: g('read host transitions', async (since: number, limit: number) =>
      (
        await rows<{ ts: number; host: string; from: string; to: string }>(
          `SELECT * FROM (SELECT ts, seq, host, from_state AS from, to_state AS to FROM host_events WHERE ts >= {since:Int64} ORDER BY ts DESC, seq DESC LIMIT {limit:UInt32}) ORDER BY ts, seq`,
          { since, limit },
        )
      ).map(event),
    ),
    forget: g('forget a host', async (host: string, now: number) => {
      const known = await rows<{ n: number; last: number }>(
        `SELECT (SELECT count() FROM (${MERGED} AND s.host = {h:String} GROUP BY s.host)) + (SELECT count() FROM hosts WHERE host = {h:String}) AS n,
           (SELECT max(last_seen) FROM host_state WHERE host = {h:String}) AS last`,
        { h: host },
      );
      const was = Number(known[0]?.n ?? 0) > 0;
      await insert('host_forgotten', [{ host, at: Math.max(now, Number(known[0]?.last ?? 0)) }]);
      await removeHosts([host]);
      // its lines go at once (SQLite hides them and purges in slices): every collector's reads
      // of the shared table stop showing them; lines stored after this are the host's new life
      const lines = deleteHostLinesSql(layout, host);
      await del(lines.query, lines.query_params);
      return was;
    }),
    // forget() deleted the lines already
    purgeForgotten: async () => 0,
    // `ringtail hosts retire|forget` queue their requests in a collector's SQLite store; on
    // ClickHouse every collector applies them itself through the API (the change is shared)
    enqueue: async () => {
      throw new RingtailError(ErrorCodes.USAGE, 'on --storage clickhouse there is no request queue: retire or forget a host with `ringtail hosts retire|forget --storage clickhouse …` or through any collector\'s API (POST /api/v1/hosts/:host/retire, DELETE /api/v1/hosts/:host)', 400);
    },
    claim: async () => [],
    finish: async () => {},
    request: async () => null,
    getMeta: g('read host meta', async (key: string) => {
      const r = await rows<{ value: number }>('SELECT argMax(value, v) AS value FROM host_meta WHERE key = {key:String} GROUP BY key', { key });
      return r[0] === undefined ? null : Number(r[0].value);
    }),
    setMeta: g('save host meta', async (key: string, value: number) => insert('host_meta', [{ key, value, v: seq() }])),
    close: () => client.close(),
  };
}

function event(r: { ts: number; host: string; from: string; to: string }): HostEvent {
  return { ts: Number(r.ts), host: r.host, from: r.from === '' ? null : (r.from as HostState), to: r.to as HostState };
}
