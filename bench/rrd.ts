// `npm run bench -- rrd [--series 1000] [--rounds 100] [--runs 3]`
// The collector's workload — one new value for each of many series per round — on the default
// host-metrics layout, side by side: rrdtool reading commands on stdin (`rrdtool -`),
// rrdcached fed in BATCH mode over a unix socket (with a -j journal), and ringtail's store
// (updateMany, one durable commit per round). Prints each run and the median table.
//
// rrdcached and ringtail take their rounds in turn (round r of one, then of the other, the
// order swapped every round), and the FLUSH and the checkpoint follow each other: on a shared
// machine the load and the disk's fsync latency change from second to second, and one peer
// timed a second after the other saw a different machine (single runs swung from 0.88× to
// 2.74×). Each run also prints both peers' CPU seconds per million updates (ringtail's process;
// rrdcached's threads from /proc plus the client's), the disk's fdatasync latency and the load,
// ringtail's round split into time on the CPU and off it (the fsync, or waiting for a core on a
// shared machine), and the garbage collection during the interleaved rounds: what moves a run's
// ratio. Both clients format only the time and value per update (names and file names are made
// once), and ringtail's setup ends with its WAL checkpointed, as the collector keeps it.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, copyFileSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { join } from 'node:path';
import { openRrdStore } from '../collector/rrd/sqlite-store.js';
import { parseDefs } from '../collector/rrd/defs.js';
import { Cached, HOST_LAYOUT } from './lib/rrdcached.js';

const LAYOUT = HOST_LAYOUT;
const STEP = 10;
const T0 = 1_700_000_000;
const YEAR = 365 * 86400;

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function value(series: number, round: number): string {
  return ((series * 7 + round * 13) % 1000 / 10).toFixed(1);
}

/** rrdtool's pipe mode: commands pipelined, one "OK"/"ERROR" line back per command. */
class Pipe {
  readonly child: ChildProcessWithoutNullStreams;
  private buf = '';
  private want = 0;
  private seen = 0;
  private errors: string[] = [];
  private done: (() => void) | undefined;
  constructor(cwd: string) {
    this.child = spawn('rrdtool', ['-'], { cwd });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        if (line.startsWith('OK ')) this.seen++;
        else if (line.startsWith('ERROR')) (this.seen++, this.errors.push(line));
      }
      if (this.seen >= this.want) this.done?.();
    });
  }
  async run(lines: string[]): Promise<string[]> {
    this.want = this.seen + lines.length;
    const p = new Promise<void>((r) => (this.done = r));
    this.child.stdin.write(lines.join('\n') + '\n');
    if (this.seen < this.want) await p;
    const e = this.errors;
    this.errors = [];
    return e;
  }
  close(): void {
    this.child.stdin.end();
  }
}

function dirBytes(dir: string, suffix: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .reduce((s, f) => s + statSync(join(dir, f)).size, 0);
}

/** fdatasync of 24 KiB rewritten in place (a durable round's WAL write): ms, sorted. */
function fsyncProbe(dir: string, n = 30): number[] {
  const f = join(dir, 'fsync-probe');
  const fd = openSync(f, 'w');
  const buf = Buffer.alloc(24 * 1024, 1);
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      writeSync(fd, buf, 0, buf.length, 0);
      const s = performance.now();
      fdatasyncSync(fd);
      out.push(performance.now() - s);
    }
  } finally {
    closeSync(fd);
    rmSync(f, { force: true });
  }
  return out.sort((a, b) => a - b);
}

const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

interface RunResult {
  load: [number, number];
  fsyncMs: { p50: number; p90: number };
  rrdtool: { ups: number; bytes: number; fetchMs: number };
  cached: {
    ups: number;
    upsFlushed: number;
    bytes: number;
    /** rrdcached's own threads during the BATCH rounds */
    cpuPerM: number;
    /** the client (this process) building and sending the BATCH rounds */
    clientCpuPerM: number;
    /** everything until the files are written: rounds and FLUSH, rrdcached and client */
    cpuFlushedPerM: number;
    roundMs: { p50: number; p90: number };
  };
  ringtail: {
    ups: number;
    upsCheckpointed: number;
    upsDirect: number;
    upsNormal: number;
    bytes: number;
    fetchMs: number;
    createMs: number;
    cpuPerM: number;
    cpuCheckpointedPerM: number;
    roundMs: { p50: number; p90: number };
    /** per round: CPU ms, and the rest (off the CPU: the fsync, or waiting for a core) */
    roundCpuMs: { p50: number; p90: number };
    roundOffCpuMs: { p50: number; p90: number };
  };
  /** garbage collection during the interleaved rounds, ms */
  gcMs: number;
}

async function runOnce(seriesCount: number, rounds: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-rrd-'));
  const load0 = loadavg()[0]!;
  try {
    const files = Array.from({ length: seriesCount }, (_, i) => `s${i}.rrd`);
    // ringtail's series names made once, as rrdcached's file names are (`files`): both clients
    // format only the time and the value per update (each round used to format `s${i}` anew
    // for ringtail alone)
    const names = Array.from({ length: seriesCount }, (_, i) => `s${i}`);
    // rrdtool -
    const rrdDir = join(dir, 'rrdtool');
    mkdirSync(rrdDir);
    const pipe = new Pipe(rrdDir);
    const createErrors = await pipe.run(files.map((f) => `create ${f} --start ${T0} --step ${STEP} ${LAYOUT.join(' ')}`));
    if (createErrors.length) throw new Error(createErrors[0]);
    // rrdcached gets its own copies of the fresh files
    const cachedDir = join(dir, 'cached');
    mkdirSync(cachedDir);
    for (const f of files) copyFileSync(join(rrdDir, f), join(cachedDir, f));
    let t = performance.now();
    for (let r = 0; r < rounds; r++) {
      const errs = await pipe.run(files.map((f, i) => `update ${f} ${T0 + STEP * (r + 1)}:${value(i, r)}`));
      if (errs.length) throw new Error(errs[0]);
    }
    const rrdSecs = (performance.now() - t) / 1000;
    const fetchTimes: number[] = [];
    const last = T0 + STEP * rounds;
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      await pipe.run([`fetch ${files[i % files.length]} AVERAGE -s ${last - YEAR} -e ${last}`]);
      fetchTimes.push(performance.now() - s);
    }
    pipe.close();
    const rrdtool = { ups: (seriesCount * rounds) / rrdSecs, bytes: dirBytes(rrdDir, '.rrd') / seriesCount, fetchMs: median(fetchTimes) };

    // rrdcached (BATCH) and ringtail (journaled updateMany, the collector's path) in turn
    const cached = new Cached(join(dir, 'cachedrun'), cachedDir);
    await cached.connect();
    const def = parseDefs(LAYOUT, STEP);
    const storePath = join(dir, 'ringtail.db');
    let store = openRrdStore(storePath, { create: true });
    t = performance.now();
    for (let i = 0; i < seriesCount; i++) store.create(names[i]!, def, { start: T0 });
    const createMs = performance.now() - t;
    // Setup ends with the WAL copied back, as the collector's checkpointer thread leaves it
    // (collector/metrics/wal-checkpointer.ts): the rounds' commits then rewrite the WAL from its
    // start instead of appending to the 1,000 creations' frames (a growing file costs each
    // fsync a metadata commit). rrdcached starts from fresh files and an empty journal too.
    store.walCheckpoint();
    const fsyncMs = fsyncProbe(dir);
    const cachedRounds: number[] = [];
    const rtRounds: number[] = [];
    /** ringtail's CPU ms per round: the rest of its round is off the CPU (the fsync, or waiting for a core) */
    const rtRoundCpu: number[] = [];
    // garbage collection during the interleaved rounds (either peer's garbage, collected in either's round)
    let gcMs = 0;
    const gcObs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcMs += e.duration;
    });
    gcObs.observe({ entryTypes: ['gc'] });
    let cachedClientCpu = 0;
    let rtCpu = 0;
    const cachedCpu0 = cached.cpuSeconds();
    const cachedRound = async (r: number): Promise<void> => {
      const c = cpuNow();
      const s = performance.now();
      const res = await cached.batch(files.map((f, i) => `UPDATE ${f} ${T0 + STEP * (r + 1)}:${value(i, r)}`));
      cachedRounds.push(performance.now() - s);
      cachedClientCpu += cpuNow() - c;
      if (!res.startsWith('0 errors')) throw new Error(`rrdcached: ${res}`);
    };
    const rtRound = (r: number): void => {
      const c = cpuNow();
      const s = performance.now();
      const res = store.updateMany(names.map((series, i) => ({ series, args: [`${T0 + STEP * (r + 1)}:${value(i, r)}`] })));
      rtRounds.push(performance.now() - s);
      const used = cpuNow() - c;
      rtCpu += used;
      rtRoundCpu.push(used * 1000);
      if (res.errors.size) throw [...res.errors.values()][0]!;
    };
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) {
        await cachedRound(r);
        rtRound(r);
      } else {
        rtRound(r);
        await cachedRound(r);
      }
    }
    gcObs.disconnect();
    const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / 1000;
    const offCpu = rtRounds.map((ms, i) => Math.max(0, ms - rtRoundCpu[i]!)).sort((a, b) => a - b);
    const rtCpuSorted = [...rtRoundCpu].sort((a, b) => a - b);
    const cachedSecs = sum(cachedRounds);
    const rtSecs = sum(rtRounds);
    // into the archives: every file FLUSHed, the whole journal checkpointed, one after the other
    const cachedBatchCpu = cached.cpuSeconds() - cachedCpu0;
    let c = cpuNow();
    t = performance.now();
    await cached.flushEach(files);
    const cachedFlushSecs = (performance.now() - t) / 1000;
    const cachedFlushClientCpu = cpuNow() - c;
    const cachedFlushCpu = cached.cpuSeconds() - cachedCpu0 - cachedBatchCpu;
    await cached.stop();
    c = cpuNow();
    t = performance.now();
    store.checkpoint();
    const rtCheckpointSecs = (performance.now() - t) / 1000;
    const rtCheckpointCpu = cpuNow() - c;
    const updates = seriesCount * rounds;
    const cachedRes = {
      ups: updates / cachedSecs,
      upsFlushed: updates / (cachedSecs + cachedFlushSecs),
      bytes: dirBytes(cachedDir, '.rrd') / seriesCount,
      cpuPerM: (cachedBatchCpu * 1e6) / updates,
      clientCpuPerM: (cachedClientCpu * 1e6) / updates,
      cpuFlushedPerM: ((cachedBatchCpu + cachedFlushCpu + cachedClientCpu + cachedFlushClientCpu) * 1e6) / updates,
      roundMs: { p50: pct([...cachedRounds].sort((a, b) => a - b), 0.5), p90: pct([...cachedRounds].sort((a, b) => a - b), 0.9) },
    };
    const bytes = store.compactSize() / seriesCount;
    const ft: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = performance.now();
      store.fetch(`s${i % seriesCount}`, 'AVERAGE', { start: last - YEAR, end: last });
      ft.push(performance.now() - s);
    }
    store.close();
    store = openRrdStore(storePath, { journal: false });
    t = performance.now();
    for (let r = rounds; r < 2 * rounds; r++) {
      const res = store.updateMany(names.map((series, i) => ({ series, args: [`${T0 + STEP * (r + 1)}:${value(i, r)}`] })));
      if (res.errors.size) throw [...res.errors.values()][0]!;
    }
    const directSecs = (performance.now() - t) / 1000;
    store.close();
    // rrdcached's own guarantee (its journal is not fsync'd): survives a process crash, not power loss
    store = openRrdStore(storePath, { synchronous: 'NORMAL' });
    t = performance.now();
    for (let r = 2 * rounds; r < 3 * rounds; r++) {
      const res = store.updateMany(names.map((series, i) => ({ series, args: [`${T0 + STEP * (r + 1)}:${value(i, r)}`] })));
      if (res.errors.size) throw [...res.errors.values()][0]!;
    }
    const normalSecs = (performance.now() - t) / 1000;
    store.close();
    rtRounds.sort((a, b) => a - b);
    return {
      load: [load0, loadavg()[0]!],
      fsyncMs: { p50: pct(fsyncMs, 0.5), p90: pct(fsyncMs, 0.9) },
      rrdtool,
      gcMs,
      cached: cachedRes,
      ringtail: {
        ups: updates / rtSecs,
        upsCheckpointed: updates / (rtSecs + rtCheckpointSecs),
        cpuPerM: (rtCpu * 1e6) / updates,
        cpuCheckpointedPerM: ((rtCpu + rtCheckpointCpu) * 1e6) / updates,
        roundMs: { p50: pct(rtRounds, 0.5), p90: pct(rtRounds, 0.9) },
        roundCpuMs: { p50: pct(rtCpuSorted, 0.5), p90: pct(rtCpuSorted, 0.9) },
        roundOffCpuMs: { p50: pct(offCpu, 0.5), p90: pct(offCpu, 0.9) },
        upsDirect: (seriesCount * rounds) / directSecs,
        upsNormal: (seriesCount * rounds) / normalSecs,
        bytes,
        fetchMs: median(ft),
        createMs,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

export async function main(args: string[]): Promise<void> {
  const seriesCount = arg(args, 'series', 1000);
  const rounds = arg(args, 'rounds', 100);
  const runs = arg(args, 'runs', 3);
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runOnce(seriesCount, rounds);
    results.push(r);
    process.stdout.write(
      `run ${i + 1} (load ${r.load[0].toFixed(1)}→${r.load[1].toFixed(1)}, fdatasync p50 ${r.fsyncMs.p50.toFixed(2)} / p90 ${r.fsyncMs.p90.toFixed(2)} ms): ` +
        `rrdtool ${fmt(r.rrdtool.ups)}/s, rrdcached batch ${fmt(r.cached.ups)}/s (flushed ${fmt(r.cached.upsFlushed)}/s; round p50 ${r.cached.roundMs.p50.toFixed(2)} / p90 ${r.cached.roundMs.p90.toFixed(2)} ms; CPU s/1M ${r.cached.cpuPerM.toFixed(2)} rrdcached + ${r.cached.clientCpuPerM.toFixed(2)} client, ${r.cached.cpuFlushedPerM.toFixed(2)} with FLUSH), ` +
        `ringtail ${fmt(r.ringtail.ups)}/s = ${ratio(r.ringtail.ups, r.cached.ups)} (round p50 ${r.ringtail.roundMs.p50.toFixed(2)} / p90 ${r.ringtail.roundMs.p90.toFixed(2)} ms, of which on CPU p50 ${r.ringtail.roundCpuMs.p50.toFixed(2)} / p90 ${r.ringtail.roundCpuMs.p90.toFixed(2)}, off CPU p50 ${r.ringtail.roundOffCpuMs.p50.toFixed(2)} / p90 ${r.ringtail.roundOffCpuMs.p90.toFixed(2)}; ${r.ringtail.cpuPerM.toFixed(2)} CPU s/1M), GC ${r.gcMs.toFixed(0)} ms over both peers' rounds, ` +
        `checkpointed ${fmt(r.ringtail.upsCheckpointed)}/s = ${ratio(r.ringtail.upsCheckpointed, r.cached.upsFlushed)} of flushed (${r.ringtail.cpuCheckpointedPerM.toFixed(2)} CPU s/1M), ` +
        `direct ${fmt(r.ringtail.upsDirect)}/s, synchronous=NORMAL ${fmt(r.ringtail.upsNormal)}/s, ` +
        `bytes/series ${fmt(r.rrdtool.bytes)} / ${fmt(r.ringtail.bytes)}, 1-year fetch ${r.rrdtool.fetchMs.toFixed(2)} / ${r.ringtail.fetchMs.toFixed(3)} ms, ` +
        `ringtail create ${fmt(r.ringtail.createMs)} ms\n`,
    );
  }
  const m = (f: (r: RunResult) => number): number => median(results.map(f));
  const rrd = m((r) => r.rrdtool.ups);
  const cached = m((r) => r.cached.ups);
  const rows: Array<[string, number, string, string]> = [
    ['rrdtool - (one process, commands on stdin; no fsync)', rrd, `${fmt(m((r) => r.rrdtool.bytes))}`, `${m((r) => r.rrdtool.fetchMs).toFixed(2)} ms (incl. pipe)`],
    ['rrdcached BATCH, -j journal (accepted; files written later)', cached, `${fmt(m((r) => r.cached.bytes))}`, ''],
    ['rrdcached BATCH + FLUSH of every file', m((r) => r.cached.upsFlushed), '', ''],
    ['ringtail updateMany (journal, one fsync\'d commit per round)', m((r) => r.ringtail.ups), `${fmt(m((r) => r.ringtail.bytes))}`, `${m((r) => r.ringtail.fetchMs).toFixed(3)} ms`],
    ['ringtail updateMany + checkpoint into the archives', m((r) => r.ringtail.upsCheckpointed), '', ''],
    ['ringtail updateMany, direct mode (archives written per round)', m((r) => r.ringtail.upsDirect), '', ''],
    ['ringtail updateMany, synchronous=NORMAL (survives a process crash, as rrdcached\'s journal)', m((r) => r.ringtail.upsNormal), '', ''],
  ];
  const out = [
    `rrd benchmark: ${seriesCount} series × ${rounds} rounds, default host layout (step 10 s, 8 RRAs), median of ${runs} runs`,
    `per run, ringtail ÷ rrdcached BATCH: ${results.map((r) => ratio(r.ringtail.ups, r.cached.ups)).join(', ')}; checkpointed ÷ BATCH + FLUSH: ${results.map((r) => ratio(r.ringtail.upsCheckpointed, r.cached.upsFlushed)).join(', ')}`,
    `CPU s per 1M updates (median): rrdcached BATCH ${m((r) => r.cached.cpuPerM).toFixed(2)} (its threads) + ${m((r) => r.cached.clientCpuPerM).toFixed(2)} (the client building and sending the lines), with FLUSH ${m((r) => r.cached.cpuFlushedPerM).toFixed(2)}; ` +
      `ringtail ${m((r) => r.ringtail.cpuPerM).toFixed(2)} (building the items included), + checkpoint ${m((r) => r.ringtail.cpuCheckpointedPerM).toFixed(2)}`,
    '',
    '| peer / mode | updates/s | vs rrdtool | vs rrdcached BATCH | bytes/series | 1-year fetch |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(([name, ups, bytes, fetch]) => `| ${name} | ${fmt(ups)} | ${ratio(ups, rrd)} | ${ratio(ups, cached)} | ${bytes} | ${fetch} |`),
    '',
  ];
  process.stdout.write(out.join('\n') + '\n');
}
