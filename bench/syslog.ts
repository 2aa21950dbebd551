// `npm run bench -- syslog [lines] [runs] [--corpus 5424,3164] [--framing octet,lf] [--conns 1,50]
// [--shape second,real]`: the same N syslog messages over TCP from a separate sender process
// into (a) `ringtail collector` (SQLite + FTS5, synchronous=FULL, searchable) and (b) syslog-ng
// 3.38 with flow control writing $MSG lines to a file, side by side for every combination of
// corpus (RFC 5424, RFC 3164), framing (octet counting, LF), connections (the corpus dealt
// round-robin over 1 or 50) and shape:
// - `second`: the original corpus, ten hosts, one program, every stamp within one second;
// - `real`: 300 hosts, the usual daemons (bench/lib/loglines.ts's templates), stamps advancing
//   with arrival (100,000 lines a second from the corpus's creation, near the time they arrive).
// Reports end-to-end lines/s, receiver CPU seconds (ringtail: also split into the main thread,
// the writer thread and the other threads: V8's GC helpers, libuv) and peak RSS per million lines, medians of `runs`. Afterwards
// every run is checked: exactly N lines stored (syslog-ng: written), sample lines found by
// full-text search.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { genLine, hostName, rng } from './lib/loglines.js';

// RINGTAIL_BENCH_BIN: another build's bin/ringtail (before/after comparisons in one run);
// RINGTAIL_BENCH_BIN_B: a second build run beside it, each run right after the first's, its rows
// marked [B] and compared with the same syslog-ng runs (A/B under the same load)
const BIN = process.env.RINGTAIL_BENCH_BIN ?? fileURLToPath(new URL('../../bin/ringtail', import.meta.url));
const BIN_B = process.env.RINGTAIL_BENCH_BIN_B;
const TICK = 100; // USER_HZ on Linux

export interface Result {
  seconds: number;
  cpu: number;
  rssMb: number;
  /** ringtail only: CPU seconds of the main thread, the writer thread, and the other threads */
  threads?: { main: number; writer: number; rest: number };
}

export function procStats(pid: number): { cpu: number; hwmKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(f[11]) + Number(f[12])) / TICK;
  const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu, hwmKb: Number(hwm?.[1] ?? 0) };
}

/** CPU seconds of every thread of a process, by thread id (the main thread's is the pid). */
function threadsCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / TICK);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** main thread, busiest other thread (the writer thread), all the rest (GC helpers, libuv) */
function threadSplit(pid: number, before: Map<number, number>, after: Map<number, number>): { main: number; writer: number; rest: number } {
  const used = [...after].map(([tid, c]) => [tid, c - (before.get(tid) ?? 0)] as const);
  const main = used.find(([tid]) => tid === pid)?.[1] ?? 0;
  const others = used.filter(([tid]) => tid !== pid).map(([, c]) => c).sort((a, b) => b - a);
  return { main, writer: others[0] ?? 0, rest: others.slice(1).reduce((a, b) => a + b, 0) };
}

export async function until(what: string, probe: () => boolean, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One RFC 5424 message as syslog-ng's syslog() source expects it, octet-counted. */
export function frame(host: string, app: string, pid: number, severity: number, iso: string, msg: string): Buffer {
  const f = `<${8 + severity}>1 ${iso} ${host} ${app} ${pid} - - ${msg}`;
  return Buffer.from(`${Buffer.byteLength(f)} ${f}`);
}

export type Kind = '5424' | '3164';
export type Framing = 'octet' | 'lf';
export type Shape = 'second' | 'real';

interface Line {
  host: string;
  program: string;
  pid: number;
  severity: number;
  facility: number;
  ts: number;
  /** RFC 5424 stamp as the sender writes it */
  iso: string;
  message: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');
/** RFC 3164 stamp in UTC (the collector's default --syslog-time-zone), day space-padded */
const bsdStamp = (ts: number) => {
  const d = new Date(ts);
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
};

/** The corpus's lines; `second` is the original benchmark's, `real` the realistic shape. */
export function makeLines(n: number, shape: Shape): Line[] {
  const lines: Line[] = new Array(n);
  if (shape === 'second') {
    const base = Date.UTC(2026, 10, 23, 17, 0, 0);
    for (let i = 0; i < n; i++) {
      const ms = i % 1000;
      lines[i] = {
        host: `host-${i % 10}`,
        program: 'app',
        pid: 1000 + (i % 50),
        severity: 6,
        facility: 1,
        ts: base + ms,
        iso: `2026-11-23T17:00:00.${String(ms).padStart(3, '0')}Z`,
        message: `bench line ${i} user=alice action=login status=ok latency_ms=${i % 997} path=/api/v1/items/${i % 4096}`,
      };
    }
    return lines;
  }
  // 100,000 lines a second from now: the stamps advance as the lines arrive (rsyslog's RFC 5424
  // template writes microseconds and a numeric zone).
  const r = rng(17);
  const base = Date.now();
  const FACILITIES = [1, 3, 4, 10, 16, 17, 18, 23];
  for (let i = 0; i < n; i++) {
    const h = Math.floor(r() * 300);
    const g = genLine(r);
    const ts = base + Math.floor(i / 100);
    const iso = new Date(ts).toISOString().replace('Z', `${String(i % 1000).padStart(3, '0')}+00:00`);
    let hash = h * 131;
    for (let k = 0; k < g.program.length; k++) hash = (hash * 31 + g.program.charCodeAt(k)) % 30011;
    lines[i] = { host: hostName(h), program: g.program, pid: 100 + hash, severity: g.severity, facility: FACILITIES[h % FACILITIES.length]!, ts, iso, message: g.message };
  }
  return lines;
}

function render(l: Line, kind: Kind, framing: Framing): Buffer {
  const pri = l.facility * 8 + l.severity;
  const m = kind === '5424' ? `<${pri}>1 ${l.iso} ${l.host} ${l.program} ${l.pid} - - ${l.message}` : `<${pri}>${bsdStamp(l.ts)} ${l.host} ${l.program}[${l.pid}]: ${l.message}`;
  return Buffer.from(framing === 'octet' ? `${Buffer.byteLength(m)} ${m}` : `${m}\n`);
}

interface Corpus {
  /** one file per connection */
  files: string[];
  n: number;
  /** lines to look for afterwards by full-text search */
  samples: string[];
}

export function makeCorpus(dir: string, lines: Line[], kind: Kind, framing: Framing, conns: number, tag: string): Corpus {
  const files: string[] = [];
  const fds: number[] = [];
  const bufs: Buffer[][] = [];
  for (let c = 0; c < conns; c++) {
    const f = join(dir, `input-${tag}-${kind}-${framing}-${c}.bin`);
    files.push(f);
    fds.push(openSync(f, 'w'));
    bufs.push([]);
  }
  const flush = (c: number) => {
    writeSync(fds[c]!, Buffer.concat(bufs[c]!));
    bufs[c] = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const c = i % conns;
    bufs[c]!.push(render(lines[i]!, kind, framing));
    if (bufs[c]!.length >= 4096) flush(c);
  }
  for (let c = 0; c < conns; c++) {
    flush(c);
    closeSync(fds[c]!);
  }
  const step = Math.max(1, Math.floor(lines.length / 20));
  const samples: string[] = [];
  for (let i = lines.length - 1; i >= 0 && samples.length < 20; i -= step) samples.push(lines[i]!.message);
  return { files, n: lines.length, samples };
}

/** One process sending each file over its own connection, all at once. */
export function sender(file: string | string[], port: number): ChildProcess {
  const files = Array.isArray(file) ? file : [file];
  const script = `const net=require('net'),fs=require('fs');for(const f of ${JSON.stringify(files)}){const s=net.connect(${port},'127.0.0.1',()=>{fs.createReadStream(f).pipe(s)});s.on('error',e=>{console.error(e);process.exit(1)})}`;
  return spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
}

async function runRingtail(dir: string, corpus: Corpus, bin = BIN): Promise<Result> {
  const data = join(dir, 'rt');
  rmSync(data, { recursive: true, force: true });
  // RINGTAIL_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the collector's threads
  const nodeArgs = process.env.RINGTAIL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, bin, 'collector', '--data', data, '--listen', '127.0.0.1:0', '--admin-token', 'bench-admin-token-0123456789', '--log-level', 'warn', '--syslog-udp-port', '0', '--syslog-tcp-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await until('ringtail syslog port', () => /syslog receiver on tcp:\/\/[^:]+:(\d+)/.test(out), 30_000);
  const port = Number(/syslog receiver on tcp:\/\/[^:]+:(\d+)/.exec(out)![1]);
  const db = new Database(join(data, 'ringtail.db'), { readonly: true });
  // max(id), not count(*): ids are assigned 1, 2, 3… and the probe must not scan the table
  const last = db.prepare('SELECT max(id) FROM logs').pluck();
  const pid = child.pid!;
  const cpu0 = procStats(pid).cpu;
  const threads0 = threadsCpu(pid);
  const t0 = performance.now();
  sender(corpus.files, port);
  await until('ringtail to store every line', () => ((last.get() as number | null) ?? 0) >= corpus.n);
  const seconds = (performance.now() - t0) / 1000;
  const st = procStats(pid);
  const threads = threadSplit(pid, threads0, threadsCpu(pid));
  // Nothing lost, nothing twice, and searchable.
  const stored = db.prepare('SELECT count(*) FROM logs').pluck().get() as number;
  if (stored !== corpus.n) throw new Error(`ringtail stored ${stored} lines of ${corpus.n}`);
  const found = db.prepare("SELECT count(*) FROM logs WHERE id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?) AND message = ?").pluck();
  for (const m of corpus.samples) {
    const phrase = `"${(m.match(/[A-Za-z0-9]+/g) ?? []).join(' ')}"`;
    if (((found.get(phrase, m) as number) ?? 0) < 1) throw new Error(`ringtail: full-text search does not find ${JSON.stringify(m)}`);
  }
  db.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { seconds, cpu: st.cpu - cpu0, rssMb: st.hwmKb / 1024, threads };
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

/** Newlines in a growing file, read from where the last call stopped. */
function lineCounter(file: string): () => number {
  let fd = -1;
  let count = 0;
  const buf = Buffer.allocUnsafe(1 << 20);
  return () => {
    if (fd < 0) {
      try {
        fd = openSync(file, 'r');
      } catch {
        return 0;
      }
    }
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, null);
      if (got <= 0) break;
      for (let at = buf.indexOf(10); at >= 0 && at < got; at = buf.indexOf(10, at + 1)) count++;
    }
    return count;
  };
}

/**
 * syslog-ng with flow control, $MSG lines to a file. `input`/`msgBytes` (the older call, one
 * octet-counted RFC 5424 file) waits for the bytes; a Corpus waits for its lines.
 */
export async function runSyslogNg(dir: string, input: string | Corpus, msgBytes = 0, framing: Framing = 'octet', kind: Kind = '5424'): Promise<Result> {
  const ng = join(dir, 'ng');
  rmSync(ng, { recursive: true, force: true });
  mkdirSync(ng);
  const port = await freePort();
  const outFile = join(ng, 'out.log');
  const conns = typeof input === 'string' ? 1 : input.files.length;
  const maxConns = Math.max(10, conns * 2);
  // the initial window is shared by the connections: 1,000 messages each at least
  const iw = Math.max(10_000, maxConns * 1000);
  const src =
    framing === 'octet'
      ? `syslog(ip(127.0.0.1) transport(tcp) port(${port}) log-iw-size(${iw}) max-connections(${maxConns}))`
      : `network(ip(127.0.0.1) transport(tcp) port(${port}) log-iw-size(${iw}) max-connections(${maxConns})${kind === '5424' ? ' flags(syslog-protocol)' : ''})`;
  writeFileSync(
    join(ng, 'ng.conf'),
    `@version: 3.38
options { use-dns(no); dns-cache(no); stats-freq(0); };
source s { ${src}; };
destination d { file("${outFile}" template("$MSG\\n") log-fifo-size(${iw})); };
log { source(s); destination(d); flags(flow-control); };
`,
  );
  const child = spawn('syslog-ng', ['-F', '--no-caps', '-f', join(ng, 'ng.conf'), '-R', join(ng, 'persist'), '-p', join(ng, 'pid'), '-c', join(ng, 'ctl')], { stdio: 'inherit' });
  await until('syslog-ng to listen', () => {
    try {
      return readFileSync('/proc/net/tcp', 'utf8').includes(`:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`);
    } catch {
      return false;
    }
  }, 30_000);
  const cpu0 = procStats(child.pid!).cpu;
  const t0 = performance.now();
  let done: () => boolean;
  if (typeof input === 'string') {
    sender(input, port);
    done = () => {
      try {
        return statSync(outFile).size >= msgBytes;
      } catch {
        return false;
      }
    };
  } else {
    sender(input.files, port);
    const lines = lineCounter(outFile);
    done = () => lines() >= input.n;
  }
  await until('syslog-ng to write every line', done);
  const seconds = (performance.now() - t0) / 1000;
  const st = procStats(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  if (typeof input !== 'string') {
    const written = readFileSync(outFile).reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
    if (written !== input.n) throw new Error(`syslog-ng wrote ${written} lines of ${input.n}`);
  }
  return { seconds, cpu: st.cpu - cpu0, rssMb: st.hwmKb / 1024 };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function list<T extends string>(args: string[], name: string, all: readonly T[]): T[] {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return [...all];
  const want = (args[i + 1] ?? '').split(',');
  const bad = want.filter((w) => !all.includes(w as T));
  if (bad.length) throw new Error(`--${name}: ${bad.join(',')} is not one of ${all.join(',')}`);
  return want as T[];
}

export async function main(args: string[]): Promise<void> {
  const positional = args.filter((a, i) => !a.startsWith('--') && !(args[i - 1] ?? '').startsWith('--'));
  const n = Number(positional[0] ?? 200_000);
  const runs = Number(positional[1] ?? 3);
  const kinds = list<Kind>(args, 'corpus', ['5424', '3164']);
  const framings = list<Framing>(args, 'framing', ['octet', 'lf']);
  const connCounts = list(args, 'conns', ['1', '50']).map(Number);
  const shapes = list<Shape>(args, 'shape', ['second', 'real']);
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-syslog-'));
  const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
  const rows: string[] = [];
  const started = new Date().toISOString();
  const loadBefore = load();
  try {
    for (const shape of shapes) {
      const lines = makeLines(n, shape);
      for (const kind of kinds) {
        for (const framing of framings) {
          for (const conns of connCounts) {
            for (const f of readdirSync(dir)) if (f.startsWith('input-')) rmSync(join(dir, f));
            const corpus = makeCorpus(dir, lines, kind, framing, conns, shape);
            const rt: Result[] = [];
            const rtB: Result[] = [];
            const ng: Result[] = [];
            const name = `${shape} RFC ${kind}, ${framing}, ${conns} conn`;
            for (let i = 0; i < runs; i++) {
              rt.push(await runRingtail(dir, corpus));
              if (BIN_B) rtB.push(await runRingtail(dir, corpus, BIN_B));
              ng.push(await runSyslogNg(dir, corpus, 0, framing, kind));
              const b = ng[i]!;
              const show = (a: Result) => `${a.seconds.toFixed(2)} s, ${a.cpu.toFixed(2)} CPU s (main ${a.threads!.main.toFixed(2)}, writer ${a.threads!.writer.toFixed(2)}, other threads ${a.threads!.rest.toFixed(2)}, ${a.rssMb.toFixed(0)} MB)`;
              process.stderr.write(
                `${name} run ${i + 1}: ringtail ${show(rt[i]!)}${BIN_B ? `; [B] ${show(rtB[i]!)}` : ''}; syslog-ng ${b.seconds.toFixed(2)} s, ${b.cpu.toFixed(2)} CPU s; load ${load()}\n`,
              );
            }
            const lps = (r: Result[]) => median(r.map((x) => n / x.seconds));
            const cpu = (r: Result[], f: (x: Result) => number = (x) => x.cpu) => median(r.map((x) => (f(x) * 1e6) / n));
            const rss = (r: Result[]) => median(r.map((x) => x.rssMb));
            const [b, cb] = [lps(ng), cpu(ng)];
            for (const [label, r] of BIN_B ? ([[name, rt], [`${name} [B]`, rtB]] as const) : ([[name, rt]] as const)) {
              const [a, ca] = [lps(r), cpu(r)];
              rows.push(
                `| ${label} | ${Math.round(a)} | ${ca.toFixed(2)} (${cpu(r, (x) => x.threads!.main).toFixed(2)} / ${cpu(r, (x) => x.threads!.writer).toFixed(2)} / ${cpu(r, (x) => x.threads!.rest).toFixed(2)}) | ${rss(r).toFixed(0)} | ${Math.round(b)} | ${cb.toFixed(2)} | ${rss(ng).toFixed(0)} | **${(a / b).toFixed(2)}×** | ${(ca / cb).toFixed(2)}× |`,
              );
            }
          }
        }
      }
    }
    const out = [
      `${n} messages per corpus, medians of ${runs} runs; ${started}, load before ${loadBefore}, after ${load()}`,
      'ringtail: `ringtail collector` (TCP → SQLite + FTS5, every line searchable); syslog-ng 3.38: TCP → file ($MSG), flow control',
      '',
      '| corpus, framing, connections | ringtail lines/s | CPU s per 1M (main / writer / other threads) | peak RSS MB | syslog-ng lines/s | CPU s per 1M | peak RSS MB | lines/s ratio | CPU ratio |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
    ];
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
