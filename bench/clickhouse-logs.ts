// `npm run bench -- clickhouse-logs [--lines N] [--group L] [--only sqlite|clickhouse]`
//
// The log stores side by side on the same lines (bench/lib/loglines.ts: 200 hosts, the usual
// daemons): ingestMany in groups of L lines (default 10,000: a collector's group commit) into
//   sqlite:      the SQLite store (rows + FTS5 over messages and fields), in this process;
//   clickhouse:  the ClickHouse store through @clickhouse/client over HTTP to chdb
//                (test/fixtures/chdb-server.mjs, its own process: its CPU is read from /proc).
// Prints lines/s, CPU seconds per million lines (this process + the engine's), and bytes on
// disk per stored line: SQLite's database file and WAL after a checkpoint; ClickHouse's active
// parts (du of their directories, all tables of the database) as the inserts left them and
// after OPTIMIZE FINAL (merged parts), with the files' own sizes (system.parts bytes_on_disk)
// and the whole chdb data directory beside them.
//
// Measured 2026-12-07 04:38–04:48 UTC, 1,000,000 lines, groups of 10,000, on the shared 2-core
// machine with eight helpers at work (load average 18–32: wall times are noisy, CPU seconds
// and bytes are the figures to compare; the lead reruns on a quiet machine):
//   store       seconds  lines/s  CPU s/1M  bytes/line
//   sqlite        177.6     5632      18.3       270.9   (rows + FTS5 + field tokens)
//   clickhouse    258.9     3863      32.5        53.4   as inserted (client 6.2 s + engine 26.3 s)
//   clickhouse                                  51.3   after OPTIMIZE FINAL
// ClickHouse/SQLite bytes per line: 0.197 as inserted, 0.189 merged (target ≤ 1/3). The whole
// chdb directory was 161.7 B/line right after the run: parts replaced by merges stay on disk
// for old_parts_lifetime (8 min) before they are removed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { openClickHouseLogStore } from '../collector/storage/clickhouse/index.js';
import { openClient } from '../collector/storage/clickhouse/connection.js';
import { openSqliteStorage } from '../collector/storage/sqlite/index.js';
import type { IngestItem } from '../collector/storage/types.js';
import { procCpu, selfCpu, startChdb, type ChdbServer } from './lib/chdb.js';
import { genBatch, hostName, rng } from './lib/loglines.js';

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
}

const du = (path: string) => Number(execFileSync('du', ['-sb', path]).toString().split('\t')[0]);

/** the corpus as group-commit items: each group holds `group` lines from batches of 500 */
function groups(lines: number, group: number): IngestItem[][] {
  const r = rng(42);
  const offsets = new Map<string, number>();
  const out: IngestItem[][] = [];
  let ts = Date.UTC(2026, 11, 1);
  let cur: IngestItem[] = [];
  let inGroup = 0;
  for (let made = 0, b = 0; made < lines; b++) {
    const host = hostName(b % 200);
    const n = Math.min(500, lines - made);
    const { batch, end, lastTs } = genBatch(r, host, `s-${host}`, offsets.get(host) ?? 0, n, ts, 7);
    offsets.set(host, end);
    ts = lastTs - n * 7 + 3; // batches of different hosts overlap in time, as they do
    cur.push({ batch, receivedAt: ts });
    made += n;
    inGroup += n;
    if (inGroup >= group) {
      out.push(cur);
      cur = [];
      inGroup = 0;
    }
  }
  if (cur.length) out.push(cur);
  return out;
}

interface Row {
  store: string;
  seconds: number;
  linesPerSec: number;
  cpuPerM: number;
  bytesPerLine: number;
  note: string;
}

async function benchSqlite(items: IngestItem[][], lines: number): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'rt-bench-sqlite-'));
  try {
    const s = openSqliteStorage(dir);
    const cpu0 = selfCpu();
    const t0 = performance.now();
    for (const g of items) await s.logs.ingestMany(g);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = selfCpu() - cpu0;
    const used = await s.logs.retention.usedBytes();
    s.close(); // checkpoints the WAL into the database file
    const files = ['ringtail.db', 'ringtail.db-wal'].map((f) => join(dir, f)).filter(existsSync).reduce((n, f) => n + statSync(f).size, 0);
    return { store: 'sqlite', seconds, linesPerSec: lines / seconds, cpuPerM: (cpu * 1e6) / lines, bytesPerLine: files / lines, note: `used pages ${(used / lines).toFixed(1)} B/line` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchClickhouse(items: IngestItem[][], lines: number): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'rt-bench-chdb-'));
  let chdb: ChdbServer | undefined;
  try {
    chdb = await startChdb(dir);
    const url = chdb.url;
    const store = await openClickHouseLogStore({ url, database: 'bench', requestTimeoutMs: 900_000 });
    const empty = du(dir);
    const cpu0 = selfCpu();
    const engine0 = procCpu(chdb.pid());
    const t0 = performance.now();
    for (const g of items) await store.ingestMany(g);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = selfCpu() - cpu0;
    const engine = procCpu(chdb.pid()) - engine0;
    const admin = openClient({ url, database: 'bench', requestTimeoutMs: 900_000 }, 'bench');
    // the active parts' directories (du: whole file-system blocks); parts replaced by merges
    // linger on disk for old_parts_lifetime and are not counted
    const activeDu = async () => {
      const rs = await admin.query({ query: `SELECT path FROM system.parts WHERE database = 'bench' AND active`, format: 'JSONEachRow' });
      const paths = ((await rs.json()) as Array<{ path: string }>).map((r) => r.path);
      return paths.length ? Number(execFileSync('du', ['-scb', ...paths]).toString().trim().split('\n').pop()!.split('\t')[0]) : 0;
    };
    const wholeDir = du(dir) - empty;
    const asInserted = await activeDu();
    const parts = await store.retention.usedBytes();
    await admin.command({ query: 'OPTIMIZE TABLE logs FINAL' });
    const merged = await store.retention.usedBytes();
    const mergedDu = await activeDu();
    const count = (await (await admin.query({ query: 'SELECT count() AS n FROM logs', format: 'JSONEachRow' })).json<{ n: number }>())[0]!.n;
    await admin.close();
    await store.close();
    if (Number(count) !== lines) throw new Error(`stored ${count} lines of ${lines}`);
    const common = { store: 'clickhouse', seconds, linesPerSec: lines / seconds, cpuPerM: ((cpu + engine) * 1e6) / lines };
    return [
      { ...common, bytesPerLine: asInserted / lines, note: `as inserted (files ${(parts / lines).toFixed(1)} B/line, whole data dir ${(wholeDir / lines).toFixed(1)}); CPU client ${cpu.toFixed(1)} s + engine ${engine.toFixed(1)} s` },
      { ...common, bytesPerLine: mergedDu / lines, note: `after OPTIMIZE FINAL (files ${(merged / lines).toFixed(1)} B/line)` },
    ];
  } finally {
    await chdb?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const lines = Number(arg(args, '--lines', '1000000'));
  const group = Number(arg(args, '--group', '10000'));
  const only = arg(args, '--only', '');
  const items = groups(lines, group);
  const rows: Row[] = [];
  const load = () => loadavg().map((x) => x.toFixed(2)).join(', ');
  console.log(`${lines} lines in groups of ${group}; load average before: ${load()}`);
  if (only !== 'clickhouse') rows.push(await benchSqlite(items, lines));
  if (only !== 'sqlite') rows.push(...(await benchClickhouse(items, lines)));
  console.log(`load average after: ${load()}`);
  console.log('store       seconds   lines/s   CPU s/1M  bytes/line  note');
  for (const r of rows) {
    console.log(`${r.store.padEnd(10)} ${r.seconds.toFixed(1).padStart(8)} ${Math.round(r.linesPerSec).toString().padStart(9)} ${r.cpuPerM.toFixed(1).padStart(10)} ${r.bytesPerLine.toFixed(1).padStart(11)}  ${r.note}`);
  }
  const sq = rows.find((r) => r.store === 'sqlite');
  if (sq) for (const r of rows.filter((x) => x.store === 'clickhouse')) console.log(`clickhouse/sqlite bytes per line: ${(r.bytesPerLine / sq.bytesPerLine).toFixed(3)} (${r.note.split(' (')[0]})`);
}
