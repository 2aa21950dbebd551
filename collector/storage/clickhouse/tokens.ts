// TokenStore on ClickHouse, shared by every collector on the database (auth-schema.ts).
//
// Revocation is a claim (claims.ts, kind 'revoke'): the first revocation committed is the token's
// revoked_at, and revoke() answers true on one collector only, as SQLite's UPDATE … WHERE
// revoked_at IS NULL does. A request's token check reads through a short cache: a token verified
// within the last `cacheMs` (REVOCATION_DELAY_MS) is not read again, so a token revoked on another
// collector is refused here at most that long after (at once on the collector that revoked it,
// which drops it from its own cache). Unknown tokens are not cached: a token made on another
// collector is accepted here at once, and guesses are the credential throttle's business.
// Enrollment and sessions do not read through the cache (enroll.ts, sessions.ts).
import type { ClickHouseClient } from '@clickhouse/client';
import { ConfigError } from '../../../shared/errors.js';
import { hashToken, newTokenId, newTokenSecret } from '../secrets.js';
import type { Role, TokenRecord, TokenStore } from '../types.js';
import { bindAgent, bindHost } from './bindings.js';
import { Claims } from './claims.js';
import type { Layout } from './layout.js';
import { enrollWith } from './enroll.js';

/** how long a collector may go on accepting a token revoked on another collector (ms) */
export const REVOCATION_DELAY_MS = 5_000;
/** a cache in front of the table; cleared when it holds this many tokens */
const MAX_CACHED = 100_000;

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  created_at: number;
  uses_max: number | null;
  expires_at: number | null;
  enrolled_host: string | null;
  revoked_at: number | null;
  uses: number | null;
}

/** rows of `tokens` matching `where`, with revoked_at and (role enroll) uses from the claims */
const RECORDS_SQL = (where: string) => `SELECT t.id AS id, t.name AS name, t.role AS role, t.created_at AS created_at,
  t.uses_max AS uses_max, t.expires_at AS expires_at, t.enrolled_host AS enrolled_host, r.at AS revoked_at, u.n AS uses
FROM (SELECT * FROM tokens FINAL WHERE ${where}) AS t
LEFT JOIN (SELECT key, argMin(at, _block_number) AS at FROM claims WHERE kind = 'revoke' GROUP BY key) AS r ON r.key = t.id
LEFT JOIN (SELECT key, toUInt32(count(DISTINCT seq)) AS n FROM claims WHERE kind = 'enroll' GROUP BY key) AS u ON u.key = t.id
ORDER BY t.created_at, t.id
SETTINGS join_use_nulls = 1`;

export function toRecord(r: TokenRow): TokenRecord {
  const rec: TokenRecord = { id: r.id, name: r.name, role: r.role, created_at: Number(r.created_at), revoked_at: r.revoked_at === null ? null : Number(r.revoked_at) };
  if (r.role === 'enroll') {
    rec.uses_max = r.uses_max === null ? null : Number(r.uses_max);
    rec.uses = Number(r.uses ?? 0);
    rec.expires_at = r.expires_at === null ? null : Number(r.expires_at);
  }
  if (r.enrolled_host !== null) rec.enrolled_host = r.enrolled_host;
  return rec;
}

export interface TokenRows {
  /** token records matching a condition over `tokens` (bound as {name:Type} parameters) */
  find(where: string, params: Record<string, unknown>): Promise<TokenRecord[]>;
  insert(row: { hash: string; record: TokenRecord; enroll_id?: string; agent_id?: string }): Promise<void>;
}

export function tokenRows(client: ClickHouseClient): TokenRows {
  return {
    async find(where, params) {
      const rs = await client.query({ query: RECORDS_SQL(where), query_params: params, format: 'JSONEachRow' });
      return ((await rs.json()) as TokenRow[]).map(toRecord);
    },
    async insert({ hash, record, enroll_id, agent_id }) {
      await client.insert({
        table: 'tokens',
        values: [
          {
            hash,
            id: record.id,
            name: record.name,
            role: record.role,
            created_at: record.created_at,
            uses_max: record.uses_max ?? null,
            expires_at: record.expires_at ?? null,
            enrolled_host: record.enrolled_host ?? null,
            enroll_id: enroll_id ?? null,
            agent_id: agent_id ?? null,
          },
        ],
        format: 'JSONEachRow',
      });
    },
  };
}

export interface ClickHouseTokenOptions {
  /** ms a verified token is trusted without reading it again (default REVOCATION_DELAY_MS) */
  cacheMs?: number;
  /** the cache's clock (ms; tests move it) */
  clock?: () => number;
  /** on a cluster, claims are written to a quorum and read sequentially consistent (consistency.ts) */
  layout?: Layout;
}

export function clickhouseTokenStore(client: ClickHouseClient, opts: ClickHouseTokenOptions = {}): TokenStore {
  const rows = tokenRows(client);
  const claims = new Claims(client, opts.layout);
  const cacheMs = opts.cacheMs ?? REVOCATION_DELAY_MS;
  const clock = opts.clock ?? Date.now;
  const cache = new Map<string, { record: TokenRecord; until: number }>();
  const byHash = (hash: string) => rows.find('hash = {hash:String}', { hash });
  const live = (ts: TokenRecord[]) => ts.find((t) => t.revoked_at === null);

  return {
    async create(role, name, now, limits) {
      const token = newTokenSecret(role);
      const record: TokenRecord = { id: newTokenId(), name, role, created_at: now, revoked_at: null };
      if (role === 'enroll') Object.assign(record, { uses_max: limits?.uses ?? null, uses: 0, expires_at: limits?.expires_at ?? null });
      await rows.insert({ hash: hashToken(token), record });
      return { token, record };
    },
    async adopt(secret, role, name, now) {
      if (role === 'enroll') throw new Error('an enrollment token cannot be adopted');
      const hash = hashToken(secret);
      const before = await byHash(hash);
      const existing = live(before);
      if (existing) return existing;
      // SQLite refuses it too (the hash is unique there): a revoked secret stays revoked
      if (before.length > 0) throw new ConfigError('--admin-token', `token '${before[0]!.id}' with this secret was revoked: choose a new secret`);
      // The id follows from the hash: collectors adopting the same secret at once write the same
      // (hash, id), one row after the ReplacingMergeTree's merge and one record in every read (FINAL).
      const id = 'tok_' + hashToken(`adopt:${hash}`).slice(0, 12);
      await rows.insert({ hash, record: { id, name, role, created_at: now, revoked_at: null } });
      const after = live(await byHash(hash));
      if (!after) throw new Error('adopted token not found after its insert (revoked meanwhile?)');
      return after;
    },
    async verify(token) {
      const hash = hashToken(token);
      const now = clock();
      const hit = cache.get(hash);
      if (hit && hit.until > now) return hit.record;
      const record = live(await byHash(hash)) ?? null;
      if (!record) {
        cache.delete(hash);
        return null;
      }
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(hash, { record, until: now + cacheMs });
      return record;
    },
    async isRevoked(token) {
      return (await byHash(hashToken(token))).some((t) => t.revoked_at !== null);
    },
    list: () => rows.find('1', {}),
    async revoke(id, now) {
      const [t] = await rows.find('id = {id:String}', { id });
      if (!t || t.revoked_at !== null) return false;
      const { won } = await claims.claim('revoke', id, 0, '', now);
      // this collector stops accepting it at once; the others within their cacheMs
      for (const [h, c] of cache) if (c.record.id === id) cache.delete(h);
      return won;
    },
    async countActive(role) {
      return (await rows.find('role = {role:String}', { role })).filter((t) => t.revoked_at === null).length;
    },
    bindHost: (id, host, now) => bindHost(claims, id, host, now),
    bindAgent: (agentId, id, now) => bindAgent(claims, rows, agentId, id, now),
    enroll: (secret, host, agentId, now) => enrollWith(claims, rows, secret, host, agentId, now),
  };
}
