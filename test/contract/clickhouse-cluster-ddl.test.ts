// The cluster layout (layout.ts) on a real engine, as far as one can go without a cluster. chdb
// embeds ClickHouse but cannot run one: it has no distributed DDL queue (every ON CLUSTER
// statement is refused: "Replicated DDL queries are disabled") and no Keeper it can replicate
// through (a Replicated* table is created read-only: nothing can be inserted). What it can do,
// given a configuration with a one-server `remote_servers` cluster, the {shard}/{replica} macros
// and a test Keeper, is take each statement ringtail issues on a cluster, without its ON CLUSTER
// clause, as one server of the cluster would run it: engines, their Keeper paths (macros
// expanded), replicated settings and the Distributed table are checked by the engine itself.
// The rest (replication, sharded inserts, deduplication across replicas) needs a real cluster.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import { ensureDatabase, openClient } from '../../collector/storage/clickhouse/connection.js';
import { schemaDdl } from '../../collector/storage/clickhouse/ddl.js';
import { layoutOf } from '../../collector/storage/clickhouse/layout.js';
import { ensureSchema } from '../../collector/storage/clickhouse/schema.js';
import { ErrorCodes } from '../../shared/errors.js';
import { tempDir } from '../helpers/proc.js';
import { chdbForFile } from './chdb-fixture.js';

const conf = tempDir('ringtail-chdb-cluster-conf-');
afterAll(() => conf.cleanup());
const CONFIG = join(conf.path, 'cluster.xml');
writeFileSync(
  CONFIG,
  `<clickhouse>
  <remote_servers><ringtail_test><shard><replica><host>localhost</host><port>9000</port></replica></shard></ringtail_test></remote_servers>
  <macros><shard>01</shard><replica>r1</replica></macros>
  <zookeeper><implementation>testkeeper</implementation></zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</clickhouse>
`,
);
const chdb = chdbForFile('ringtail-chdb-cluster-', { config: CONFIG });
// (runs before the fixture's own stop: the engine's orderly shutdown waits on its Keeper-less
// replicated tables without end, so it is killed; its directory is removed all the same)
afterAll(() => chdb.server?.kill());

async function rows<T>(client: ClickHouseClient, query: string, query_params: Record<string, unknown> = {}): Promise<T[]> {
  return (await (await client.query({ query, query_params, format: 'JSONEachRow' })).json()) as T[];
}

describe('cluster DDL on chdb', () => {
  it('refuses ON CLUSTER: a cluster the server lacks is a config error, chdb itself cannot run the statement', async () => {
    const opts = { url: chdb.server.url, database: 'ringtail_refused' };
    await expect(openClickHouseLogStore({ ...opts, cluster: 'no_such_cluster' })).rejects.toMatchObject({
      code: ErrorCodes.CONFIG,
      message: expect.stringMatching(/clickhouse\.cluster.*no cluster 'no_such_cluster' in its remote_servers/),
    });
    await expect(openClickHouseLogStore({ ...opts, cluster: 'ringtail_test' })).rejects.toMatchObject({
      code: ErrorCodes.STORAGE,
      message: expect.stringMatching(/could not create the database.*Replicated DDL queries are disabled/),
    });
  });

  it('takes every statement of the cluster layout (without ON CLUSTER) as a server of the cluster: engines and Keeper paths', async () => {
    const database = 'ringtail_ct';
    const layout = layoutOf({ cluster: 'ringtail_test' }, database)!;
    const groups = schemaDdl(database, layout).filter((g) => !/upgrade|retention|later start/.test(g.title)); // ALTERs: the replicas are read-only
    const admin = openClient({ url: chdb.server.url, database });
    const client = openClient({ url: chdb.server.url, database }, database);
    try {
      for (const g of groups) {
        for (const s of g.statements) {
          expect(s).toContain(' ON CLUSTER `ringtail_test`');
          await (g.title === 'the database' ? admin : client).command({ query: s.replace(' ON CLUSTER `ringtail_test`', '') });
        }
      }
      const tables = await rows<{ name: string; engine: string }>(client, 'SELECT name, engine FROM system.tables WHERE database = {db:String} ORDER BY name', { db: database });
      const engines = Object.fromEntries(tables.map((t) => [t.name, t.engine]));
      expect(engines.logs).toBe('Distributed');
      expect(engines.logs_local).toBe('ReplicatedMergeTree');
      expect(engines.logs_stream_ends).toBe('MaterializedView');
      const replicated = tables.filter((t) => t.engine !== 'Distributed' && t.engine !== 'MaterializedView');
      // every CREATE TABLE of the listing but the Distributed one (logs), each once
      const created = new Set(groups.flatMap((g) => g.statements).map((q) => /^CREATE TABLE IF NOT EXISTS (\w+)/.exec(q)?.[1]).filter((n) => n !== undefined && n !== 'logs'));
      expect(created.size).toBe(22);
      expect(replicated.map((t) => t.name).sort()).toEqual([...created].sort());
      for (const t of replicated) expect(t.engine).toMatch(/^Replicated(Replacing|Aggregating|)MergeTree$/);
      // each table's own Keeper path, the macros expanded: logs_local per shard, the rest on every server
      const replicas = await rows<{ table: string; zookeeper_path: string; replica_name: string }>(
        client,
        'SELECT table, zookeeper_path, replica_name FROM system.replicas WHERE database = {db:String} ORDER BY table',
        { db: database },
      );
      expect(replicas.map((r) => r.table)).toEqual(replicated.map((t) => t.name));
      for (const r of replicas) {
        expect(r.replica_name).toBe('r1');
        expect(r.zookeeper_path).toBe(`/clickhouse/ringtail/${database}/${r.table === 'logs_local' ? '01' : 'all'}/${r.table}`);
      }
      const [dist] = await rows<{ statement: string }>(client, 'SHOW CREATE TABLE logs');
      expect(dist!.statement).toMatch(/ENGINE = Distributed\('ringtail_test', 'ringtail_ct', 'logs_local', stream_id\)/);
      const [local] = await rows<{ statement: string }>(client, 'SHOW CREATE TABLE logs_local');
      expect(local!.statement).toMatch(/replicated_deduplication_window = 10000/);
      expect(local!.statement).not.toMatch(/non_replicated/);

      // a ringtail without clickhouse.cluster refuses the cluster's tables, saying what to set
      await expect(openClickHouseLogStore({ url: chdb.server.url, database })).rejects.toMatchObject({
        code: ErrorCodes.STORAGE,
        message: expect.stringMatching(/holds a cluster's log tables \(logs is a Distributed table\): set clickhouse\.cluster/),
      });
    } finally {
      await admin.close();
      await client.close();
    }
  });

  it('parses every cluster statement, ON CLUSTER included: each is refused for the missing DDL queue, none as a syntax error (on the tables the test above made)', async () => {
    const layout = layoutOf({ cluster: 'ringtail_test' }, 'ringtail_ct')!;
    const client = openClient({ url: chdb.server.url, database: 'ringtail_ct' }, 'ringtail_ct');
    try {
      const all = schemaDdl('ringtail_ct', layout, 30).flatMap((g) => g.statements);
      expect(all.filter((s) => /^(ALTER|DROP|DELETE)/.test(s)).length).toBeGreaterThanOrEqual(4);
      for (const s of all) {
        const sql = s.replace("'<DAY>'", "'20000'").replace('<MS>', '1700000000000');
        await expect(client.command({ query: sql }), sql.slice(0, 60)).rejects.toThrow(/Replicated DDL queries are disabled/);
      }
    } finally {
      await client.close();
    }
  });

  it('a ringtail with clickhouse.cluster refuses single-server log tables before issuing anything', async () => {
    const database = 'ringtail_single';
    await ensureDatabase({ url: chdb.server.url, database }, database, chdb.server.url);
    const client = openClient({ url: chdb.server.url, database }, database);
    try {
      await ensureSchema(client, database, { url: chdb.server.url });
      await expect(ensureSchema(client, database, { url: chdb.server.url, layout: layoutOf({ cluster: 'ringtail_test' }, database) })).rejects.toMatchObject({
        code: ErrorCodes.STORAGE,
        message: expect.stringMatching(/holds single-server log tables \(logs is a MergeTree table\), not a cluster's: leave clickhouse\.cluster unset/),
      });
    } finally {
      await client.close();
    }
  });
});
