// `npm run bench -- rrd [--series 1000] [--rounds 100] [--runs 3]`
// The collector's workload — one new value for each of many series per round — on the default
// host-metrics layout, side by side: rrdtool reading commands on stdin (`rrdtool -`),
// rrdcached fed in BATCH mode over a unix socket (with a -j journal), and ringtail's store
// (updateMany, one durable commit per round). Prints each run and the median table.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRrdStore } from '../collector/rrd/sqlite-store.js';
import { parseDefs } from '../collector/rrd/defs.js';

const LAYOUT = [
  'DS:value:GAUGE:20:U:U',
  'RRA:AVERAGE:0.5:1:8640',
  'RRA:AVERAGE:0.5:6:10080',
  'RRA:AVERAGE:0.5:30:8928',
  'RRA:AVERAGE:0.5:360:8784',
  'RRA:MIN:0.5:6:10080',
  'RRA:MAX:0.5:6:10080',
  'RRA:MIN:0.5:360:8784',
  'RRA:MAX:0.5:360:8784',
];
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

class Cached {
  private sock!: Socket;
  private buf = '';
  private waiter: (() => void) | undefined;
  readonly proc: ChildProcessWithoutNullStreams;
  constructor(
    readonly dir: string,
    readonly base: string,
  ) {
    mkdirSync(join(dir, 'journal'), { recursive: true });
    this.proc = spawn('rrdcached', ['-g', '-l', `unix:${join(dir, 'sock')}`, '-j', join(dir, 'journal'), '-b', base, '-B', '-F', '-p', join(dir, 'pid')]);
    this.proc.stderr.resume();
    this.proc.stdout.resume();
  }
  async connect(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        this.sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(join(this.dir, 'sock'), () => resolve(s));
          s.once('error', reject);
        });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => {
      this.buf += d;
      this.waiter?.();
    });
  }
  private async until(re: RegExp): Promise<string> {
    for (;;) {
      const m = re.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m.index + m[0].length);
        return m[0];
      }
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
  async batch(lines: string[]): Promise<string> {
    this.sock.write('BATCH\n');
    await this.until(/^0 Go ahead[^\n]*\n/m);
    this.sock.write(lines.join('\n') + '\n.\n');
    return this.until(/^-?\d+ errors\n/m);
  }
  async flushEach(files: string[]): Promise<void> {
    this.sock.write(files.map((f) => `FLUSH ${f}\n`).join(''));
    for (let i = 0; i < files.length; i++) await this.until(/^-?\d+ [^\n]*\n/m);
  }
  async stop(): Promise<void> {
    this.sock.end();
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }
}

function dirBytes(dir: string, suffix: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith(suffix))
    .reduce((s, f) => s + statSync(join(dir, f)).size, 0);
}

interface RunResult {
  rrdtool: { ups: number; bytes: number; fetchMs: number };
  cached: { ups: number; upsFlushed: number; bytes: number };
  ringtail: { ups: number; upsCheckpointed: number; upsDirect: number; upsNormal: number; bytes: number; fetchMs: number; createMs: number };
}

async function runOnce(seriesCount: number, rounds: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-rrd-'));
  try {
    const files = Array.from({ length: seriesCount }, (_, i) => `s${i}.rrd`);
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

    // rrdcached, BATCH mode
    const cached = new Cached(join(dir, 'cachedrun'), cachedDir);
    await cached.connect();
    t = performance.now();
    for (let r = 0; r < rounds; r++) {
      const res = await cached.batch(files.map((f, i) => `UPDATE ${f} ${T0 + STEP * (r + 1)}:${value(i, r)}`));
      if (!res.startsWith('0 errors')) throw new Error(`rrdcached: ${res}`);
    }
    const cachedSecs = (performance.now() - t) / 1000;
    await cached.flushEach(files);
    const cachedFlushedSecs = (performance.now() - t) / 1000;
    await cached.stop();
    const cachedRes = { ups: (seriesCount * rounds) / cachedSecs, upsFlushed: (seriesCount * rounds) / cachedFlushedSecs, bytes: dirBytes(cachedDir, '.rrd') / seriesCount };

    // ringtail: journaled updateMany (the collector's path), then the same in direct mode
    const def = parseDefs(LAYOUT, STEP);
    const storePath = join(dir, 'ringtail.db');
    let store = openRrdStore(storePath, { create: true });
    t = performance.now();
    for (let i = 0; i < seriesCount; i++) store.create(`s${i}`, def, { start: T0 });
    const createMs = performance.now() - t;
    t = performance.now();
    for (let r = 0; r < rounds; r++) {
      const res = store.updateMany(files.map((_, i) => ({ series: `s${i}`, args: [`${T0 + STEP * (r + 1)}:${value(i, r)}`] })));
      if (res.errors.size) throw [...res.errors.values()][0]!;
    }
    const rtSecs = (performance.now() - t) / 1000;
    store.checkpoint();
    const rtCheckpointed = (performance.now() - t) / 1000;
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
      const res = store.updateMany(files.map((_, i) => ({ series: `s${i}`, args: [`${T0 + STEP * (r + 1)}:${value(i, r)}`] })));
      if (res.errors.size) throw [...res.errors.values()][0]!;
    }
    const directSecs = (performance.now() - t) / 1000;
    store.close();
    // rrdcached's own guarantee (its journal is not fsync'd): survives a process crash, not power loss
    store = openRrdStore(storePath, { synchronous: 'NORMAL' });
    t = performance.now();
    for (let r = 2 * rounds; r < 3 * rounds; r++) {
      const res = store.updateMany(files.map((_, i) => ({ series: `s${i}`, args: [`${T0 + STEP * (r + 1)}:${value(i, r)}`] })));
      if (res.errors.size) throw [...res.errors.values()][0]!;
    }
    const normalSecs = (performance.now() - t) / 1000;
    store.close();
    return {
      rrdtool,
      cached: cachedRes,
      ringtail: {
        ups: (seriesCount * rounds) / rtSecs,
        upsCheckpointed: (seriesCount * rounds) / rtCheckpointed,
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
      `run ${i + 1}: rrdtool ${fmt(r.rrdtool.ups)}/s, rrdcached batch ${fmt(r.cached.ups)}/s (flushed ${fmt(r.cached.upsFlushed)}/s), ` +
        `ringtail ${fmt(r.ringtail.ups)}/s (checkpointed ${fmt(r.ringtail.upsCheckpointed)}/s, direct ${fmt(r.ringtail.upsDirect)}/s, synchronous=NORMAL ${fmt(r.ringtail.upsNormal)}/s), ` +
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
    '',
    '| peer / mode | updates/s | vs rrdtool | vs rrdcached BATCH | bytes/series | 1-year fetch |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(([name, ups, bytes, fetch]) => `| ${name} | ${fmt(ups)} | ${ratio(ups, rrd)} | ${ratio(ups, cached)} | ${bytes} | ${fetch} |`),
    '',
  ];
  process.stdout.write(out.join('\n') + '\n');
}
