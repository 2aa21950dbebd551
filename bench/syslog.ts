// `npm run bench -- syslog [lines] [runs]`: the same N RFC 5424 messages, octet-counted over one
// TCP connection from a separate sender process, into (a) `ringtail collector` (SQLite + FTS5,
// synchronous=FULL, searchable) and (b) syslog-ng 3.38 with a syslog() source and flow control
// writing $MSG lines to a file. Reports end-to-end lines/s, receiver CPU seconds and peak RSS
// per million lines, medians of `runs`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const BIN = fileURLToPath(new URL('../../bin/ringtail', import.meta.url));
const TICK = 100; // USER_HZ on Linux

export interface Result {
  seconds: number;
  cpu: number;
  rssMb: number;
}

export function procStats(pid: number): { cpu: number; hwmKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(f[11]) + Number(f[12])) / TICK;
  const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpu, hwmKb: Number(hwm?.[1] ?? 0) };
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

function makeInput(dir: string, n: number): { file: string; msgBytes: number } {
  const parts: Buffer[] = [];
  let msgBytes = 0;
  for (let i = 0; i < n; i++) {
    const msg = `bench line ${i} user=alice action=login status=ok latency_ms=${i % 997} path=/api/v1/items/${i % 4096}`;
    parts.push(frame(`host-${i % 10}`, 'app', 1000 + (i % 50), 6, `2026-11-23T17:00:00.${String(i % 1000).padStart(3, '0')}Z`, msg));
    msgBytes += Buffer.byteLength(msg) + 1;
  }
  const file = join(dir, 'input.bin');
  writeFileSync(file, Buffer.concat(parts));
  return { file, msgBytes };
}

export function sender(file: string, port: number): ChildProcess {
  const script = `const s=require('net').connect(${port},'127.0.0.1',()=>{require('fs').createReadStream(${JSON.stringify(file)}).pipe(s)});s.on('error',e=>{console.error(e);process.exit(1)});`;
  return spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
}

async function runRingtail(dir: string, input: string, n: number): Promise<Result> {
  const data = join(dir, 'rt');
  // RINGTAIL_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the collector's threads
  const nodeArgs = process.env.RINGTAIL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, BIN, 'collector', '--data', data, '--listen', '127.0.0.1:0', '--admin-token', 'bench-admin-token-0123456789', '--log-level', 'warn', '--syslog-udp-port', '0', '--syslog-tcp-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  await until('ringtail syslog port', () => /syslog receiver on tcp:\/\/[^:]+:(\d+)/.test(out), 30_000);
  const port = Number(/syslog receiver on tcp:\/\/[^:]+:(\d+)/.exec(out)![1]);
  const db = new Database(join(data, 'ringtail.db'), { readonly: true });
  const count = db.prepare('SELECT count(*) FROM logs').pluck();
  const cpu0 = procStats(child.pid!).cpu;
  const t0 = performance.now();
  sender(input, port);
  await until('ringtail to store every line', () => (count.get() as number) >= n);
  const seconds = (performance.now() - t0) / 1000;
  const st = procStats(child.pid!);
  db.close();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { seconds, cpu: st.cpu - cpu0, rssMb: st.hwmKb / 1024 };
}

export async function runSyslogNg(dir: string, input: string, msgBytes: number): Promise<Result> {
  const ng = join(dir, 'ng');
  rmSync(ng, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(ng);
  const portProbe = await import('node:net');
  const port: number = await new Promise((resolve) => {
    const srv = portProbe.createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const outFile = join(ng, 'out.log');
  writeFileSync(
    join(ng, 'ng.conf'),
    `@version: 3.38
options { use-dns(no); dns-cache(no); stats-freq(0); };
source s { syslog(ip(127.0.0.1) transport(tcp) port(${port}) log-iw-size(10000) max-connections(10)); };
destination d { file("${outFile}" template("$MSG\\n")); };
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
  sender(input, port);
  await until('syslog-ng to write every line', () => {
    try {
      return statSync(outFile).size >= msgBytes;
    } catch {
      return false;
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  const st = procStats(child.pid!);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return { seconds, cpu: st.cpu - cpu0, rssMb: st.hwmKb / 1024 };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function main(args: string[]): Promise<void> {
  const n = Number(args[0] ?? 200_000);
  const runs = Number(args[1] ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-syslog-'));
  try {
    const { file, msgBytes } = makeInput(dir, n);
    const rt: Result[] = [];
    const ng: Result[] = [];
    for (let i = 0; i < runs; i++) {
      rmSync(join(dir, 'rt'), { recursive: true, force: true });
      rt.push(await runRingtail(dir, file, n));
      ng.push(await runSyslogNg(dir, file, msgBytes));
      process.stderr.write(`run ${i + 1}: ringtail ${rt[i]!.seconds.toFixed(2)} s, syslog-ng ${ng[i]!.seconds.toFixed(2)} s\n`);
    }
    const row = (name: string, r: Result[]) => {
      const lps = median(r.map((x) => n / x.seconds));
      const cpu = median(r.map((x) => (x.cpu * 1e6) / n));
      const rss = median(r.map((x) => x.rssMb));
      return { name, lps, cpu, rss };
    };
    const a = row('ringtail collector (TCP → SQLite+FTS5)', rt);
    const b = row('syslog-ng 3.38 (TCP → file, flow control)', ng);
    const lines = [
      `${n} RFC 5424 messages, octet counting, one TCP connection; medians of ${runs} runs`,
      '',
      '| receiver | lines/s | CPU s per 1M lines | peak RSS MB |',
      '| --- | ---: | ---: | ---: |',
      `| ${a.name} | ${Math.round(a.lps)} | ${a.cpu.toFixed(2)} | ${a.rss.toFixed(0)} |`,
      `| ${b.name} | ${Math.round(b.lps)} | ${b.cpu.toFixed(2)} | ${b.rss.toFixed(0)} |`,
      `| ratio ringtail / syslog-ng | ${(a.lps / b.lps).toFixed(2)}× | ${(a.cpu / b.cpu).toFixed(2)}× | ${(a.rss / b.rss).toFixed(2)}× |`,
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
