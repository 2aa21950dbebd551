// Realistic, varied log lines for the collector benchmarks: a few hundred hosts, the usual
// daemons, templates with ids, IPs, paths and durations, so the FTS vocabulary is large and
// word frequencies are skewed like real logs (a few very common words, a long tail).
import { WIRE_VERSION, type IngestBatch, type WireLine } from '../../shared/wire.js';

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USERS = ['root', 'deploy', 'alice', 'bob', 'carol', 'ubuntu', 'admin', 'postgres', 'backup', 'ci'];
const PATHS = ['/api/v1/orders', '/api/v1/users', '/healthz', '/login', '/static/app.js', '/api/v1/cart', '/search', '/metrics', '/api/v2/payments', '/favicon.ico'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const STATUS = [200, 200, 200, 200, 201, 204, 301, 304, 400, 401, 403, 404, 404, 500, 502, 503];
const TABLES = ['orders', 'users', 'sessions', 'payments', 'inventory', 'audit_log'];
const WORDS = ['cache', 'refresh', 'worker', 'queue', 'shard', 'replica', 'lease', 'snapshot', 'compaction', 'rebalance', 'checkpoint', 'flush', 'ingest', 'upstream', 'backend'];

type Gen = (r: () => number) => { program: string; severity: number; message: string };
const pick = <T>(r: () => number, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
const ip = (r: () => number) => `10.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
const hex = (r: () => number, n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');

const TEMPLATES: Array<[number, Gen]> = [
  [30, (r) => { const s = pick(r, STATUS); return { program: 'nginx', severity: s >= 500 ? 3 : s >= 400 ? 4 : 6, message: `${ip(r)} - - "${pick(r, METHODS)} ${pick(r, PATHS)}?id=${Math.floor(r() * 1e6)} HTTP/1.1" ${s} ${Math.floor(r() * 50000)} "-" "Mozilla/5.0" rt=${(r() * 2).toFixed(3)}` }; }],
  [10, (r) => ({ program: 'sshd', severity: 6, message: `Accepted publickey for ${pick(r, USERS)} from ${ip(r)} port ${1024 + Math.floor(r() * 60000)} ssh2: ED25519 SHA256:${hex(r, 16)}` })],
  [6, (r) => ({ program: 'sshd', severity: 5, message: `Failed password for invalid user ${pick(r, USERS)}${Math.floor(r() * 100)} from ${ip(r)} port ${1024 + Math.floor(r() * 60000)} ssh2` })],
  [8, (r) => ({ program: 'CRON', severity: 6, message: `(${pick(r, USERS)}) CMD (/usr/local/bin/${pick(r, WORDS)}-job --shard ${Math.floor(r() * 64)})` })],
  [12, (r) => ({ program: 'postgres', severity: r() < 0.1 ? 4 : 6, message: `duration: ${(r() * 900).toFixed(3)} ms  statement: SELECT * FROM ${pick(r, TABLES)} WHERE id = ${Math.floor(r() * 1e7)}` })],
  [3, (r) => ({ program: 'postgres', severity: 3, message: `ERROR:  deadlock detected on relation ${pick(r, TABLES)} (pid ${Math.floor(r() * 65535)})` })],
  [15, (r) => ({ program: 'app', severity: r() < 0.05 ? 3 : 6, message: `request_id=${hex(r, 12)} user=${pick(r, USERS)} ${pick(r, WORDS)} ${pick(r, WORDS)} took ${Math.floor(r() * 3000)}ms` })],
  [4, (r) => ({ program: 'app', severity: 3, message: `upstream timeout after ${Math.floor(r() * 30)}s talking to ${pick(r, WORDS)}-${Math.floor(r() * 9)}.internal:${8000 + Math.floor(r() * 100)}` })],
  [5, (r) => ({ program: 'kernel', severity: r() < 0.2 ? 4 : 6, message: `[${(r() * 1e6).toFixed(6)}] eth0: link ${r() < 0.5 ? 'up' : 'down'}, ${pick(r, ['100', '1000', '10000'])} Mbps, full duplex, rx_dropped=${Math.floor(r() * 100)}` })],
  [1, (r) => ({ program: 'kernel', severity: 2, message: `Out of memory: Killed process ${Math.floor(r() * 65535)} (${pick(r, ['java', 'node', 'postgres', 'python3'])}) total-vm:${Math.floor(r() * 9e6)}kB` })],
  [6, (r) => ({ program: 'systemd', severity: 6, message: `Started ${pick(r, WORDS)}-${Math.floor(r() * 20)}.service - ${pick(r, WORDS)} daemon for ${pick(r, TABLES)}.` })],
];
const TOTAL = TEMPLATES.reduce((n, [w]) => n + w, 0);

export function genLine(r: () => number): { program: string; severity: number; message: string } {
  let x = r() * TOTAL;
  for (const [w, g] of TEMPLATES) {
    if ((x -= w) < 0) return g(r);
  }
  return TEMPLATES[0]![1](r);
}

export const hostName = (i: number) => `web-${String(i).padStart(3, '0')}`;

/** A batch of `n` lines of one host/stream starting at `offset`, timestamps from `ts` in `stepMs` steps. */
export function genBatch(r: () => number, host: string, stream: string, offset: number, n: number, ts: number, stepMs: number): { batch: IngestBatch; end: number; lastTs: number } {
  const lines: WireLine[] = [];
  let o = offset;
  let t = ts;
  for (let i = 0; i < n; i++) {
    const g = genLine(r);
    lines.push({ offset: o, ts: Math.round(t), program: g.program, pid: 100 + Math.floor(r() * 30000), severity: g.severity, message: g.message });
    o += Buffer.byteLength(g.message) + 1;
    t += stepMs;
  }
  return { batch: { version: WIRE_VERSION, agent_id: `agt_${host}`, host, segments: [{ stream, source: '/var/log/syslog', start: offset, end: o, lines }] }, end: o, lastTs: t };
}
