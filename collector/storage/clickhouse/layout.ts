// Where ringtail's ClickHouse tables live: on one server (the default: the statements as the
// schema files write them), or on a cluster (`clickhouse.cluster`, docs/scale-out.md "Cluster
// layout"), where every statement below is rewritten here, in one place:
//   - every CREATE / ALTER / DROP carries `ON CLUSTER <cluster>`: each server of the cluster
//     runs it (ClickHouse's distributed DDL queue, which needs ZooKeeper or ClickHouse Keeper);
//   - the log lines are sharded: `logs_local` is a Replicated*MergeTree per shard (path
//     `<prefix>/{shard}/logs_local`), and `logs` a Distributed table over it, sharded by
//     stream_id, through which every read and every insert goes. All lines of one stream land on
//     one shard, with the stream-end view (on logs_local) raising the stream's end in the same
//     INSERT there; an insert's deduplication token reaches each shard with the rows the
//     sharding key gave it, and the same rows go to the same shard on every retry, so a retry
//     is dropped by each shard's own (replicated) deduplication;
//   - every other table is small and is read where a decision is made (stream ends, leases,
//     claims, schema versions): one Replicated*MergeTree replicated on every server of the
//     cluster (path `<prefix>/all/<table>`, no {shard}), so any server answers it whole and a
//     deduplication token or a block number is one for the whole cluster.
// The macros {shard} and {replica} come from each server's configuration; {replica} must be
// unique across the cluster (the tables replicated on every server name their replicas by it).
import { ConfigError } from '../../../shared/errors.js';

export interface ClusterLayout {
  /** the cluster's name in the servers' remote_servers configuration */
  cluster: string;
  /** where the replicated tables keep their state in ZooKeeper / Keeper (no trailing /) */
  zkPrefix: string;
  /** the database, written into the Distributed engine's arguments (strings, not rewritten by ON CLUSTER) */
  database: string;
}

/** undefined: one server, the tables as the schema files write them */
export type Layout = ClusterLayout | undefined;

export const DEFAULT_ZK_PREFIX = '/clickhouse/ringtail/{database}';

/** the tables split across shards, each with a Distributed table of the plain name over `<name>_local` */
export const SHARDED: ReadonlySet<string> = new Set(['logs']);
/** the Distributed table's sharding key per sharded table: a stream's lines on one shard */
const SHARDING_KEY: Record<string, string> = { logs: 'stream_id' };

/** `clickhouse.cluster`: a name as remote_servers spells it; it goes into DDL (quoted), so it is checked */
export function checkClusterName(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/.test(name)) {
    throw new ConfigError('clickhouse.cluster', `'${name}' is not a cluster name (letters, digits, _ and -, not starting with a digit or -, at most 64)`);
  }
  return name;
}

/** `clickhouse.zookeeper_path`: an absolute path of plain segments and {macros}, written into DDL */
export function checkZkPrefix(path: string): string {
  if (!/^(\/([A-Za-z0-9_.-]+|\{[a-z_]+\}))+$/.test(path) || path.length > 200) {
    throw new ConfigError('clickhouse.zookeeper_path', `'${path}' is not a ZooKeeper path prefix (/segment/segment…, letters, digits, _ . - and {macros}, no trailing /)`);
  }
  return path;
}

/** The layout of a configuration: undefined without a cluster, else checked. */
export function layoutOf(opts: { cluster?: string; zookeeperPath?: string }, database: string): Layout {
  if (opts.cluster === undefined) {
    if (opts.zookeeperPath !== undefined) checkZkPrefix(opts.zookeeperPath);
    return undefined;
  }
  return { cluster: checkClusterName(opts.cluster), zkPrefix: checkZkPrefix(opts.zookeeperPath ?? DEFAULT_ZK_PREFIX), database };
}

const q = (ident: string) => '`' + ident + '`';
const onCluster = (l: ClusterLayout) => `ON CLUSTER ${q(l.cluster)}`;

/** the table a statement about `name` acts on: the shard-local table of a sharded one */
export function localName(name: string, layout: Layout): string {
  return layout && SHARDED.has(name) ? `${name}_local` : name;
}

/**
 * One schema statement as this layout runs it (one or more statements). On one server the
 * statement itself; on a cluster rewritten as the header says. A statement of a shape this does
 * not know is an error (every statement ringtail issues is covered by test/unit/clickhouse-ddl.test.ts).
 */
export function forLayout(sql: string, layout: Layout): string[] {
  if (!layout) return [sql];
  let m = /^CREATE TABLE IF NOT EXISTS (\w+) \(/.exec(sql);
  if (m) return createTable(m[1]!, sql, layout);
  m = /^CREATE MATERIALIZED VIEW IF NOT EXISTS (\w+) /.exec(sql);
  if (m) {
    const body = sql.slice(m[0].length).replace(/\bFROM (\w+)\b/g, (_, t: string) => `FROM ${localName(t, layout)}`);
    return [`CREATE MATERIALIZED VIEW IF NOT EXISTS ${m[1]} ${onCluster(layout)} ${body}`];
  }
  m = /^ALTER TABLE (\w+) /.exec(sql);
  if (m) {
    const rest = sql.slice(m[0].length);
    // a column of a sharded table would be added to its Distributed table too; no migration since
    // cluster mode exists adds one (the log schema's only ADD COLUMN, 1 → 2, predates it)
    if (SHARDED.has(m[1]!) && /^ADD COLUMN /.test(rest)) throw new Error(`no cluster form for adding a column to ${m[1]}`);
    return [`ALTER TABLE ${localName(m[1]!, layout)} ${onCluster(layout)} ${rest}`];
  }
  m = /^DROP (VIEW|TABLE) IF EXISTS (\w+)$/.exec(sql);
  if (m) return [`DROP ${m[1]} IF EXISTS ${m[2]} ${onCluster(layout)}`];
  m = /^CREATE DATABASE IF NOT EXISTS (\w+)$/.exec(sql);
  if (m) return [`CREATE DATABASE IF NOT EXISTS ${m[1]} ${onCluster(layout)}`];
  throw new Error(`no cluster form for the statement: ${sql.slice(0, 80)}`);
}

function createTable(name: string, sql: string, layout: ClusterLayout): string[] {
  const e = /\)(\s)ENGINE = (Replacing|Aggregating|)MergeTree(?:\(([^)]*)\))?/.exec(sql);
  if (!e) throw new Error(`no cluster form for the engine of table ${name}`);
  const sharded = SHARDED.has(name);
  const local = localName(name, layout);
  const path = `${layout.zkPrefix}/${sharded ? '{shard}' : 'all'}/${local}`;
  const engine = `)${e[1]}ENGINE = Replicated${e[2]}MergeTree('${path}', '{replica}'${e[3] ? `, ${e[3]}` : ''})`;
  const head = `CREATE TABLE IF NOT EXISTS ${local} ${onCluster(layout)} (`;
  // replicated tables keep insert tokens in Keeper, for every replica: replicated_deduplication_window
  const table =
    head +
    sql
      .slice(`CREATE TABLE IF NOT EXISTS ${name} (`.length, e.index)
      .concat(engine, sql.slice(e.index + e[0].length))
      .replace('non_replicated_deduplication_window', 'replicated_deduplication_window');
  if (!sharded) return [table];
  const dist = `CREATE TABLE IF NOT EXISTS ${name} ${onCluster(layout)} AS ${local}
ENGINE = Distributed('${layout.cluster}', '${layout.database}', '${local}', ${SHARDING_KEY[name]})`;
  return [table, dist];
}
