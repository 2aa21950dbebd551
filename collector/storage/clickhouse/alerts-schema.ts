// The alert tables on ClickHouse (--storage clickhouse): the alert state that several collectors
// share, so that a standby evaluator takes over from the states, outbox and silences the
// evaluating collector left (collector/alerts/leader.ts, docs/scale-out.md).
//
// ClickHouse has no UPDATE in place and no transactions: every table that changes is a
// ReplacingMergeTree whose rows are versions of a key (`v`, increasing), a removal is a version
// with `deleted = 1`, and reads take each key's newest version (argMax by v, GROUP BY the key:
// unambiguous whatever merges have run). History is append-only. The evaluator lease is the
// metric lease's protocol (metrics-lease.ts) with one owner: the highest epoch holds, claims are
// deduplicated by insert token.
import type { ClickHouseClient } from '@clickhouse/client';
import { ensureComponent } from './component-schema.js';
import type { Layout } from './layout.js';

export const ALERTS_SCHEMA_VERSION = 1;

/** the alert tables, as ensureAlertsSchema creates them (on one server) */
export const ALERTS_TABLES: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS alert_rules (name String, spec String, deleted UInt8, updated_at Int64, v UInt64)
ENGINE = ReplacingMergeTree(v) ORDER BY name`,
  // the instance state as JSON (InstanceState): read whole, written whole
  `CREATE TABLE IF NOT EXISTS alert_state (rule String, host String, series String, state String, deleted UInt8, v UInt64)
ENGINE = ReplacingMergeTree(v) ORDER BY (rule, host, series)`,
  `CREATE TABLE IF NOT EXISTS alert_history (id UInt64, at Int64, rule String, host String, series String, event LowCardinality(String),
  severity Nullable(String), value Nullable(Float64)) ENGINE = MergeTree ORDER BY id`,
  `CREATE TABLE IF NOT EXISTS alert_silences (id String, silence String, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY id`,
  // keyed by the notification's id (derived from the transition, alerts/webhook-ids.ts): two
  // collectors queuing the same notification make one row
  `CREATE TABLE IF NOT EXISTS alert_outbox (id String, seq UInt64, notifier String, rule String, body String CODEC(ZSTD(3)),
  created_at Int64, attempts UInt32, next_at Int64, state LowCardinality(String), last_status Nullable(Int32),
  last_error Nullable(String), done_at Nullable(Int64), deleted UInt8, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY id`,
  `CREATE TABLE IF NOT EXISTS alert_notifiers (name String, url String, disabled_at Nullable(Int64), reason String, v UInt64)
ENGINE = ReplacingMergeTree(v) ORDER BY name`,
  `CREATE TABLE IF NOT EXISTS alert_leases (epoch UInt64, collector String, expires_ms Int64, written_ms Int64)
ENGINE = MergeTree ORDER BY (epoch, written_ms) SETTINGS non_replicated_deduplication_window = 1000`,
];

/** Creates the alert tables, or refuses a newer ringtail's (a message saying what to do). */
export async function ensureAlertsSchema(client: ClickHouseClient, database: string, layout?: Layout): Promise<void> {
  await ensureComponent(client, database, 'alerts', 'alerts', ALERTS_SCHEMA_VERSION, ALERTS_TABLES, layout);
}
