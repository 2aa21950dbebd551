// The schema statements ringtail issues on ClickHouse (collector/storage/clickhouse/ddl.ts,
// layout.ts): on one server exactly those of commit 44d9462, from before the cluster layout
// (test/fixtures/clickhouse-ddl-44d9462.json), but metric_leases' new TTL and logs' minmax index
// on received_at; on a cluster every
// table's statement rewritten as layout.ts says. Whether a real engine takes the cluster forms is
// test/contract/clickhouse-cluster-ddl.test.ts (chdb cannot run a cluster: it has no distributed
// DDL queue and no Keeper, so no ON CLUSTER statement runs there).
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ddlText, schemaDdl } from '../../collector/storage/clickhouse/ddl.js';
import { deleteHostLinesSql } from '../../collector/storage/clickhouse/hosts.js';
import { checkClusterName, DEFAULT_ZK_PREFIX, forLayout, layoutOf, type ClusterLayout } from '../../collector/storage/clickhouse/layout.js';
import { LEASE_ROLLUP_DAYS } from '../../collector/storage/clickhouse/metrics-schema.js';
import { upgradeCommand } from '../../collector/storage/clickhouse/schema.js';
import { runClickhouse } from '../../cli/commands/clickhouse.js';
import { sharedStorage } from '../../cli/commands/rrd-shared.js';
import { loadOptions } from '../../cli/options.js';
import { CollectorConfig } from '../../collector/config.js';
import { checkStorage, storageConfig } from '../../collector/storage/factory.js';
import { ErrorCodes } from '../../shared/errors.js';

const before = JSON.parse(readFileSync(new URL('../fixtures/clickhouse-ddl-44d9462.json', import.meta.url), 'utf8')) as Record<string, string[]>;
const LEASES_TTL = `TTL toDateTime(intDiv(written_ms, 1000)) + toIntervalDay(${LEASE_ROLLUP_DAYS}) GROUP BY owner
SET epoch = max(epoch), collector = argMax(collector, epoch), expires_ms = argMax(expires_ms, written_ms), written_ms = max(written_ms)`;

const group = (ttlDays: number | undefined, title: string) => schemaDdl('db', undefined, ttlDays).find((g) => g.title.includes(title))!.statements;

describe('one server (no cluster)', () => {
  it.each([
    ['auth', undefined, 'component auth'],
    ['alerts', undefined, 'component alerts'],
  ] as const)('%s: the statements of 44d9462, byte for byte', (key, ttl, title) => {
    expect(group(ttl, title)).toEqual(before[key]);
  });

  it.each([
    ['logs', undefined],
    ['logs_ttl7', 7],
  ] as const)('%s: those of 44d9462 but logs, which gains the minmax index on received_at (the cluster tail window)', (key, ttl) => {
    const index = '  INDEX field_values mapValues(fields) TYPE bloom_filter(0.01) GRANULARITY 4';
    const old = before[key]!.map((s) => (s.startsWith('CREATE TABLE IF NOT EXISTS logs (') ? s.replace(`${index}\n)`, `${index},\n  INDEX received_minmax received_at TYPE minmax GRANULARITY 1\n)`) : s));
    expect(old).not.toEqual(before[key]);
    expect(group(ttl, 'component logs')).toEqual(old);
  });

  it.each([
    ['metrics', undefined],
    ['metrics_ttl7', 7],
  ] as const)('%s: those of 44d9462 but metric_leases, which gains its roll-up TTL', (key, ttl) => {
    const old = before[key]!.map((s) => (s.startsWith('CREATE TABLE IF NOT EXISTS metric_leases') ? s.replace('\nSETTINGS', `\n${LEASES_TTL}\nSETTINGS`) : s));
    expect(old).not.toEqual(before[key]);
    expect(group(ttl, 'component metrics')).toEqual(old);
  });

  it('carries no ON CLUSTER and no replicated engine', () => {
    const text = ddlText(schemaDdl('db', undefined));
    expect(text).not.toMatch(/ON CLUSTER|Replicated|Distributed/);
  });
});

const L: ClusterLayout = { cluster: 'ch_main', zkPrefix: '/clickhouse/ringtail/{database}', database: 'db' };
const single = schemaDdl('db', undefined).flatMap((g) => g.statements);
const cluster = schemaDdl('db', L).flatMap((g) => g.statements);
const tableName = (s: string) => /^CREATE TABLE IF NOT EXISTS (\w+)/.exec(s)?.[1];
// every table ringtail creates, and where it lives on a cluster
const TABLES: Array<[string, 'sharded' | 'everywhere']> = [
  ['ringtail_schema', 'everywhere'],
  ['logs', 'sharded'],
  ['stream_offsets', 'everywhere'],
  ['hosts', 'everywhere'],
  ['tokens', 'everywhere'],
  ['claims', 'everywhere'],
  ['dashboard_sessions', 'everywhere'],
  ['alert_rules', 'everywhere'],
  ['alert_state', 'everywhere'],
  ['alert_history', 'everywhere'],
  ['alert_silences', 'everywhere'],
  ['alert_outbox', 'everywhere'],
  ['alert_notifiers', 'everywhere'],
  ['alert_leases', 'everywhere'],
  ['metric_series', 'everywhere'],
  ['metric_state', 'everywhere'],
  ['metric_rows', 'everywhere'],
  ['metric_leases', 'everywhere'],
  ['host_state', 'everywhere'],
  ['host_forgotten', 'everywhere'],
  ['host_events', 'everywhere'],
  ['host_meta', 'everywhere'],
];

describe('on a cluster', () => {
  it('the table list above is every table created', () => {
    expect([...new Set(single.map(tableName).filter(Boolean))].sort()).toEqual(TABLES.map(([t]) => t).sort());
  });

  it.each(TABLES)('%s: ON CLUSTER, a Replicated engine on its Keeper path, the rest unchanged (%s)', (name, where) => {
    const mine = single.find((s) => tableName(s) === name)!;
    const local = where === 'sharded' ? `${name}_local` : name;
    const got = cluster.find((s) => tableName(s) === local)!;
    const e = /\)(\s)ENGINE = (\w*)MergeTree(?:\(([^)]*)\))?/.exec(mine)!;
    const path = `/clickhouse/ringtail/{database}/${where === 'sharded' ? '{shard}' : 'all'}/${local}`;
    const expected = mine
      .replace(`CREATE TABLE IF NOT EXISTS ${name} (`, `CREATE TABLE IF NOT EXISTS ${local} ON CLUSTER \`ch_main\` (`)
      .replace(e[0], `)${e[1]}ENGINE = Replicated${e[2]}MergeTree('${path}', '{replica}'${e[3] ? `, ${e[3]}` : ''})`)
      .replace('non_replicated_deduplication_window', 'replicated_deduplication_window');
    expect(got).toBe(expected);
    const dist = cluster.find((s) => tableName(s) === name && /Distributed/.test(s));
    if (where === 'sharded') {
      expect(dist).toBe(`CREATE TABLE IF NOT EXISTS ${name} ON CLUSTER \`ch_main\` AS ${local}\nENGINE = Distributed('ch_main', 'db', '${local}', stream_id)`);
    } else {
      expect(dist).toBeUndefined();
    }
  });

  it('every statement names the cluster; the stream-end view reads the shard-local lines', () => {
    for (const s of cluster) expect(s).toMatch(/ ON CLUSTER `ch_main`/);
    expect(cluster.join('\n')).not.toMatch(/non_replicated/);
    const view = cluster.find((s) => s.startsWith('CREATE MATERIALIZED VIEW'))!;
    expect(view).toMatch(/^CREATE MATERIALIZED VIEW IF NOT EXISTS logs_stream_ends ON CLUSTER `ch_main` TO stream_offsets AS/);
    expect(view).toMatch(/FROM logs_local GROUP BY stream_id$/);
    expect(cluster).toContain('CREATE DATABASE IF NOT EXISTS db ON CLUSTER `ch_main`');
  });

  it('ALTER and DROP carry ON CLUSTER and name the shard-local table', () => {
    expect(forLayout('ALTER TABLE logs MODIFY TTL x', L)).toEqual(['ALTER TABLE logs_local ON CLUSTER `ch_main` MODIFY TTL x']);
    expect(forLayout('ALTER TABLE metric_rows MODIFY TTL x', L)).toEqual(['ALTER TABLE metric_rows ON CLUSTER `ch_main` MODIFY TTL x']);
    expect(forLayout('DROP VIEW IF EXISTS logs_stream_ends', L)).toEqual(['DROP VIEW IF EXISTS logs_stream_ends ON CLUSTER `ch_main`']);
    expect(() => forLayout('ALTER TABLE logs ADD COLUMN x UInt8', L)).toThrow(/adding a column/);
    expect(() => forLayout('TRUNCATE TABLE logs', L)).toThrow(/no cluster form/);
  });
});

describe('bad cluster names and paths', () => {
  it.each(['a b', "x' ON CLUSTER y", 'c`; DROP DATABASE db', '1abc', '-x', '', 'a'.repeat(65), 'é'])('refuses cluster %j with RINGTAIL_ERR_CONFIG', (name) => {
    expect(() => checkClusterName(name)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, message: expect.stringContaining('clickhouse.cluster') }));
  });
  it.each(['relative/path', '/a/', "/a'b", '/a/{Shard}', '/a//b'])('refuses zookeeper path %j', (path) => {
    expect(() => layoutOf({ cluster: 'c', zookeeperPath: path }, 'db')).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, message: expect.stringContaining('clickhouse.zookeeper_path') }));
  });
  it('takes plain names and the default path', () => {
    expect(layoutOf({ cluster: 'prod-ch_1' }, 'db')).toEqual({ cluster: 'prod-ch_1', zkPrefix: DEFAULT_ZK_PREFIX, database: 'db' });
    expect(layoutOf({}, 'db')).toBeUndefined();
  });
});

describe('the configuration', () => {
  const argv = ['--storage', 'clickhouse', '--clickhouse-url', 'http://127.0.0.1:1'];
  it('refuses a bad --clickhouse-cluster as the collector parses its options, naming the option', () => {
    for (const bad of ["x' ON CLUSTER y", 'c`;DROP DATABASE ringtail', '9lives']) {
      expect(() => loadOptions(CollectorConfig, [...argv, '--clickhouse-cluster', bad], {})).toThrow(
        expect.objectContaining({ code: ErrorCodes.CONFIG, message: expect.stringMatching(/clickhouse.cluster|clickhouse-cluster/) }),
      );
    }
  });
  it('takes a good one, with the path defaulted, into the storage configuration; none: one server', () => {
    const o = loadOptions<CollectorConfig>(CollectorConfig, [...argv, '--clickhouse-cluster', 'ch_main'], {}).options;
    expect(storageConfig(o).clickhouse).toEqual({ url: 'http://127.0.0.1:1', database: 'ringtail', cluster: 'ch_main', zookeeperPath: DEFAULT_ZK_PREFIX });
    const plain = loadOptions<CollectorConfig>(CollectorConfig, argv, {}).options;
    expect(storageConfig(plain).clickhouse).toEqual({ url: 'http://127.0.0.1:1', database: 'ringtail' });
  });
  it('`ringtail rrd … --storage clickhouse` takes the same cluster and path; a bad name, or either without what it needs, is refused', () => {
    const picked = sharedStorage(['fetch', ...argv, '--clickhouse-cluster', 'ch_main', '--clickhouse-zookeeper-path=/ch/{shard_group}', 'h/m', 'AVERAGE']);
    expect(picked?.config.clickhouse).toEqual({ url: 'http://127.0.0.1:1', database: 'ringtail', cluster: 'ch_main', zookeeperPath: '/ch/{shard_group}' });
    expect(picked?.rest).toEqual(['fetch', 'h/m', 'AVERAGE']);
    expect(layoutOf(sharedStorage([...argv, '--clickhouse-cluster', 'ch_main'])!.config.clickhouse!, 'ringtail')?.zkPrefix).toBe(DEFAULT_ZK_PREFIX);
    expect(sharedStorage(argv)?.config.clickhouse).toEqual({ url: 'http://127.0.0.1:1', database: 'ringtail' });
    expect(() => sharedStorage([...argv, '--clickhouse-cluster', "x'; DROP"])).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, message: expect.stringContaining('clickhouse.cluster') }));
    expect(() => sharedStorage(['--clickhouse-cluster', 'ch_main', 'file.rrd'])).toThrow('--clickhouse-cluster goes with --storage clickhouse');
    expect(() => sharedStorage([...argv, '--clickhouse-zookeeper-path', '/x'])).toThrow('--clickhouse-zookeeper-path goes with --clickhouse-cluster');
  });
  it('checkStorage (the collector, before it opens anything) refuses a bad name given programmatically', () => {
    const config = storageConfig({ storage: 'clickhouse', data: '/nonexistent', clickhouse: { url: 'http://127.0.0.1:1', cluster: 'a b' } });
    expect(() => checkStorage(config)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, message: expect.stringContaining('clickhouse.cluster') }));
  });
});

describe('docs/scale-out.md', () => {
  it('"Cluster layout" lists exactly the statements `ringtail clickhouse ddl --cluster ringtail_cluster` prints', () => {
    const doc = readFileSync(new URL('../../docs/scale-out.md', import.meta.url), 'utf8');
    const m = /<!-- ddl:cluster -->\n```sql\n([\s\S]*?)```\n<!-- \/ddl:cluster -->/.exec(doc);
    expect(m, 'docs/scale-out.md has no ddl:cluster block').not.toBeNull();
    expect(m![1]).toBe(ddlText(schemaDdl('ringtail', layoutOf({ cluster: 'ringtail_cluster' }, 'ringtail'))));
  });
});

describe('ringtail clickhouse ddl', () => {
  const run = async (argv: string[]) => {
    let out = '';
    let err = '';
    const sink = (f: (s: string) => void) => new Writable({ write: (c, _e, cb) => (f(String(c)), cb()) });
    const code = await runClickhouse(argv, { out: sink((s) => (out += s)), err: sink((s) => (err += s)) });
    return { code, out, err };
  };
  it('prints the statements for one server or a cluster; a bad name is RINGTAIL_ERR_CONFIG, exit 2', async () => {
    expect(await run(['ddl'])).toEqual({ code: 0, out: ddlText(schemaDdl('ringtail', undefined)), err: '' });
    const c = await run(['ddl', '--cluster', 'prod', '--database', 'logsdb', '--zookeeper-path', '/ch/{shard_group}']);
    expect(c).toEqual({ code: 0, out: ddlText(schemaDdl('logsdb', { cluster: 'prod', zkPrefix: '/ch/{shard_group}', database: 'logsdb' })), err: '' });
    expect(c.out).toContain("ENGINE = ReplicatedMergeTree('/ch/{shard_group}/{shard}/logs_local', '{replica}')");
    const bad = await run(['ddl', '--cluster', "x'; DROP TABLE logs"]);
    expect(bad.code).toBe(2);
    expect(bad.out).toBe('');
    expect(bad.err).toMatch(/^ringtail: RINGTAIL_ERR_CONFIG --cluster: /);
    expect((await run(['ddl', '--zookeeper-path', '/x'])).err).toMatch(/RINGTAIL_ERR_CONFIG --zookeeper-path: goes with --cluster/);
  });
});

describe('the upgrade command named by a refusal', () => {
  it('carries the cluster (and a path of its own), so the upgrade runs ON CLUSTER', () => {
    expect(upgradeCommand('http://ch:8123', 'db')).toBe('ringtail migrate --upgrade-schema --storage clickhouse --clickhouse-url http://ch:8123 --clickhouse-database db');
    expect(upgradeCommand('http://ch:8123', 'db', layoutOf({ cluster: 'prod' }, 'db'))).toBe(
      'ringtail migrate --upgrade-schema --storage clickhouse --clickhouse-url http://ch:8123 --clickhouse-database db --clickhouse-cluster prod',
    );
    expect(upgradeCommand('http://ch:8123', 'db', layoutOf({ cluster: 'prod', zookeeperPath: '/ch/{database}' }, 'db'))).toMatch(/--clickhouse-cluster prod --clickhouse-zookeeper-path '\/ch\/\{database\}'$/);
  });
});

describe("a forgotten host's lines", () => {
  it('one server: a parameter; a cluster: every shard, the name a quoted literal (the DDL queue takes no parameters)', () => {
    expect(deleteHostLinesSql(undefined, 'web-1')).toEqual({ query: 'DELETE FROM logs WHERE host = {h:String}', query_params: { h: 'web-1' } });
    expect(deleteHostLinesSql(L, 'web-1').query).toBe("DELETE FROM logs_local ON CLUSTER `ch_main` WHERE host = 'web-1'");
    // a quote or a backslash in a name stays inside the literal
    expect(deleteHostLinesSql(L, "o'brien\\' OR 1=1 --").query).toBe("DELETE FROM logs_local ON CLUSTER `ch_main` WHERE host = 'o\\'brien\\\\\\' OR 1=1 --'");
  });
});
