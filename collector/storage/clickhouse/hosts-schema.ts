// The host lifecycle tables on ClickHouse (--storage clickhouse): every collector's view of every
// host, so that any collector lists the whole fleet with its states (collector/hosts/,
// docs/scale-out.md "Host states on ClickHouse").
//
// ClickHouse has no UPDATE in place and several collectors write one host's record, each from
// its own memory: a collector that hears a host moves last_seen, the designated evaluator moves
// the state, an operator retires it through any collector. `host_state` therefore keeps, per
// host, what merging every write gives, column by column (AggregatingMergeTree; reads GROUP BY
// host with the same functions, so the answer is the same whatever merges have run):
//   - first_seen min, last_seen max, sources the union;
//   - the state of the newest transition: max of (state_since, tie, state) (types.ts HOST_STATE_TIE);
//   - what the agent declared last: max of (agent_at, agent_id, ephemeral, interval_ms or -1);
//   - written: when the row was inserted, on the ClickHouse server's clock (the pull's watermark,
//     one clock for every collector).
// A forgotten or purged host gets a tombstone in `host_forgotten` (the last_seen it covers):
// rows at or before it are left out of every read, so a collector that saves its old record
// after the forget (it had not pulled the tombstone yet) does not bring the host back; a host
// heard again after it is a new record. Transitions are append-only, deduplicated per save.
import type { ClickHouseClient } from '@clickhouse/client';
import { ensureComponent } from './component-schema.js';
import type { Layout } from './layout.js';

export const HOSTS_SCHEMA_VERSION = 1;
/** how long transitions are kept (SQLite keeps the newest 200 per host instead) */
export const HOST_EVENTS_TTL_DAYS = 30;

export const HOSTS_TABLES = [
  `CREATE TABLE IF NOT EXISTS host_state (
  host String,
  first_seen SimpleAggregateFunction(min, Int64),
  last_seen SimpleAggregateFunction(max, Int64),
  state SimpleAggregateFunction(max, Tuple(Int64, UInt8, String)),
  agent SimpleAggregateFunction(max, Tuple(Int64, String, UInt8, Int64)),
  sources SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
  written SimpleAggregateFunction(max, Int64) DEFAULT toUnixTimestamp64Milli(now64(3))
) ENGINE = AggregatingMergeTree ORDER BY host`,
  `CREATE TABLE IF NOT EXISTS host_forgotten (host String, at Int64, written Int64 DEFAULT toUnixTimestamp64Milli(now64(3)))
ENGINE = ReplacingMergeTree(at) ORDER BY host`,
  `CREATE TABLE IF NOT EXISTS host_events (host String, ts Int64, seq UInt64, from_state LowCardinality(String), to_state LowCardinality(String))
ENGINE = MergeTree ORDER BY (host, ts, seq) TTL toDateTime(intDiv(ts, 1000)) + INTERVAL ${HOST_EVENTS_TTL_DAYS} DAY
SETTINGS non_replicated_deduplication_window = 1000`,
  `CREATE TABLE IF NOT EXISTS host_meta (key String, value Int64, v UInt64) ENGINE = ReplacingMergeTree(v) ORDER BY key`,
];

/** Creates the host tables, or refuses a newer ringtail's (a message saying what to do). */
export async function ensureHostsSchema(client: ClickHouseClient, database: string, layout?: Layout): Promise<void> {
  await ensureComponent(client, database, 'hosts', 'host state', HOSTS_SCHEMA_VERSION, HOSTS_TABLES, layout);
}
