// `npm run bench -- logs [--lines N] [--runs R] [--only ringtail|syslog-ng] [--timestamps ordered|cyclic] [--corpus syslog|json] [--peer tuned|default|both] [--storage clickhouse]`
// `--storage clickhouse`: each run also ships the file to a collector with `--storage clickhouse`
// (one chdb server for the run, bench/lib/ch-side.ts), and a second table compares the two
// collectors: lines/s, CPU s per 1 M lines of the collector and of the chdb engine, bytes on disk
// per stored line.
// `--peer`: syslog-ng as its documentation advises for throughput (`log-fetch-limit(1000)` on both
// sources, `flush-lines(1000)` on the file destination: ~22% faster here), at its defaults, or both
// (the default), so the ratio is against syslog-ng at its best and the old figures stay comparable.
//
// The same file of N syslog lines (default 1,000,000, about 100 MB) moved end to end:
//   ringtail:  agent (file) → HTTP → collector → SQLite + FTS5 (searchable)
//   syslog-ng: client file() source → TCP → server network() source → file()
// both with flow control (ringtail acknowledges each batch after its commit; syslog-ng with
// flags(flow-control) on both sides). Timed from the start of the shipping process to the
// moment the last line is stored; the shipper's CPU seconds (/proc/PID/stat) and peak RSS
// (VmHWM) are read just before it is stopped. Prints a table of medians and the ratio.
// `--corpus json`: pino-like JSON lines instead (level, time, pid, hostname, msg, a nested req,
// responseTime); ringtail parses them with its default parser (auto: message, level, time, and
// the rest as fields), syslog-ng with json-parser() on the client, which sends the parsed fields
// as $(format-json …) and the server writes them as they come: each side parses every line once.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import Database from 'better-sqlite3';
import { clickhouseSide, sqliteBytes, storageArg, type ChSide } from './lib/ch-side.js';
import { startTimeline } from './lib/timeline.js';

// RINGTAIL_BENCH_BIN: another build's bin/ringtail (before/after comparisons in one run);
// RINGTAIL_BENCH_BIN_B: a second build run beside it, each ringtail run right after the first's,
// its rows marked [B] and compared with the same syslog-ng runs (A/B under the same load).
// RINGTAIL_BENCH_TIMELINE=DIR: a TSV per ringtail run there, one row per 100 ms (bench/lib/timeline.ts):
// each side's CPU, and for the agent's, the collector's event loop and its writer thread the time
// on a CPU, runnable but waiting for one (the machine's load) and blocked (the pipeline's idle).
const BIN = process.env.RINGTAIL_BENCH_BIN ?? fileURLToPath(new URL('../../bin/ringtail', import.meta.url));
const BIN_B = process.env.RINGTAIL_BENCH_BIN_B;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

interface Result {
  seconds: number;
  linesPerSec: number;
  cpuSeconds: number;
  rssMb: number;
  /** ringtail: the collector's CPU s per 1 M lines, the chdb engine's (ClickHouse), bytes on disk per line */
  collectorCpu?: number;
  engineCpu?: number;
  bytesPerLine?: number;
}

export function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : def;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * N lines the way a Debian host writes /var/log/syslog with the traditional format. `ordered`
 * (default): time never goes back, 100 lines a second from Nov 23 18:00:00, as a busy host
 * writes them. `cyclic`: the clock runs through the same hour over and over (i mod 3600
 * seconds), the input of the figures before 2026-11-29, which makes every commit insert into
 * thousands of places of the collector's time indexes.
 */
export async function writeInput(path: string, n: number, timestamps: string, corpus: string): Promise<number> {
  const out = createWriteStream(path);
  // JSON corpus: event times from 3 h ago, 100 a second (1 M lines span ~2.8 h, none in the future).
  const jsonBase = Date.now() - 3 * 3_600_000;
  const pad = 'lorem ipsum dolor sit amet consectetur';
  const p2 = (v: number) => String(v).padStart(2, '0');
  let bytes = 0;
  let chunk = '';
  for (let i = 0; i < n; i++) {
    const sec = timestamps === 'cyclic' ? i % 3600 : Math.floor(i / 100);
    const hms = `${p2(18 + Math.floor(sec / 3600))}:${p2(Math.floor(sec / 60) % 60)}:${p2(sec % 60)}`;
    if (corpus === 'json') {
      const time = jsonBase + (timestamps === 'cyclic' ? (i % 3600) * 1000 : i * 10);
      // One line in 100 is an error (level 50): the run checks that ringtail read the levels.
      chunk += `{"level":${i % 100 === 0 ? 50 : 30},"time":${time},"pid":${1000 + (i % 50)},"hostname":"bench-host","req":{"method":"GET","url":"/api/v1/users/${i % 997}"},"responseTime":${i % 997},"msg":"request ${i} served in ${i % 997} ms ${pad}"}\n`;
    } else chunk += `Nov 23 ${hms} bench-host app[${1000 + (i % 50)}]: request ${i} served in ${i % 997} ms ${pad}\n`;
    if (chunk.length > 1 << 20) {
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  bytes += Buffer.byteLength(chunk);
  out.end(chunk);
  await new Promise<void>((r) => out.once('finish', () => r()));
  return bytes;
}

export function procStats(pid: number): { cpu: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] = utime, fields[12] = stime (1-based 14 and 15 in proc(5))
  const cpu = (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return { cpu, rssMb: Number(hwm) / 1024 };
}

/** CPU seconds of a process's main thread and of its busiest other thread (the collector's writer). */
export function threadCpu(pid: number): { main: number; other: number } {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const s = (Number(f[11]) + Number(f[12])) / CLK_TCK;
      if (Number(tid) === pid) main = s;
      else other = Math.max(other, s);
    } catch {
      // the thread ended meanwhile
    }
  }
  return { main, other };
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

async function runRingtail(dir: string, input: string, n: number, corpus: string, ch?: ChSide, bin = BIN): Promise<Result> {
  const data = join(dir, 'data');
  const database = ch?.nextDatabase();
  const admin = 'rt_admin_bench_0123456789abcdef';
  const token = execFileSync(process.execPath, [bin, 'token', 'create', '--data', data, '--role', 'agent']).toString().trim();
  const port = await freePort();
  // RINGTAIL_BENCH_NODE_ARGS: node flags for the collector (e.g. --cpu-prof), as in bench/ingest.ts
  const nodeArgs = process.env.RINGTAIL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  // RINGTAIL_BENCH_AGENT_NODE_ARGS: the same for the agent (e.g. --cpu-prof --cpu-prof-dir=DIR)
  const agentNodeArgs = process.env.RINGTAIL_BENCH_AGENT_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  // RINGTAIL_BENCH_LOG_DIR: keep each run's collector and agent logs (info level) there, to
  // explain a slow run afterwards (retries, 409s, holds).
  const logDir = process.env.RINGTAIL_BENCH_LOG_DIR;
  const logLevel = logDir ? 'info' : 'warn';
  const runTag = `${Date.now()}`;
  const timelineDir = process.env.RINGTAIL_BENCH_TIMELINE;
  const collector = spawn(process.execPath, [...nodeArgs, bin, 'collector', '--data', data, '--listen', `127.0.0.1:${port}`, '--admin-token', admin, '--log-level', logLevel, '--syslog-udp-port', '0', '--syslog-tcp-port', '0', ...(ch ? ch.flags(database!) : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const collectorLog = logDir ? createWriteStream(join(logDir, `${runTag}-collector.log`)) : null;
  collector.stdout!.on('data', (d) => {
    if (!/listening on/.test(out)) out += d;
    collectorLog?.write(d);
  });
  while (!/listening on/.test(out)) {
    if (collector.exitCode !== null) throw new Error('collector exited');
    await sleep(50);
  }
  if (ch) return runOnClickhouse(ch, database!, dir, input, n, port, token, collector);
  const db = new Database(join(data, 'ringtail.db'), { readonly: true });
  const count = db.prepare('SELECT count(*) FROM logs').pluck();
  const agentLog = logDir ? openSync(join(logDir, `${runTag}-agent.log`), 'w') : null;
  const c0 = procStats(collector.pid!).cpu;
  const t0 = performance.now();
  // bin/ringtail run as a program, as on a clone (its sh line gives the agent MALLOC_ARENA_MAX=2);
  // through node only when node flags are asked for.
  const agent = spawn(
    agentNodeArgs.length > 0 ? process.execPath : bin,
    [...(agentNodeArgs.length > 0 ? [...agentNodeArgs, bin] : []), 'agent', '--collector', `http://127.0.0.1:${port}`, '--watch', input, '--state', join(dir, 'state'), '--host', 'bench-host', '--stats-interval-ms', logDir ? '1000' : '600000'],
    { stdio: ['ignore', agentLog ?? 'ignore', agentLog ?? 'ignore'], env: { ...process.env, RINGTAIL_TOKEN: token } },
  );
  if (agentLog !== null) closeSync(agentLog);
  const maxId = db.prepare('SELECT max(id) FROM logs').pluck();
  const stopTimeline = timelineDir
    ? startTimeline({ out: join(timelineDir, `${runTag}-timeline.tsv`), agentPid: agent.pid!, collectorPid: collector.pid!, spoolDir: join(dir, 'state', 'spool'), wal: join(data, 'ringtail.db-wal'), stored: () => (maxId.get() as number | null) ?? 0 })
    : () => {};
  // max(id) is one b-tree descent (ids are given in order in a new database, so it is at least the
  // count); count(*) walks an index of up to a million entries, so it only confirms the end
  const stored = () => {
    const top = (maxId.get() as number | null) ?? 0;
    return top < n ? top : (count.get() as number);
  };
  await waitCount(n, stored, agent, 'agent', 10);
  const seconds = (performance.now() - t0) / 1000;
  stopTimeline();
  const st = procStats(agent.pid!);
  const cst = procStats(collector.pid!);
  const th = threadCpu(collector.pid!);
  const threads = `event loop ${th.main.toFixed(2)}, writer ${th.other.toFixed(2)}`;
  // Searchable: the full-text index answers for a line in the middle of the file.
  const probe = db.prepare("SELECT count(*) FROM logs_fts WHERE logs_fts MATCH '\"request 500000 served\"'").pluck().get() as number;
  // JSON corpus: the levels were read (one line in 100 is level 50, stored as err).
  const errors = corpus === 'json' ? (db.prepare('SELECT count(*) FROM logs WHERE severity = 3').pluck().get() as number) : 0;
  db.close();
  await stop(agent);
  await stop(collector);
  if (n > 500_000 && probe < 1) throw new Error('line 500000 is not searchable');
  if (corpus === 'json' && errors !== Math.ceil(n / 100)) throw new Error(`JSON levels not parsed: ${errors} err lines, expected ${Math.ceil(n / 100)}`);
  process.stderr.write(`  ringtail: ${seconds.toFixed(2)} s, agent cpu ${st.cpu.toFixed(2)} s rss ${st.rssMb.toFixed(1)} MB; collector cpu ${cst.cpu.toFixed(2)} s (${threads}) rss ${cst.rssMb.toFixed(1)} MB; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  return { seconds, linesPerSec: n / seconds, cpuSeconds: (st.cpu * 1_000_000) / n, rssMb: st.rssMb, collectorCpu: ((cst.cpu - c0) * 1e6) / n, bytesPerLine: sqliteBytes(data) / n };
}

/** The same run against a collector with --storage clickhouse: counted in ClickHouse, the engine's CPU beside the collector's. */
async function runOnClickhouse(ch: ChSide, database: string, dir: string, input: string, n: number, port: number, token: string, collector: ChildProcess): Promise<Result> {
  const c0 = procStats(collector.pid!).cpu;
  const e0 = ch.engineCpu();
  const t0 = performance.now();
  const agent = spawn(BIN, ['agent', '--collector', `http://127.0.0.1:${port}`, '--watch', input, '--state', join(dir, 'state'), '--host', 'bench-host', '--stats-interval-ms', '600000'], {
    stdio: 'ignore',
    env: { ...process.env, RINGTAIL_TOKEN: token },
  });
  // polled every 50 ms: each count is one query the engine answers beside the inserts
  await waitCount(n, () => ch.count(database), agent, 'agent');
  const seconds = (performance.now() - t0) / 1000;
  const st = procStats(agent.pid!);
  const cst = procStats(collector.pid!);
  const engine = ch.engineCpu() - e0;
  await stop(agent);
  await stop(collector);
  const bytes = await ch.partsBytes(database);
  process.stderr.write(`  ringtail on ClickHouse: ${seconds.toFixed(2)} s, agent cpu ${st.cpu.toFixed(2)} s; collector cpu ${(cst.cpu - c0).toFixed(2)} s, chdb engine ${engine.toFixed(2)} s\n`);
  return { seconds, linesPerSec: n / seconds, cpuSeconds: (st.cpu * 1_000_000) / n, rssMb: st.rssMb, collectorCpu: ((cst.cpu - c0) * 1e6) / n, engineCpu: (engine * 1e6) / n, bytesPerLine: bytes / n };
}

export function syslogNg(dir: string, name: string, conf: string): ChildProcess {
  const c = join(dir, `${name}.conf`);
  writeFileSync(c, conf);
  return spawn(
    'syslog-ng',
    ['-F', '--no-caps', '-f', c, '-R', join(dir, `${name}.persist`), '-p', join(dir, `${name}.pid`), '-c', join(dir, `${name}.ctl`)],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/** Waits until something listens on the port (a bind to it fails); `proc` exiting first is an error. */
export async function waitListening(port: number, proc: ChildProcess, name: string): Promise<void> {
  for (;;) {
    const taken = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (taken) return;
    if (proc.exitCode !== null) throw new Error(`${name} exited`);
    await sleep(50);
  }
}

/**
 * Waits until `count()` reaches n, asking every `everyMs`; the shipper exiting first is an error.
 * The poll interval is the run's resolution: up to `everyMs` is added to each timing (half on
 * average), so both sides of a comparison are polled alike.
 */
export async function waitCount(n: number, count: () => number | Promise<number>, shipper: ChildProcess, name: string, everyMs = 50): Promise<void> {
  let stored = 0;
  while (stored < n) {
    await sleep(everyMs);
    stored = await count();
    if (shipper.exitCode !== null) throw new Error(`${name} exited`);
  }
}

/** Counts newlines appended to a file since the last call. */
export function lineCounter(path: string): () => number {
  let offset = 0;
  let lines = 0;
  const buf = Buffer.allocUnsafe(4 << 20);
  return () => {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return lines;
    }
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n === 0) break;
        offset += n;
        let i = -1;
        while ((i = buf.indexOf(10, i + 1)) !== -1 && i < n) lines++;
      }
    } finally {
      closeSync(fd);
    }
    return lines;
  };
}

async function runSyslogNg(dir: string, input: string, n: number, corpus: string, tuned: boolean): Promise<Result> {
  const json = corpus === 'json';
  const fetch = tuned ? ' log-fetch-limit(1000)' : '';
  const port = await freePort();
  const output = join(dir, 'out.log');
  const server = syslogNg(
    dir,
    'server',
    `@version: 3.38
options { stats_freq(0); keep_hostname(yes); };
source s_net { network(ip("127.0.0.1") port(${port}) transport("tcp") log-iw-size(20000) max-connections(10)${fetch}${json ? ' flags(no-parse)' : ''}); };
destination d_file { file("${output}"${json ? ' template("$MSG\\n")' : ''}${tuned ? ' flush-lines(1000)' : ''}); };
log { source(s_net); destination(d_file); flags(flow-control); };
`,
  );
  await waitListening(port, server, 'syslog-ng server');
  const count = lineCounter(output);
  const t0 = performance.now();
  const client = syslogNg(
    dir,
    'client',
    `@version: 3.38
options { stats_freq(0); };
source s_file { file("${input}" follow-freq(1) log-iw-size(20000)${fetch}${json ? ' flags(no-parse)' : ''}); };
${json ? 'parser p_json { json-parser(prefix(".json.")); };\n' : ''}destination d_net { network("127.0.0.1" port(${port}) transport("tcp")${json ? ' template("$(format-json --key .json.* --rekey .json.* --shift 6)\\n")' : ''}); };
log { source(s_file); ${json ? 'parser(p_json); ' : ''}destination(d_net); flags(flow-control); };
`,
  );
  await waitCount(n, count, client, 'syslog-ng client', 10);
  const seconds = (performance.now() - t0) / 1000;
  const st = procStats(client.pid!);
  await stop(client);
  await stop(server);
  process.stderr.write(`  syslog-ng${tuned ? ' (tuned)' : ''}: ${seconds.toFixed(2)} s, client cpu ${st.cpu.toFixed(2)} s rss ${st.rssMb.toFixed(1)} MB\n`);
  return { seconds, linesPerSec: n / seconds, cpuSeconds: (st.cpu * 1_000_000) / n, rssMb: st.rssMb };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function main(args: string[]): Promise<void> {
  const n = Number(arg(args, '--lines', '1000000'));
  const runs = Number(arg(args, '--runs', '3'));
  const only = arg(args, '--only', '');
  const base = mkdtempSync(join(tmpdir(), 'ringtail-bench-logs-'));
  const input = join(base, 'input.log');
  const timestamps = arg(args, '--timestamps', 'ordered');
  if (timestamps !== 'ordered' && timestamps !== 'cyclic') throw new Error(`--timestamps takes ordered or cyclic, not '${timestamps}'`);
  const corpus = arg(args, '--corpus', 'syslog');
  if (corpus !== 'syslog' && corpus !== 'json') throw new Error(`--corpus takes syslog or json, not '${corpus}'`);
  const peer = arg(args, '--peer', 'both');
  if (peer !== 'tuned' && peer !== 'default' && peer !== 'both') throw new Error(`--peer takes tuned, default or both, not '${peer}'`);
  const bytes = await writeInput(input, n, timestamps, corpus);
  process.stderr.write(`input: ${n} lines, ${(bytes / 1e6).toFixed(1)} MB (${statSync(input).size} bytes)\n`);
  const results: Record<string, Result[]> = { ringtail: [], 'ringtail [B]': [], 'ringtail clickhouse': [], 'syslog-ng': [], 'syslog-ng tuned': [] };
  const ch = storageArg(args) === 'clickhouse' ? await clickhouseSide(join(base, 'chdb')) : undefined;
  try {
    for (let r = 0; r < runs; r++) {
      process.stderr.write(`run ${r + 1}/${runs}\n`);
      if (only !== 'syslog-ng') {
        const dir = mkdtempSync(join(base, 'rt-'));
        results.ringtail!.push(await runRingtail(dir, input, n, corpus));
        rmSync(dir, { recursive: true, force: true });
        if (BIN_B) {
          const bdir = mkdtempSync(join(base, 'rtb-'));
          process.stderr.write('  [B]');
          results['ringtail [B]']!.push(await runRingtail(bdir, input, n, corpus, undefined, BIN_B));
          rmSync(bdir, { recursive: true, force: true });
        }
        if (ch) {
          const cdir = mkdtempSync(join(base, 'rtch-'));
          results['ringtail clickhouse']!.push(await runRingtail(cdir, input, n, corpus, ch));
          rmSync(cdir, { recursive: true, force: true });
        }
      }
      if (only !== 'ringtail') {
        for (const tuned of peer === 'both' ? [true, false] : [peer === 'tuned']) {
          const dir = mkdtempSync(join(base, 'sng-'));
          results[tuned ? 'syslog-ng tuned' : 'syslog-ng']!.push(await runSyslogNg(dir, input, n, corpus, tuned));
          rmSync(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await ch?.stop();
    rmSync(base, { recursive: true, force: true });
  }
  const row = (name: string, rs: Result[]) =>
    rs.length
      ? `| ${name} | ${Math.round(median(rs.map((r) => r.linesPerSec))).toLocaleString('en-US')} | ${median(rs.map((r) => r.seconds)).toFixed(2)} | ${median(rs.map((r) => r.cpuSeconds)).toFixed(2)} | ${median(rs.map((r) => r.rssMb)).toFixed(1)} |`
      : `| ${name} | – | – | – | – |`;
  const rt = results.ringtail!;
  const sng = results['syslog-ng']!;
  const tunedRs = results['syslog-ng tuned']!;
  const peerName = corpus === 'json' ? 'syslog-ng 3.38 file → json-parser() → TCP $(format-json) → syslog-ng → file' : 'syslog-ng 3.38 file → TCP → syslog-ng → file';
  const lines = [
    `${n.toLocaleString('en-US')} ${corpus === 'json' ? 'pino-like JSON' : 'syslog'} lines (${(bytes / 1e6).toFixed(1)} MB, timestamps ${timestamps}), median of ${runs} runs`,
    '',
    '| shipper | lines/s end to end | seconds | shipper CPU s per 1M lines | shipper peak RSS MB |',
    '| --- | --- | --- | --- | --- |',
    row(`ringtail agent → collector → SQLite+FTS5${BIN_B ? ' (A)' : ''}`, rt),
    ...(results['ringtail [B]']!.length ? [row('ringtail [B] (RINGTAIL_BENCH_BIN_B)', results['ringtail [B]']!)] : []),
    ...(tunedRs.length ? [row(`${peerName}, tuned (log-fetch-limit 1000, flush-lines 1000)`, tunedRs)] : []),
    ...(sng.length ? [row(`${peerName}, defaults`, sng)] : []),
  ];
  const ratio = (peerRs: Result[]) => median(rt.map((r) => r.linesPerSec)) / median(peerRs.map((r) => r.linesPerSec));
  if (rt.length && tunedRs.length) lines.push('', `ringtail / syslog-ng tuned lines/s: ${ratio(tunedRs).toFixed(2)}×`);
  const rtB = results['ringtail [B]']!;
  if (rtB.length && tunedRs.length) lines.push('', `ringtail [B] / syslog-ng tuned lines/s: ${(median(rtB.map((r) => r.linesPerSec)) / median(tunedRs.map((r) => r.linesPerSec))).toFixed(2)}×`);
  // every run, for the spread (seconds per run, and the collector's CPU s per 1 M lines)
  for (const [name, rs] of Object.entries(results)) if (rs.length) lines.push(`${name} runs: ${rs.map((r) => `${r.seconds.toFixed(2)} s${r.collectorCpu !== undefined ? ` (collector ${r.collectorCpu.toFixed(2)}, agent ${r.cpuSeconds.toFixed(2)} CPU s/1M, ${r.rssMb.toFixed(1)} MB)` : ''}`).join(', ')}`);
  if (rt.length && sng.length) lines.push('', `ringtail / syslog-ng defaults lines/s: ${ratio(sng).toFixed(2)}×`);
  const rc = results['ringtail clickhouse']!;
  if (rt.length && rc.length) {
    const m = (rs: Result[], f: (r: Result) => number) => median(rs.map(f));
    const store = (name: string, rs: Result[]) =>
      `| ${name} | ${Math.round(m(rs, (r) => r.linesPerSec)).toLocaleString('en-US')} | ${m(rs, (r) => r.collectorCpu ?? 0).toFixed(2)} | ${rs[0]!.engineCpu === undefined ? '–' : m(rs, (r) => r.engineCpu ?? 0).toFixed(2)} | ${m(rs, (r) => r.bytesPerLine ?? 0).toFixed(1)} |`;
    lines.push(
      '',
      '| collector storage | lines/s end to end | collector CPU s per 1M lines | chdb engine CPU s per 1M lines | bytes on disk per line |',
      '| --- | --- | --- | --- | --- |',
      store('SQLite+FTS5 (ringtail.db + WAL)', rt),
      store('ClickHouse via chdb (active parts as inserted)', rc),
      '',
      `ClickHouse / SQLite: lines/s ${(m(rc, (r) => r.linesPerSec) / m(rt, (r) => r.linesPerSec)).toFixed(2)}×, bytes per line ${(m(rc, (r) => r.bytesPerLine ?? 0) / m(rt, (r) => r.bytesPerLine ?? 0)).toFixed(3)}× (target ≤ 0.333)`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}
