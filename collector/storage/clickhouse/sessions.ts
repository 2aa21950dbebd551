// Dashboard sessions on ClickHouse, shared by every collector: a browser signed in through one
// collector is signed in on all of them behind a load balancer. As on SQLite, the store keeps
// only the SHA-256 of the session id (sessions/ids.ts), and a session lives while its token does
// (checked on every read, not cached: revoking the token or signing out ends the session on
// every collector at once).
//
// dashboard_sessions is an AggregatingMergeTree keeping the max of every column per id hash
// (auth-schema.ts): a session is its creation row, a row per "last used" touch and, at sign-out,
// a tombstone (ended = 1) that no later touch can undo. Touches are written at most once a
// minute, as on SQLite (the idle clock has a minute of slack). sweep() deletes every row of
// sessions that ended, expired or went idle (a lightweight DELETE; several collectors sweeping at
// once delete the same rows).
import { randomBytes } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { hashSessionId } from '../../sessions/ids.js';
import type { SessionLimits, SessionRecord, SessionStore } from '../types.js';
import { urlParts } from './metrics.js';

/** a session's state: the max of its rows */
const STATE_SQL = `SELECT id_hash, max(token_id) AS token_id, max(csrf) AS csrf, max(created_at) AS created_at,
  max(expires_at) AS expires_at, max(last_used) AS last_used, max(ended) AS ended FROM dashboard_sessions`;

/** the live session with this hash joined with its live viewer or admin token */
const LOOKUP_SQL = `SELECT s.token_id AS token_id, t.name AS name, t.role AS role, s.csrf AS csrf, s.created_at AS created_at,
  s.expires_at AS expires_at, s.last_used AS last_used
FROM (${STATE_SQL} WHERE id_hash = {h:String} GROUP BY id_hash) AS s
INNER JOIN (SELECT id, name, role FROM tokens FINAL WHERE role IN ('viewer', 'admin')
  AND id NOT IN (SELECT key FROM claims WHERE kind = 'revoke')) AS t ON t.id = s.token_id
WHERE s.ended = 0 AND s.expires_at > {now:Int64} AND s.last_used > {idle_before:Int64}`;

type Row = SessionRecord & { last_used: number };

/** most touches one collector writes a minute early is harmless; more would be a write per request */
const TOUCH_EVERY_MS = 60_000;

export function clickhouseSessionStore(client: ClickHouseClient, limits: SessionLimits): SessionStore {
  const lookup = async (h: string, now: number): Promise<Row | null> => {
    const rs = await client.query({ query: LOOKUP_SQL, query_params: { h, now, idle_before: now - limits.idleMs }, format: 'JSONEachRow' });
    const r = ((await rs.json()) as Row[])[0];
    return r ? { ...r, created_at: Number(r.created_at), expires_at: Number(r.expires_at), last_used: Number(r.last_used) } : null;
  };
  const write = (row: { id_hash: string; token_id?: string; csrf?: string; created_at?: number; expires_at?: number; last_used?: number; ended?: number }) =>
    client.insert({
      table: 'dashboard_sessions',
      values: [{ token_id: '', csrf: '', created_at: 0, expires_at: 0, last_used: 0, ended: 0, ...row }],
      format: 'JSONEachRow',
    });
  const strip = ({ last_used: _ignored, ...record }: Row): SessionRecord => record;

  return {
    async create(tokenId, now) {
      const id = randomBytes(32).toString('base64url');
      const csrf = randomBytes(32).toString('base64url');
      const h = hashSessionId(id);
      await write({ id_hash: h, token_id: tokenId, csrf, created_at: now, expires_at: now + limits.ttlMs, last_used: now });
      const row = await lookup(h, now);
      if (!row) throw new Error('session vanished right after creation (token revoked meanwhile?)');
      return { id, record: strip(row) };
    },
    async get(id, now) {
      const h = hashSessionId(id);
      const row = await lookup(h, now);
      if (!row) return null;
      if (now - row.last_used > TOUCH_EVERY_MS) await write({ id_hash: h, last_used: now });
      return strip(row);
    },
    async destroy(id) {
      await write({ id_hash: hashSessionId(id), ended: 1 });
    },
    async sweep(now) {
      const rs = await client.query({
        query: `SELECT id_hash, ended FROM (${STATE_SQL} GROUP BY id_hash) WHERE ended = 1 OR expires_at <= {now:Int64} OR last_used <= {idle_before:Int64}`,
        query_params: { now, idle_before: now - limits.idleMs },
        format: 'JSONEachRow',
      });
      const gone = (await rs.json()) as Array<{ id_hash: string; ended: number }>;
      for (const part of urlParts(gone.map((r) => r.id_hash))) {
        await client.command({ query: 'DELETE FROM dashboard_sessions WHERE id_hash IN {hs:Array(String)}', query_params: { hs: part } });
      }
      // as on SQLite, where signing out deletes at once: the sessions that ran out
      return gone.filter((r) => Number(r.ended) === 0).length;
    },
    async storedHashes() {
      const rs = await client.query({ query: `SELECT id_hash FROM (${STATE_SQL} GROUP BY id_hash) WHERE ended = 0`, format: 'JSONEachRow' });
      return ((await rs.json()) as Array<{ id_hash: string }>).map((r) => r.id_hash);
    },
    // the client is the storage's, closed with it
    close() {},
  };
}
