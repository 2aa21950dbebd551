// The ClickHouse tables of the log store, in the style of the field's log stores (SigNoz,
// ClickStack, the OpenTelemetry exporter): one MergeTree table partitioned by day and sorted for
// "this host, this time range", a text index over the message, structured fields as a Map.
//
// Exactly once (a line's identity is its stream and byte offset, stream_id = a hash of
// (agent_id, stream)):
//   - every INSERT into logs carries an insert_deduplication_token naming the (stream, range)
//     list it holds, and the table keeps the last non_replicated_deduplication_window tokens,
//     so the same insert sent twice (a retry after a timeout) is stored once;
//   - stream_offsets keeps each stream's committed end (max of all rows: an
//     AggregatingMergeTree, so concurrent writers and retries only ever raise it). It is fed
//     twice: by the materialized view below, in the same INSERT that stores the lines (every
//     row carries `range_end`, the end of the segment it came in: one value per run of rows,
//     which the codec stores in next to nothing), and by an explicit row per segment after the
//     lines are in (segments without new lines advance the end too). A collector that dies
//     between the two still leaves the view's end behind, so a redelivery of those lines, in
//     any batching, is dropped line by line, and the ack names a byte offset at a line start.
//
// Line ids (LogItem.id) on one server are `_block_number * 2^20 + _block_offset`: a MergeTree
// assigns block numbers when a part is committed, in commit order, and enable_block_number_column
// keeps them through merges. They order the live tail without a dense id column (ids.ts). On a
// cluster the tail reads a window of received_at instead (tail-feed.ts), which the minmax index
// on received_at keeps to the newest parts.
import type { ClickHouseClient } from '@clickhouse/client';
import { ConfigError, ErrorCodes, RingtailError } from '../../../shared/errors.js';
import { runDdl, SCHEMA_TABLE } from './component-schema.js';
import { DEFAULT_ZK_PREFIX, type Layout } from './layout.js';

/**
 * The schema this code reads and writes; raise it with a MIGRATIONS entry.
 *   1: the first tables: logs without range_end, the stream-end view taking max(line_offset) + 1
 *   2: logs.range_end (the end of the segment a row came in), which the view takes instead.
 * Ringtail recorded the second shape as version 1 too for a while: a version 1 whose logs table
 * has range_end is read as 2 (and left recorded as 1, which the ringtails that wrote it still read).
 */
export const SCHEMA_VERSION = 2;

const STREAM_ENDS_VIEW = `CREATE MATERIALIZED VIEW IF NOT EXISTS logs_stream_ends TO stream_offsets AS
SELECT stream_id, '' AS agent_id, '' AS stream, max(range_end) AS committed_end, max(received_at) AS updated_at
FROM logs GROUP BY stream_id`;

/**
 * Statements that bring a schema from version v (the key) to v + 1. They run only when asked
 * (upgradeCommand), with the collectors that share the database stopped: a collector storing
 * lines while the view is replaced would leave their stream ends to the explicit rows alone.
 */
const MIGRATIONS: Record<number, string[]> = {
  // rows stored before keep the end the old view gave them: just after their own line
  1: [
    'ALTER TABLE logs ADD COLUMN IF NOT EXISTS range_end UInt64 DEFAULT line_offset + 1 CODEC(Delta, ZSTD(1)) AFTER line_offset',
    'DROP VIEW IF EXISTS logs_stream_ends',
    STREAM_ENDS_VIEW,
  ],
};

/** what to run to bring a database's log tables to this ringtail's schema (named by the refusal) */
export function upgradeCommand(url: string, database: string, layout?: Layout): string {
  const cluster = layout ? ` --clickhouse-cluster ${layout.cluster}${layout.zkPrefix !== DEFAULT_ZK_PREFIX ? ` --clickhouse-zookeeper-path '${layout.zkPrefix}'` : ''}` : '';
  return `ringtail migrate --upgrade-schema --storage clickhouse --clickhouse-url ${url} --clickhouse-database ${database}${cluster}`;
}

/** ClickHouse identifiers ringtail writes itself into DDL (the only names not bound as parameters) */
export function checkDatabaseName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
    throw new ConfigError('clickhouse.database', `'${name}' is not a plain identifier (letters, digits, _; not starting with a digit)`);
  }
  return name;
}

/** `clickhouse.ttl_days`, the log and metric tables' retention: absent, or whole days, at least 1 */
export function checkTtlDays(days: number | undefined): void {
  if (days !== undefined && !(Number.isInteger(days) && days >= 1)) {
    throw new ConfigError('clickhouse.ttl_days', `expected a whole number of days, at least 1, got ${days}`);
  }
}

/** how many recent insert tokens the logs table remembers (a retry must come within these) */
export const DEDUP_WINDOW = 10_000;

function ttlClause(days: number): string {
  return `toDateTime(intDiv(ts, 1000)) + toIntervalDay(${days})`;
}

/** a new retention for the lines of an existing logs table */
export function logsTtlSql(days: number): string {
  return `ALTER TABLE logs MODIFY TTL ${ttlClause(days)}`;
}

export function logsTableSql(ttlDays?: number): string {
  return `CREATE TABLE IF NOT EXISTS logs (
  ts Int64 CODEC(DoubleDelta, ZSTD(1)),
  host LowCardinality(String),
  stream_id UInt64 CODEC(ZSTD(1)),
  line_offset UInt64 CODEC(Delta, ZSTD(1)),
  range_end UInt64 CODEC(Delta, ZSTD(1)),
  received_at Int64 CODEC(DoubleDelta, ZSTD(1)),
  source LowCardinality(String),
  program LowCardinality(Nullable(String)),
  pid Nullable(UInt32) CODEC(ZSTD(1)),
  facility Nullable(UInt8),
  severity UInt8,
  message String CODEC(ZSTD(3)),
  fields Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  INDEX message_text lowerUTF8(message) TYPE text(tokenizer = 'splitByNonAlpha'),
  INDEX field_keys mapKeys(fields) TYPE bloom_filter(0.01) GRANULARITY 4,
  INDEX field_values mapValues(fields) TYPE bloom_filter(0.01) GRANULARITY 4,
  INDEX received_minmax received_at TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY intDiv(ts, 86400000)
ORDER BY (host, ts, stream_id, line_offset)${ttlDays !== undefined ? `\nTTL ${ttlClause(ttlDays)}` : ''}
SETTINGS non_replicated_deduplication_window = ${DEDUP_WINDOW}, enable_block_number_column = 1, enable_block_offset_column = 1, ttl_only_drop_parts = 1`;
}

/** the log tables, as ensureSchema creates them on a new database (on one server) */
export function logsStatements(ttlDays?: number): string[] {
  return [SCHEMA_TABLE, logsTableSql(ttlDays), ...STATEMENTS];
}

const STATEMENTS = [
  `CREATE TABLE IF NOT EXISTS stream_offsets (
  stream_id UInt64,
  agent_id SimpleAggregateFunction(max, String),
  stream SimpleAggregateFunction(max, String),
  committed_end SimpleAggregateFunction(max, UInt64),
  updated_at SimpleAggregateFunction(max, Int64)
) ENGINE = AggregatingMergeTree ORDER BY stream_id`,
  STREAM_ENDS_VIEW,
  `CREATE TABLE IF NOT EXISTS hosts (
  host String,
  first_seen SimpleAggregateFunction(min, Int64),
  last_seen SimpleAggregateFunction(max, Int64)
) ENGINE = AggregatingMergeTree ORDER BY host`,
];

async function hasColumn(client: ClickHouseClient, database: string, table: string, column: string): Promise<boolean> {
  const rs = await client.query({
    query: 'SELECT count() AS n FROM system.columns WHERE database = {db:String} AND table = {t:String} AND name = {c:String}',
    query_params: { db: database, t: table, c: column },
    format: 'JSONEachRow',
  });
  return Number(((await rs.json()) as Array<{ n: number | string }>)[0]?.n ?? 0) > 0;
}

export interface SchemaOptions {
  ttlDays?: number;
  /** the server's URL without credentials, for the refusal's command */
  url: string;
  /** run the migrations of an older schema (`ringtail migrate --upgrade-schema`); else refuse it */
  upgrade?: boolean;
  /** one server (undefined) or a cluster (layout.ts) */
  layout?: Layout;
}

/**
 * Creates the tables in `client`'s database, or checks that the ones there are this version's,
 * and returns the version found (0: none). A schema from another ringtail is refused, before
 * anything is written, with a message that says what to do: an older one names the command that
 * upgrades it (or is upgraded, with `upgrade`), a newer one or tables that ringtail did not
 * create are left alone.
 */
export async function ensureSchema(client: ClickHouseClient, database: string, opts: SchemaOptions): Promise<number> {
  const ttlDays = opts.ttlDays;
  const layout = opts.layout;
  const found = await client.query({
    query: `SELECT name, engine FROM system.tables WHERE database = {db:String} AND name IN ('logs', 'ringtail_schema')`,
    query_params: { db: database },
    format: 'JSONEachRow',
  });
  const tables = (await found.json()) as Array<{ name: string; engine: string }>;
  const names = new Set(tables.map((r) => r.name));
  // a cluster's logs is a Distributed table over the shards' logs_local (layout.ts): the layout
  // the tables were made for must be the one configured, else reads would miss the other shards
  // or inserts go to one server's table
  const logsEngine = tables.find((r) => r.name === 'logs')?.engine;
  if (logsEngine !== undefined && (logsEngine === 'Distributed') !== (layout !== undefined)) {
    throw new RingtailError(
      ErrorCodes.STORAGE,
      layout
        ? `ClickHouse database '${database}' holds single-server log tables (logs is a ${logsEngine} table), not a cluster's: leave clickhouse.cluster unset for it, or use another --clickhouse-database for the cluster '${layout.cluster}'`
        : `ClickHouse database '${database}' holds a cluster's log tables (logs is a Distributed table): set clickhouse.cluster to the cluster's name (--clickhouse-cluster), or use another --clickhouse-database`,
      500,
    );
  }
  let recorded = 0;
  if (names.has('ringtail_schema')) {
    const rs = await client.query({ query: `SELECT max(version) AS v FROM ringtail_schema WHERE component = 'logs'`, format: 'JSONEachRow' });
    recorded = Number(((await rs.json()) as Array<{ v: number | string }>)[0]?.v ?? 0);
  }
  // (with ringtail_schema but no logs entry, the tables' creation was cut short: it goes on below)
  if (!names.has('ringtail_schema') && names.has('logs')) {
    throw new RingtailError(
      ErrorCodes.STORAGE,
      `ClickHouse database '${database}' has a logs table that ringtail did not record creating (no ringtail_schema table): use another --clickhouse-database, or drop that table if it is a leftover`,
      500,
    );
  }
  const version = recorded === 1 && (await hasColumn(client, database, 'logs', 'range_end')) ? 2 : recorded;
  if (version > SCHEMA_VERSION) {
    throw new RingtailError(
      ErrorCodes.STORAGE,
      `ClickHouse database '${database}' holds log schema version ${version}, written by a newer ringtail (this one reads version ${SCHEMA_VERSION}): upgrade ringtail, or point --clickhouse-database at another database`,
      500,
    );
  }
  if (version > 0 && version < SCHEMA_VERSION && !opts.upgrade) {
    throw new RingtailError(
      ErrorCodes.STORAGE,
      `ClickHouse database '${database}' holds log schema version ${version}, written by an older ringtail (this one reads version ${SCHEMA_VERSION}; nothing was changed): stop the collectors that use it, run \`${upgradeCommand(opts.url, database, layout)}\`, then start them again`,
      500,
    );
  }
  if (version === 0) {
    for (const q of logsStatements(ttlDays)) await runDdl(client, q, layout);
  } else {
    for (let v = version; v < SCHEMA_VERSION; v++) for (const q of MIGRATIONS[v] ?? []) await runDdl(client, q, layout);
    if (ttlDays !== undefined) {
      // metadata only: parts past the new limit go as merges and TTL checks reach them
      await runDdl(client, logsTtlSql(ttlDays), layout, { materialize_ttl_after_modify: 0 });
    }
  }
  // a version 1 in today's shape stays recorded as 1: the ringtails that wrote it still read it
  if (version !== SCHEMA_VERSION) {
    await client.insert({ table: 'ringtail_schema', values: [{ component: 'logs', version: SCHEMA_VERSION }], format: 'JSONEachRow' });
  }
  return version;
}
