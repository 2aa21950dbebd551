// `--storage clickhouse` in the logs, ingest and search benchmarks: one chdb server for the whole
// run (bench/lib/chdb.ts), a fresh database per collector run, and what those benchmarks read
// from it beside the SQLite collector's figures: the lines stored, the engine's CPU seconds, and
// bytes on disk per stored line (active parts, as the inserts left them: system.parts'
// bytes_on_disk of every table of the database). The SQLite figure beside it is the database
// file and its WAL.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openClient } from '../../collector/storage/clickhouse/connection.js';
import { procCpu, startChdb, type ChdbServer } from './chdb.js';

export interface ChSide {
  server: ChdbServer;
  /** a fresh database name for the next collector run */
  nextDatabase(): string;
  /** the collector flags for `database` */
  flags(database: string): string[];
  engineCpu(): number;
  count(database: string): Promise<number>;
  /** bytes of the database's active parts */
  partsBytes(database: string): Promise<number>;
  stop(): Promise<void>;
}

/** `--storage sqlite|clickhouse` of a benchmark's arguments (sqlite: none) */
export function storageArg(args: string[]): 'sqlite' | 'clickhouse' {
  const i = args.indexOf('--storage');
  const v = i >= 0 ? args[i + 1] : 'sqlite';
  if (v !== 'sqlite' && v !== 'clickhouse') throw new Error(`--storage takes sqlite or clickhouse, not '${v}'`);
  return v;
}

export async function clickhouseSide(dir: string): Promise<ChSide> {
  mkdirSync(dir, { recursive: true });
  const server = await startChdb(dir);
  let n = 0;
  const scalar = async (database: string, sql: string): Promise<number> => {
    const c = openClient({ url: server.url, database, requestTimeoutMs: 600_000 }, database);
    try {
      return Number(((await (await c.query({ query: sql, format: 'JSONEachRow' })).json()) as Array<{ n: number | string | null }>)[0]?.n ?? 0);
    } finally {
      await c.close();
    }
  };
  return {
    server,
    nextDatabase: () => `bench_${process.pid}_${n++}`,
    flags: (database) => ['--storage', 'clickhouse', '--clickhouse-url', server.url, '--clickhouse-database', database],
    engineCpu: () => procCpu(server.pid()),
    count: (database) => scalar(database, 'SELECT count() AS n FROM logs'),
    partsBytes: (database) => scalar(database, `SELECT sum(bytes_on_disk) AS n FROM system.parts WHERE database = '${database}' AND active`),
    stop: () => server.stop(),
  };
}

/** a SQLite data directory's log store on disk: the database file and its WAL */
export function sqliteBytes(data: string): number {
  return ['ringtail.db', 'ringtail.db-wal'].map((f) => join(data, f)).filter((f) => existsSync(f)).reduce((n, f) => n + statSync(f).size, 0);
}
