// The tables several collectors share for API tokens, enrollment, bindings and dashboard
// sessions (--storage clickhouse). Nothing here is updated in place: ClickHouse has no
// transactions and no row locks, so every change is a row appended, and every decision that must
// be made once across collectors (a use of an enrollment token, a revocation, the host a token is
// bound to, the token an agent_id belongs to) is a claim in `claims` (claims.ts).
//
//   - tokens: one row per token, keyed by the SHA-256 of its secret (never the secret) and its
//     id. A ReplacingMergeTree, so the same secret adopted by two collectors at once
//     (--admin-token; its id is derived from the hash) is one token.
//   - claims: (kind, key, seq) slots; the first row committed for a slot wins. MergeTree block
//     numbers are handed out in commit order and kept through merges (enable_block_number_column),
//     so "first" is the row with the smallest _block_number and no later insert can change it.
//     Insert deduplication per slot keeps retries and lost races from piling up rows.
//   - dashboard_sessions: an AggregatingMergeTree of each session's newest state (max of every
//     column): creation, "last used" touches and the logout tombstone are rows, merged by max.
import type { ClickHouseClient } from '@clickhouse/client';
import { ensureComponent } from './component-schema.js';
import type { Layout } from './layout.js';

export const AUTH_SCHEMA_VERSION = 1;

/** recent insert tokens each table remembers (a retried claim lands within these) */
const DEDUP_WINDOW = 1_000;

/** the auth tables, as ensureAuthSchema creates them (on one server) */
export const AUTH_TABLES: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS tokens (
  hash String,
  id String,
  name String,
  role LowCardinality(String),
  created_at Int64,
  uses_max Nullable(UInt32),
  expires_at Nullable(Int64),
  enrolled_host Nullable(String),
  enroll_id Nullable(String),
  agent_id Nullable(String),
  INDEX token_id id TYPE bloom_filter GRANULARITY 1
) ENGINE = ReplacingMergeTree ORDER BY (hash, id)`,
  `CREATE TABLE IF NOT EXISTS claims (
  kind LowCardinality(String),
  key String,
  seq UInt32,
  value String,
  claimer String,
  at Int64
) ENGINE = MergeTree ORDER BY (kind, key, seq)
SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}, enable_block_number_column = 1`,
  `CREATE TABLE IF NOT EXISTS dashboard_sessions (
  id_hash String,
  token_id SimpleAggregateFunction(max, String),
  csrf SimpleAggregateFunction(max, String),
  created_at SimpleAggregateFunction(max, Int64),
  expires_at SimpleAggregateFunction(max, Int64),
  last_used SimpleAggregateFunction(max, Int64),
  ended SimpleAggregateFunction(max, UInt8)
) ENGINE = AggregatingMergeTree ORDER BY id_hash`,
];

/**
 * Creates the shared auth tables (idempotent: several collectors may start at once), or refuses
 * a database whose auth tables a newer ringtail wrote.
 */
export async function ensureAuthSchema(client: ClickHouseClient, database: string, layout?: Layout): Promise<void> {
  await ensureComponent(client, database, 'auth', 'auth', AUTH_SCHEMA_VERSION, AUTH_TABLES, layout);
}
