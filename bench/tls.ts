// `npm run bench -- tls [--lines N] [--runs R] [--only logs|syslog]`
//
// What TLS costs, same machine, same run, runs interleaved:
//   logs:   the same file of N lines, agent (file) → collector → SQLite + FTS5, over http:// and
//           over https:// (the collector's own TLS, a private CA made here with openssl);
//           the ratio of lines/s is TLS's overhead end to end.
//   syslog: syslog-ng 3.38 file() → syslog(transport(tls)) (RFC 5425, flow control) into
//           ringtail's syslog.tls_port (stored in SQLite + FTS5), and the same syslog-ng
//           destination into a syslog-ng TLS server writing a file; plus the same into
//           ringtail over plain TCP, to tell TLS's share from the receiver's.
// Timed from the start of the shipper to the moment the last line is stored.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { arg, freePort, lineCounter, median, procStats, stop, syslogNg, waitCount, waitListening, writeInput } from './logs.js';

const BIN = fileURLToPath(new URL('../../bin/ringtail', import.meta.url));
const ADMIN = 'rt_admin_bench_tls_0123456789abcdef';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pki {
  ca: string;
  cert: string;
  key: string;
}

/** A private CA and a certificate for 127.0.0.1 and localhost, as the README shows. */
function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  const ssl = (...a: string[]) => execFileSync('openssl', a, { cwd: dir, stdio: 'ignore' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=ringtail bench CA');
  ssl('req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'srv.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '7', '-out', 'srv.pem', '-days', '2', '-extfile', 'srv.ext');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'srv.pem'), key: join(dir, 'srv.key') };
}

async function startCollector(data: string, extra: string[]): Promise<{ proc: ChildProcess; url: string; out: () => string }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [BIN, 'collector', '--data', data, '--listen', `127.0.0.1:${port}`, '--admin-token', ADMIN, '--log-level', 'info', '--syslog-udp-port', '0', '--syslog-tcp-port', '0', ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => {
    if (out.length < 1 << 16) out += d;
  });
  for (;;) {
    const m = /listening on (https?:\/\/\S+)/.exec(out);
    if (m) return { proc, url: m[1]!, out: () => out };
    if (proc.exitCode !== null) throw new Error(`collector exited: ${out}`);
    await sleep(50);
  }
}

interface Result {
  seconds: number;
  linesPerSec: number;
  /** CPU seconds of the receiving side per 1M lines */
  receiverCpu: number;
}

async function runLogs(dir: string, input: string, n: number, pki: Pki | null): Promise<Result> {
  const data = join(dir, 'data');
  const token = execFileSync(process.execPath, [BIN, 'token', 'create', '--data', data, '--role', 'agent']).toString().trim();
  const c = await startCollector(data, ['--no-syslog-enabled', ...(pki ? ['--tls-cert', pki.cert, '--tls-key', pki.key] : [])]);
  const db = new Database(join(data, 'ringtail.db'), { readonly: true });
  const count = db.prepare('SELECT count(*) FROM logs').pluck();
  const t0 = performance.now();
  const agent = spawn(
    process.execPath,
    [BIN, 'agent', '--collector', c.url, '--watch', input, '--state', join(dir, 'state'), '--host', 'bench-host', '--stats-interval-ms', '600000', '--no-metrics-enabled', ...(pki ? ['--transport-ca-file', pki.ca] : [])],
    { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, RINGTAIL_TOKEN: token } },
  );
  await waitCount(n, () => count.get() as number, agent, 'agent');
  const seconds = (performance.now() - t0) / 1000;
  const cst = procStats(c.proc.pid!);
  const ast = procStats(agent.pid!);
  db.close();
  await stop(agent);
  await stop(c.proc);
  process.stderr.write(`  logs ${pki ? 'https' : 'http '}: ${seconds.toFixed(2)} s, agent cpu ${ast.cpu.toFixed(2)} s, collector cpu ${cst.cpu.toFixed(2)} s\n`);
  return { seconds, linesPerSec: n / seconds, receiverCpu: (cst.cpu * 1e6) / n };
}

/** syslog-ng reading the input file and sending RFC 5425 over TLS (or, ca null, RFC 6587 octet counting over plain TCP). */
function ngClient(dir: string, input: string, port: number, ca: string | null): ChildProcess {
  const transport = ca ? `transport(tls) port(${port}) tls(ca-file("${ca}") peer-verify(required-trusted))` : `transport(tcp) port(${port})`;
  return syslogNg(
    dir,
    'client',
    `@version: 3.38
options { stats_freq(0); };
source s_file { file("${input}" follow-freq(1) log-iw-size(20000)); };
destination d_tls { syslog("localhost" ${transport}); };
log { source(s_file); destination(d_tls); flags(flow-control); };
`,
  );
}

async function runSyslogRingtail(dir: string, input: string, n: number, pki: Pki | null): Promise<Result> {
  const data = join(dir, 'data');
  const port = await freePort();
  const c = await startCollector(data, pki ? ['--tls-cert', pki.cert, '--tls-key', pki.key, '--syslog-tls-port', String(port)] : ['--syslog-tcp-port', String(port)]);
  const db = new Database(join(data, 'ringtail.db'), { readonly: true });
  const count = db.prepare('SELECT count(*) FROM logs').pluck();
  const t0 = performance.now();
  const client = ngClient(dir, input, port, pki ? pki.ca : null);
  await waitCount(n, () => count.get() as number, client, 'syslog-ng client');
  const seconds = (performance.now() - t0) / 1000;
  const cst = procStats(c.proc.pid!);
  db.close();
  await stop(client);
  await stop(c.proc);
  process.stderr.write(`  syslog-ng → ${pki ? 'TLS' : 'TCP'} → ringtail: ${seconds.toFixed(2)} s, collector cpu ${cst.cpu.toFixed(2)} s\n`);
  return { seconds, linesPerSec: n / seconds, receiverCpu: (cst.cpu * 1e6) / n };
}

async function runSyslogNgServer(dir: string, input: string, n: number, pki: Pki): Promise<Result> {
  const port = await freePort();
  const output = join(dir, 'out.log');
  const server = syslogNg(
    dir,
    'server',
    `@version: 3.38
options { stats_freq(0); keep_hostname(yes); };
source s_tls { syslog(ip("127.0.0.1") port(${port}) transport("tls") log-iw-size(20000) max-connections(10) tls(key-file("${pki.key}") cert-file("${pki.cert}") peer-verify(optional-untrusted))); };
destination d_file { file("${output}"); };
log { source(s_tls); destination(d_file); flags(flow-control); };
`,
  );
  const count = lineCounter(output);
  // the server's port: the client retries its connection every second (time-reopen) otherwise
  await waitListening(port, server, 'syslog-ng server');
  const t0 = performance.now();
  const client = ngClient(dir, input, port, pki.ca);
  await waitCount(n, count, client, 'syslog-ng client');
  const seconds = (performance.now() - t0) / 1000;
  const sst = procStats(server.pid!);
  await stop(client);
  await stop(server);
  process.stderr.write(`  syslog-ng → TLS → syslog-ng: ${seconds.toFixed(2)} s, server cpu ${sst.cpu.toFixed(2)} s\n`);
  return { seconds, linesPerSec: n / seconds, receiverCpu: (sst.cpu * 1e6) / n };
}

export async function main(args: string[]): Promise<void> {
  const n = Number(arg(args, '--lines', '200000'));
  const runs = Number(arg(args, '--runs', '3'));
  const only = arg(args, '--only', '');
  const base = mkdtempSync(join(tmpdir(), 'ringtail-bench-tls-'));
  const input = join(base, 'input.log');
  const bytes = await writeInput(input, n, 'ordered', 'syslog');
  const pki = makePki(join(base, 'pki'));
  process.stderr.write(`input: ${n} lines, ${(bytes / 1e6).toFixed(1)} MB\n`);
  const r: Record<string, Result[]> = { http: [], https: [], ngRingtailTcp: [], ngRingtail: [], ngNg: [] };
  const fresh = () => mkdtempSync(join(base, 'run-'));
  try {
    for (let i = 0; i < runs; i++) {
      process.stderr.write(`run ${i + 1}/${runs}\n`);
      // alternate the order so that a slow moment of the shared machine hits both sides
      const pairs: Array<[string, (d: string) => Promise<Result>]> = [];
      if (only !== 'syslog') pairs.push(['http', (d) => runLogs(d, input, n, null)], ['https', (d) => runLogs(d, input, n, pki)]);
      if (only !== 'logs') pairs.push(['ngRingtailTcp', (d) => runSyslogRingtail(d, input, n, null)], ['ngRingtail', (d) => runSyslogRingtail(d, input, n, pki)], ['ngNg', (d) => runSyslogNgServer(d, input, n, pki)]);
      if (i % 2 === 1) pairs.reverse();
      for (const [key, run] of pairs) {
        const d = fresh();
        r[key]!.push(await run(d));
        rmSync(d, { recursive: true, force: true });
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
  const med = (rs: Result[], f: (x: Result) => number) => median(rs.map(f));
  const row = (name: string, rs: Result[]) =>
    rs.length ? `| ${name} | ${Math.round(med(rs, (x) => x.linesPerSec)).toLocaleString('en-US')} | ${med(rs, (x) => x.seconds).toFixed(2)} | ${med(rs, (x) => x.receiverCpu).toFixed(2)} |` : `| ${name} | – | – | – |`;
  const lines = [
    `${n.toLocaleString('en-US')} lines (${(bytes / 1e6).toFixed(1)} MB), median of ${runs} runs`,
    '',
    '| path | lines/s end to end | seconds | receiver CPU s per 1M lines |',
    '| --- | --- | --- | --- |',
    row('agent → http → collector → SQLite+FTS5', r.http!),
    row('agent → https (collector TLS) → collector → SQLite+FTS5', r.https!),
    row('syslog-ng → syslog plain TCP → ringtail → SQLite+FTS5 (baseline)', r.ngRingtailTcp!),
    row('syslog-ng → syslog TLS → ringtail → SQLite+FTS5', r.ngRingtail!),
    row('syslog-ng → syslog TLS → syslog-ng → file', r.ngNg!),
  ];
  if (r.http!.length && r.https!.length) {
    lines.push('', `logs https / http lines/s: ${(med(r.https!, (x) => x.linesPerSec) / med(r.http!, (x) => x.linesPerSec)).toFixed(2)}×`);
  }
  if (r.ngRingtail!.length && r.ngNg!.length) {
    if (r.ngRingtailTcp!.length) lines.push(`syslog into ringtail, TLS / plain TCP lines/s: ${(med(r.ngRingtail!, (x) => x.linesPerSec) / med(r.ngRingtailTcp!, (x) => x.linesPerSec)).toFixed(2)}×`);
    lines.push(`syslog TLS: ringtail / syslog-ng lines/s: ${(med(r.ngRingtail!, (x) => x.linesPerSec) / med(r.ngNg!, (x) => x.linesPerSec)).toFixed(2)}×`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
