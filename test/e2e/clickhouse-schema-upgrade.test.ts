// Log tables from an older ringtail (issue 16, bad input): refused by the store and by a starting
// collector, before anything is written, with a message that names the command to run; that
// command (run as the message spells it) upgrades them, after which the old lines are read and
// new ones stored exactly once. Today's tables recorded under the old number are accepted as they are.
import { describe, expect, it } from 'vitest';
import { openClient } from '../../collector/storage/clickhouse/connection.js';
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import { WIRE_VERSION, type IngestBatch } from '../../shared/wire.js';
import { chdbForFile } from '../contract/chdb-fixture.js';
import { runRingtail, tempDir } from '../helpers/proc.js';

const chdb = chdbForFile('ringtail-schema-chdb-');

/** the tables as the first ClickHouse log store (commit e8d1058) created them, recorded as version 1 */
const VERSION_1 = [
  `CREATE TABLE ringtail_schema (component String, version UInt32, written_at DateTime DEFAULT now()) ENGINE = ReplacingMergeTree(version) ORDER BY component`,
  `CREATE TABLE logs (
  ts Int64 CODEC(DoubleDelta, ZSTD(1)), host LowCardinality(String), stream_id UInt64 CODEC(ZSTD(1)),
  line_offset UInt64 CODEC(Delta, ZSTD(1)), received_at Int64 CODEC(DoubleDelta, ZSTD(1)), source LowCardinality(String),
  program LowCardinality(Nullable(String)), pid Nullable(UInt32) CODEC(ZSTD(1)), facility Nullable(UInt8), severity UInt8,
  message String CODEC(ZSTD(3)), fields Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  INDEX message_text lowerUTF8(message) TYPE text(tokenizer = 'splitByNonAlpha'),
  INDEX field_keys mapKeys(fields) TYPE bloom_filter(0.01) GRANULARITY 4,
  INDEX field_values mapValues(fields) TYPE bloom_filter(0.01) GRANULARITY 4
) ENGINE = MergeTree PARTITION BY intDiv(ts, 86400000) ORDER BY (host, ts, stream_id, line_offset)
SETTINGS non_replicated_deduplication_window = 10000, enable_block_number_column = 1, enable_block_offset_column = 1, ttl_only_drop_parts = 1`,
  `CREATE TABLE stream_offsets (stream_id UInt64, agent_id SimpleAggregateFunction(max, String), stream SimpleAggregateFunction(max, String),
  committed_end SimpleAggregateFunction(max, UInt64), updated_at SimpleAggregateFunction(max, Int64)) ENGINE = AggregatingMergeTree ORDER BY stream_id`,
  `CREATE MATERIALIZED VIEW logs_stream_ends TO stream_offsets AS
SELECT stream_id, '' AS agent_id, '' AS stream, max(line_offset) + 1 AS committed_end, max(received_at) AS updated_at FROM logs GROUP BY stream_id`,
  `CREATE TABLE hosts (host String, first_seen SimpleAggregateFunction(min, Int64), last_seen SimpleAggregateFunction(max, Int64)) ENGINE = AggregatingMergeTree ORDER BY host`,
  `INSERT INTO ringtail_schema (component, version) VALUES ('logs', 1)`,
  `INSERT INTO logs (ts, host, stream_id, line_offset, received_at, source, program, severity, message, fields)
   VALUES (1764000000000, 'old-host', 42, 0, 1764000000100, '/var/log/syslog', 'cron', 6, 'a line from before the upgrade', map('k', 'v'))`,
];

async function sql(database: string, statements: string[]): Promise<void> {
  const admin = openClient({ url: chdb.server.url, database: 'default' });
  const c = openClient({ url: chdb.server.url, database }, database);
  try {
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    for (const q of statements) await c.command({ query: q });
  } finally {
    await admin.close();
    await c.close();
  }
}

async function columns(database: string): Promise<string[]> {
  const c = openClient({ url: chdb.server.url, database }, database);
  try {
    const rs = await c.query({ query: `SELECT name FROM system.columns WHERE database = '${database}' AND table = 'logs' ORDER BY position`, format: 'JSONEachRow' });
    return ((await rs.json()) as Array<{ name: string }>).map((r) => r.name);
  } finally {
    await c.close();
  }
}

const batch = (offset: number): IngestBatch => ({
  version: WIRE_VERSION,
  agent_id: 'agt-up',
  host: 'new-host',
  segments: [{ stream: 's1', source: '/var/log/app.log', start: offset, end: offset + 20, lines: [{ offset, ts: 1764000001000, severity: 4, message: 'a line after the upgrade' }] }],
});

describe('ClickHouse log tables from an older ringtail', () => {
  it('are refused (store and collector) with the command to run, which upgrades them; old lines stay, new ones are stored once', async () => {
    await sql('old_v1', VERSION_1);
    const before = await columns('old_v1');
    expect(before).not.toContain('range_end');

    const command = `ringtail migrate --upgrade-schema --storage clickhouse --clickhouse-url ${chdb.server.url} --clickhouse-database old_v1`;
    await expect(openClickHouseLogStore({ url: chdb.server.url, database: 'old_v1' })).rejects.toThrow(
      `ClickHouse database 'old_v1' holds log schema version 1, written by an older ringtail (this one reads version 2; nothing was changed): stop the collectors that use it, run \`${command}\`, then start them again`,
    );
    const data = tempDir('ringtail-schema-');
    try {
      const collector = await runRingtail(['collector', '--data', data.path, '--listen', '127.0.0.1:0', '--admin-token', 'rt_admin_schema_upgrade_0123456789', '--storage', 'clickhouse', '--clickhouse-url', chdb.server.url, '--clickhouse-database', 'old_v1']);
      expect(collector.code).not.toBe(0);
      expect(collector.stderr).toContain('RINGTAIL_ERR_STORAGE');
      expect(collector.stderr).toContain(`run \`${command}\``);
    } finally {
      data.cleanup();
    }
    expect(await columns('old_v1')).toEqual(before); // refused before anything was written

    // the command exactly as the message spells it
    const run = await runRingtail(command.split(' ').slice(1));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('log schema upgraded from version 1 to 2');
    expect(await columns('old_v1')).toContain('range_end');
    expect((await runRingtail(command.split(' ').slice(1))).stdout).toContain('log schema already version 2');

    const store = await openClickHouseLogStore({ url: chdb.server.url, database: 'old_v1' });
    try {
      expect((await store.since(0, 10)).map((l) => [l.host, l.message, l.fields])).toEqual([['old-host', 'a line from before the upgrade', { k: 'v' }]]);
      expect(await store.ingest(batch(100), 1764000001100)).toEqual({ accepted: 1, duplicates: 0, committed: { s1: 120 } });
      expect(await store.ingest(batch(100), 1764000001200)).toEqual({ accepted: 0, duplicates: 1, committed: { s1: 120 } });
      expect((await store.since(0, 10)).map((l) => l.message).sort()).toEqual(['a line after the upgrade', 'a line from before the upgrade']);
    } finally {
      await store.close();
    }
  }, 180_000);

  it("accept today's tables recorded as version 1 (range_end present) without a command, and leave the record as it is", async () => {
    await (await openClickHouseLogStore({ url: chdb.server.url, database: 'cur_v1' })).close();
    await sql('cur_v1', ['TRUNCATE TABLE ringtail_schema', `INSERT INTO ringtail_schema (component, version) VALUES ('logs', 1)`]);
    const store = await openClickHouseLogStore({ url: chdb.server.url, database: 'cur_v1' });
    try {
      expect(await store.ingest(batch(0), 1764000001100)).toEqual({ accepted: 1, duplicates: 0, committed: { s1: 20 } });
    } finally {
      await store.close();
    }
    const c = openClient({ url: chdb.server.url, database: 'cur_v1' }, 'cur_v1');
    try {
      const rs = await c.query({ query: `SELECT max(version) AS v FROM ringtail_schema WHERE component = 'logs'`, format: 'JSONEachRow' });
      expect(Number(((await rs.json()) as Array<{ v: number }>)[0]!.v)).toBe(1);
    } finally {
      await c.close();
    }
  }, 120_000);
});
