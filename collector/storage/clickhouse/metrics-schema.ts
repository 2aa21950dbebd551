// The ClickHouse tables of the metric series store (issue 16, item 3). ClickHouse keeps what the
// collector computed with rrdtool's arithmetic; it does not consolidate anything itself (a
// materialized-view rollup cannot reproduce PDP interpolation, heartbeats or xff):
//   - metric_series: one row per series name, its definition (JSON) and start; the newest
//     version of a name wins, and a delete is a row with `deleted = 1` (ReplacingMergeTree with
//     is_deleted). A re-created name gets a new random `id`, so the old series' rows and state
//     never show through.
//   - metric_state: rrdtool's live head and cdp_prep per series id, with a version raised by
//     every write; the highest version is the state.
//   - metric_rows: archive rows keyed by (id, rra, time), time being the row's end: the same
//     row written twice (a retry, a collector restarted on the same updates) replaces itself.
//     Rows that fell out of an archive's window are ignored by reads (see metrics.ts) and
//     dropped by the table's TTL: each row carries `expires`, the wall-clock time it was written
//     + its archive's span (rows × seconds per row): a series updated as time passes has pushed
//     the row out of its ring by then (the row's own time would drop at once the rows of a
//     series fed old timestamps, which rrdtool keeps). A series not updated for longer than an
//     archive's span loses that archive's rows, where rrdtool would keep the last ring. With a
//     retention (ttlDays) a row goes at the earlier of that and its own time + ttlDays.
//   - metric_leases: which collector consolidates a host's series (metrics-lease.ts). A claim
//     of lease epoch n carries the insert_deduplication_token `lease:<host>:<n>`: of several
//     collectors claiming the same epoch at once the table keeps the first claim only. Renewals
//     add a row per host every half lease, and hosts that left would keep theirs forever: rows
//     written more than LEASE_ROLLUP_DAYS ago are rolled up by the table's TTL (GROUP BY owner)
//     into one row per host that keeps what a reader takes from them: the highest epoch, its
//     collector and the expiry written last. Not deleted: the epoch fences the host's series
//     versions (metrics.ts), so a host that comes back must be claimed above it, never at 1.
import type { ClickHouseClient } from '@clickhouse/client';
import { recordedVersion, recordVersion, refuseNewer, runDdl } from './component-schema.js';
import type { Layout } from './layout.js';

/**
 * the metric schema this code reads and writes (ringtail_schema, component 'metrics')
 *   2: metric_rows.expires and its TTL
 *   3: metric_leases' TTL rolling old lease rows up into one per host
 */
export const METRICS_SCHEMA_VERSION = 3;

/**
 * A version-1 row's lifetime, which it did not record: from the migration, a year and a day (the
 * default host layout's longest archive, 10 s × 360 × 8784); rows written since carry their own.
 */
const V1_ROW_SPAN_S = 31_622_400;

/** statements that bring the metric schema from version v (the key) to v + 1 */
const MIGRATIONS: Record<number, (ttlDays?: number) => string[]> = {
  1: (ttlDays) => [
    `ALTER TABLE metric_rows ADD COLUMN IF NOT EXISTS expires Int64 DEFAULT ${Math.floor(Date.now() / 1000) + V1_ROW_SPAN_S} CODEC(Delta, ZSTD(1))`,
    `ALTER TABLE metric_rows MODIFY TTL ${rowsTtl(ttlDays)}`,
  ],
  // the rows already there are rolled up as the TTL is materialized (a mutation, in the background)
  2: () => [`ALTER TABLE metric_leases MODIFY ${LEASES_TTL}`],
};

/** the statements that bring the metric schema from `from` to this version */
export function metricsMigrations(from: number, ttlDays?: number): string[] {
  const out: string[] = [];
  for (let v = from; v < METRICS_SCHEMA_VERSION; v++) out.push(...(MIGRATIONS[v]?.(ttlDays) ?? []));
  return out;
}

/** lease rows older than this are rolled up (a lease lasts seconds: only the newest row of an epoch says anything) */
export const LEASE_ROLLUP_DAYS = 1;

const LEASES_TTL = `TTL toDateTime(intDiv(written_ms, 1000)) + toIntervalDay(${LEASE_ROLLUP_DAYS}) GROUP BY owner
SET epoch = max(epoch), collector = argMax(collector, epoch), expires_ms = argMax(expires_ms, written_ms), written_ms = max(written_ms)`;

/** when a row goes: past its archive's window, or past the retention when there is one */
export function rowsTtl(ttlDays?: number): string {
  return ttlDays === undefined ? 'toDateTime(expires)' : `least(toDateTime(expires), toDateTime(time) + toIntervalDay(${ttlDays}))`;
}

/** how many recent insert tokens metric_leases remembers (claims race within milliseconds) */
export const LEASE_DEDUP_WINDOW = 10_000;

/** the metric tables, as ensureMetricsSchema creates them on a new database (on one server) */
export const metricsTables = (ttlDays?: number): string[] => [
  `CREATE TABLE IF NOT EXISTS metric_series (
  name String,
  id UInt64,
  def String CODEC(ZSTD(1)),
  start Int64,
  version UInt64,
  deleted UInt8
) ENGINE = ReplacingMergeTree(version, deleted) ORDER BY name`,
  `CREATE TABLE IF NOT EXISTS metric_state (
  id UInt64,
  version UInt64,
  last_up Int64,
  state String CODEC(ZSTD(1)),
  writer LowCardinality(String)
) ENGINE = ReplacingMergeTree(version) ORDER BY id`,
  `CREATE TABLE IF NOT EXISTS metric_rows (
  id UInt64,
  rra UInt8,
  time Int64 CODEC(Delta, ZSTD(1)),
  values Array(Float64) CODEC(ZSTD(1)),
  version UInt64 CODEC(Delta, ZSTD(1)),
  expires Int64 CODEC(Delta, ZSTD(1))
) ENGINE = ReplacingMergeTree(version) ORDER BY (id, rra, time)
TTL ${rowsTtl(ttlDays)}`,
  `CREATE TABLE IF NOT EXISTS metric_leases (
  owner String,
  epoch UInt64,
  collector String,
  expires_ms Int64,
  written_ms Int64
) ENGINE = MergeTree ORDER BY (owner, epoch)
${LEASES_TTL}
SETTINGS non_replicated_deduplication_window = ${LEASE_DEDUP_WINDOW}`,
];

/** Creates the metric tables, or checks that the ones there are this version's (a newer one is refused). */
export async function ensureMetricsSchema(client: ClickHouseClient, database: string, ttlDays?: number, layout?: Layout): Promise<void> {
  const version = await recordedVersion(client, 'metrics', layout);
  refuseNewer(database, 'metric', version, METRICS_SCHEMA_VERSION);
  if (version === 0) {
    for (const q of metricsTables(ttlDays)) await runDdl(client, q, layout);
  } else {
    for (const q of metricsMigrations(version, ttlDays)) await runDdl(client, q, layout);
    for (const q of metricsTables(ttlDays)) await runDdl(client, q, layout); // tables added since (IF NOT EXISTS)
    // metadata only: rows past a new limit go as merges and TTL checks reach them
    await runDdl(client, `ALTER TABLE metric_rows MODIFY TTL ${rowsTtl(ttlDays)}`, layout, { materialize_ttl_after_modify: 0 });
  }
  if (version !== METRICS_SCHEMA_VERSION) {
    await recordVersion(client, 'metrics', METRICS_SCHEMA_VERSION);
  }
}
