// `npm run bench -- clickhouse-metrics [--series 1000] [--rounds 30]`
//
// The collector's metric workload — one new value for each of many series per round, the
// default host layout (bench/rrd.ts's LAYOUT) — through three peers, their rounds taken in turn
// (the order rotated every round, so that a shared machine's load falls on all three alike):
//   rrdcached   BATCH over a unix socket with a -j journal (accepted, files written later);
//   sqlite      ringtail's SQLite store, updateMany journaled (the collector's path, one
//               durable commit per round);
//   clickhouse  ringtail's ClickHouse series store through @clickhouse/client over HTTP to chdb
//               (test/fixtures/chdb-server.mjs, its own process): PDPs and rows computed here,
//               one INSERT of rows and one of states per round, and the host leases checked
//               (one host per 50 series, as agents send).
// Prints updates/s (rounds only), CPU seconds per million updates (the peer's own process or
// threads plus this client), what "into the archives" costs afterwards (rrdcached FLUSH of every
// file, SQLite's journal checkpoint; ClickHouse's rows are in their table when a round returns),
// bytes per series, and the load average.
//
// Measured 2026-12-07 07:41 UTC, 1,000 series × 30 rounds, on the shared 2-core machine with six
// helpers at work (load average 19.9–20.1: wall times are noisy, CPU per update is the figure to
// compare; the lead reruns on a quiet machine):
//   peer         updates/s  round p50 ms  CPU s/1M (client + peer)  then: s, CPU s/1M        bytes/series
//   rrdcached        69634           6.4       1.5 + 1.9              0.12 s, 3.9 (FLUSH)     595,320
//   sqlite           67748          10.7       2.1 + 0                1.05 s, 6.8 (checkpoint)  2,470
//   clickhouse        2483         321.6      32.1 + 40.0             none (rows stored)          223 (merged; 278 as inserted)
// ClickHouse ÷ rrdcached BATCH: 0.036 in updates/s; about 8× the CPU per update of SQLite with
// its checkpoint (72 vs 8.9 µs). 5,000 series × 12 rounds (07:31, load 19.6–22.4): clickhouse
// 2,324/s (23.1 + 27.3 CPU s/1M), rrdcached BATCH 18,845/s, sqlite 61,989/s. Where it goes: each
// round is three HTTP requests to one chdb session that runs them one at a time, and every
// update writes its series' whole PDP state (~0.5 KB of JSON) to metric_state beside its row;
// rrdcached journals only the update line. Before rows and states were sent as TabSeparated
// text, the client alone took 57.9 µs per update (now ~30). Not yet tried: state written every
// N rounds with the update lines journaled between (rrdcached's way), a real clickhouse-server.
// Rows with their TTL expiry (metric_rows.expires, metric schema 2), 10:18 UTC, 1,000 × 15, side
// by side with the code before it in one run (load 16–19): clickhouse 2,232 vs 2,264 updates/s,
// client 34.4 vs 33.5 CPU s/1M (+3 %, within noise), 203 vs 201 B/series as inserted.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDefs } from '../collector/rrd/defs.js';
import { openRrdStore } from '../collector/rrd/sqlite-store.js';
import { openClient } from '../collector/storage/clickhouse/connection.js';
import { openClickHouseSeriesStore } from '../collector/storage/clickhouse/metrics-store.js';
import { procCpu, selfCpu, startChdb, type ChdbServer } from './lib/chdb.js';
import { Cached, HOST_LAYOUT } from './lib/rrdcached.js';

const LAYOUT = HOST_LAYOUT;
const STEP = 10;
const T0 = 1_700_000_000;
const SERIES_PER_HOST = 50;

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}
const value = (series: number, round: number): string => (((series * 7 + round * 13) % 1000) / 10).toFixed(1);
const du = (path: string): number => Number(execFileSync('du', ['-sb', path]).toString().split('\t')[0]);

interface Peer {
  name: string;
  roundMs: number[];
  clientCpu: number;
  /** CPU of the peer's own process or threads during the rounds */
  peerCpu: number;
  afterSecs: number;
  afterCpu: number;
  afterWhat: string;
  bytesPerSeries: number;
}

export async function main(args: string[]): Promise<void> {
  const seriesCount = arg(args, 'series', 1000);
  const rounds = arg(args, 'rounds', 30);
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-chm-'));
  const load = (): string => loadavg().map((x) => x.toFixed(2)).join(', ');
  console.log(`${seriesCount} series × ${rounds} rounds, default host layout (9 RRAs, step ${STEP}); load average before: ${load()}`);
  let chdb: ChdbServer | undefined;
  let cached: Cached | undefined;
  try {
    const files = Array.from({ length: seriesCount }, (_, i) => `s${i}.rrd`);
    const names = files.map((_, i) => `host-${Math.floor(i / SERIES_PER_HOST)}/m.s${i}`);
    const def = parseDefs(LAYOUT, STEP);

    // rrdcached: files made by rrdtool create
    const cachedDir = join(dir, 'cached');
    mkdirSync(cachedDir);
    execFileSync('rrdtool', ['create', join(cachedDir, files[0]!), '--start', String(T0), '--step', String(STEP), ...LAYOUT]);
    for (const f of files.slice(1)) copyFileSync(join(cachedDir, files[0]!), join(cachedDir, f));
    cached = new Cached(join(dir, 'cachedrun'), cachedDir);
    await cached.connect();

    const sqlitePath = join(dir, 'metrics.db');
    const sqlite = openRrdStore(sqlitePath, { create: true, checkpointSlice: 2_000 });
    sqlite.createMany(names.map((name) => ({ name, def, start: T0 })));

    chdb = await startChdb(join(dir, 'chdb'));
    const ch = await openClickHouseSeriesStore({ url: chdb.url, database: 'bench', collectorId: 'bench', requestTimeoutMs: 600_000 });
    for (let i = 0; i < names.length; i += 1000) await ch.createMany(names.slice(i, i + 1000).map((name) => ({ name, def, start: T0 })));

    const peers: Record<string, Peer> = {};
    for (const name of ['rrdcached', 'sqlite', 'clickhouse']) peers[name] = { name, roundMs: [], clientCpu: 0, peerCpu: 0, afterSecs: 0, afterCpu: 0, afterWhat: '', bytesPerSeries: 0 };
    const timed = async (p: Peer, fn: () => Promise<void> | void, peerCpu: () => number): Promise<void> => {
      const c0 = selfCpu();
      const e0 = peerCpu();
      const t0 = performance.now();
      await fn();
      p.roundMs.push(performance.now() - t0);
      p.clientCpu += selfCpu() - c0;
      p.peerCpu += peerCpu() - e0;
    };
    const chCpu = (): number => procCpu(chdb!.pid());
    const none = (): number => 0;
    const run: Record<string, (r: number) => Promise<void>> = {
      rrdcached: (r) =>
        timed(
          peers.rrdcached!,
          async () => {
            const res = await cached!.batch(files.map((f, i) => `UPDATE ${f} ${T0 + STEP * (r + 1)}:${value(i, r)}`));
            if (!res.startsWith('0 errors')) throw new Error(`rrdcached: ${res}`);
          },
          () => cached!.cpuSeconds(),
        ),
      sqlite: (r) =>
        timed(
          peers.sqlite!,
          () => {
            const res = sqlite.updateMany(names.map((series, i) => ({ series, args: [`${T0 + STEP * (r + 1)}:${value(i, r)}`] })));
            if (res.errors.size) throw [...res.errors.values()][0]!;
          },
          none,
        ),
      clickhouse: (r) =>
        timed(
          peers.clickhouse!,
          async () => {
            const res = await ch.updateMany(names.map((series, i) => ({ series, args: [`${T0 + STEP * (r + 1)}:${value(i, r)}`] })));
            if (res.errors.size) throw [...res.errors.values()][0]!;
          },
          chCpu,
        ),
    };
    const order = ['rrdcached', 'sqlite', 'clickhouse'];
    for (let r = 0; r < rounds; r++) for (let k = 0; k < 3; k++) await run[order[(r + k) % 3]!]!(r);

    // into the archives
    let c0 = selfCpu();
    let e0 = cached.cpuSeconds();
    let t0 = performance.now();
    await cached.flushEach(files);
    Object.assign(peers.rrdcached!, { afterSecs: (performance.now() - t0) / 1000, afterCpu: selfCpu() - c0 + cached.cpuSeconds() - e0, afterWhat: 'FLUSH every file' });
    peers.rrdcached!.bytesPerSeries = files.reduce((n, f) => n + statSync(join(cachedDir, f)).size, 0) / seriesCount;
    c0 = selfCpu();
    t0 = performance.now();
    const sqliteBytes = sqlite.compactSize(); // checkpoints the journal, then the WAL
    Object.assign(peers.sqlite!, { afterSecs: (performance.now() - t0) / 1000, afterCpu: selfCpu() - c0, afterWhat: 'journal checkpoint', bytesPerSeries: sqliteBytes / seriesCount });
    sqlite.close();
    const admin = openClient({ url: chdb.url, database: 'bench' }, 'bench');
    const partsBytes = async (): Promise<number> => {
      const rs = await admin.query({ query: `SELECT sum(bytes_on_disk) AS b FROM system.parts WHERE database = 'bench' AND active AND table LIKE 'metric_%'`, format: 'JSONEachRow' });
      return Number(((await rs.json()) as Array<{ b: number }>)[0]!.b);
    };
    const asInserted = await partsBytes();
    for (const t of ['metric_rows', 'metric_state', 'metric_series']) await admin.command({ query: `OPTIMIZE TABLE ${t} FINAL` });
    const merged = await partsBytes();
    await admin.close();
    Object.assign(peers.clickhouse!, { afterWhat: `none (rows stored per round); parts ${(asInserted / seriesCount).toFixed(0)} B/series as inserted`, bytesPerSeries: merged / seriesCount });
    await ch.close();

    const updates = seriesCount * rounds;
    console.log(`load average after: ${load()}`);
    console.log('peer         updates/s  round p50 ms  CPU s/1M (client + peer)   then: s, CPU s/1M  bytes/series');
    const p50 = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    for (const p of Object.values(peers)) {
      const secs = p.roundMs.reduce((a, b) => a + b, 0) / 1000;
      const cpu = `${((p.clientCpu * 1e6) / updates).toFixed(1)} + ${((p.peerCpu * 1e6) / updates).toFixed(1)}`;
      console.log(
        `${p.name.padEnd(11)} ${Math.round(updates / secs).toString().padStart(10)} ${p50(p.roundMs).toFixed(1).padStart(13)} ${cpu.padStart(26)}   ${p.afterSecs.toFixed(2)} s, ${((p.afterCpu * 1e6) / updates).toFixed(1)} (${p.afterWhat})  ${Math.round(p.bytesPerSeries)}`,
      );
    }
    const ups = (p: Peer): number => updates / (p.roundMs.reduce((a, b) => a + b, 0) / 1000);
    console.log(`clickhouse ÷ rrdcached BATCH: ${(ups(peers.clickhouse!) / ups(peers.rrdcached!)).toFixed(3)}; clickhouse ÷ sqlite: ${(ups(peers.clickhouse!) / ups(peers.sqlite!)).toFixed(3)}; chdb data dir ${Math.round(du(join(dir, 'chdb')) / seriesCount)} B/series`);
  } finally {
    await cached?.stop();
    await chdb?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
