// `npm run bench -- ingest [lines] [runs] [--clients N] [--no-peer] [--store] [--storage clickhouse]`: the collector's log ingest
// end to end. One corpus of realistic lines (bench/lib/loglines.ts) is cut into 1,000–2,000-line
// batches, gzip'd JSON as the agent sends them, and posted by N concurrent keep-alive HTTP
// clients (one request in flight each, like the agent) to a real `ringtail collector` process
// (writer thread, SQLite + FTS5, synchronous=FULL); the clock stops at the last acknowledgement.
// The same lines, as RFC 5424 frames in a file, go through syslog-ng 3.38 (file → TCP →
// syslog-ng with flow control → file; bench/syslog.ts's harness) for the ratio. Afterwards the
// database is checked: every line stored once and found by full-text search.
// `--storage clickhouse`: in every run, a second collector with `--storage clickhouse` on one chdb
// server (bench/lib/ch-side.ts) takes the same corpus after the SQLite one: lines/s, CPU s per 1 M
// lines of the collector and of the chdb engine, and bytes on disk per stored line for both.
// `--store` instead times the SQLite store alone (LogStore.ingestMany on this thread, groups of
// `--group` batches as the writer thread would commit them): the micro-benchmark for the store.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { openSqliteStorage } from '../collector/storage/sqlite/index.js';
import { SYNC_LOGS } from '../collector/storage/types.js';
import { INGEST_PATH, type IngestAck, type IngestBatch } from '../shared/wire.js';
import { clickhouseSide, sqliteBytes, storageArg, type ChSide } from './lib/ch-side.js';
import { genBatch, hostName, rng } from './lib/loglines.js';
import { frame, median, procStats, runSyslogNg, type Result } from './syslog.js';

const BIN = fileURLToPath(new URL('../../bin/ringtail', import.meta.url));
const ADMIN = 'bench-admin-token-0123456789';

interface Corpus {
  /** per client, its gzip'd request bodies in order */
  bodies: Buffer[][];
  lines: number;
  jsonBytes: number;
  gzBytes: number;
  /** octet-counted RFC 5424 frames of the same lines, and the bytes syslog-ng will write */
  framesFile: string;
  msgBytes: number;
}

function makeCorpus(dir: string, n: number, clients: number): Corpus {
  const r = rng(4);
  const bodies: Buffer[][] = Array.from({ length: clients }, () => []);
  const offsets = new Array<number>(clients).fill(0);
  let ts = Date.now() - 3_600_000;
  let left = n;
  let k = 0;
  let jsonBytes = 0;
  let gzBytes = 0;
  let msgBytes = 0;
  const framesFile = join(dir, 'frames.bin');
  const fd = openSync(framesFile, 'w');
  while (left > 0) {
    const c = k++ % clients;
    const size = Math.min(left, 1000 + Math.floor(r() * 1001));
    const host = hostName(c);
    const g = genBatch(r, host, `bench-${c}`, offsets[c]!, size, ts, 1);
    offsets[c] = g.end;
    ts = g.lastTs;
    left -= size;
    const json = JSON.stringify(g.batch);
    const gz = gzipSync(json, { level: 1 });
    jsonBytes += Buffer.byteLength(json);
    gzBytes += gz.length;
    bodies[c]!.push(gz);
    const frames: Buffer[] = [];
    for (const l of g.batch.segments[0]!.lines) {
      frames.push(frame(host, l.program ?? '-', l.pid ?? 0, l.severity, new Date(l.ts).toISOString(), l.message));
      msgBytes += Buffer.byteLength(l.message) + 1;
    }
    writeSync(fd, Buffer.concat(frames));
  }
  closeSync(fd);
  return { bodies, lines: n, jsonBytes, gzBytes, framesFile, msgBytes };
}

function post(agent: Agent, url: URL, token: string, body: Buffer): Promise<IngestAck> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) reject(new Error(`ingest answered ${res.statusCode}: ${text}`));
        else resolve(JSON.parse(text) as IngestAck);
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface RingtailResult extends Result {
  searchable: boolean;
  /** CPU seconds of the chdb engine during the run (ClickHouse) */
  engineCpu: number;
  /** bytes on disk of the stored lines */
  bytes: number;
}

async function runRingtail(dir: string, corpus: Corpus, ch?: ChSide): Promise<RingtailResult> {
  const data = join(dir, 'rt');
  rmSync(data, { recursive: true, force: true });
  const database = ch?.nextDatabase();
  const storage = openSqliteStorage(data);
  const token = (await storage.tokens.create('agent', 'bench ingest', Date.now())).token;
  storage.close();
  const child = spawn(
    process.execPath,
    // RINGTAIL_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the collector's threads
    [...(process.env.RINGTAIL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), BIN, 'collector', '--data', data, '--listen', '127.0.0.1:0', '--admin-token', ADMIN, '--log-level', 'warn', '--syslog-udp-port', '0', '--syslog-tcp-port', '0', '--retention-max-age-days', '0', ...(ch ? ch.flags(database!) : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`collector exited ${code}`)));
  });
  const url = new URL(INGEST_PATH, base);
  const cpu0 = procStats(child.pid!).cpu;
  const engine0 = ch?.engineCpu() ?? 0;
  const t0 = performance.now();
  let accepted = 0;
  await Promise.all(
    corpus.bodies.map(async (bodies) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      for (const body of bodies) {
        const ack = await post(agent, url, token, body);
        accepted += ack.accepted;
      }
      agent.destroy();
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const st = procStats(child.pid!);
  const engineCpu = (ch?.engineCpu() ?? 0) - engine0;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  if (accepted !== corpus.lines) throw new Error(`acknowledged ${accepted} lines of ${corpus.lines}`);
  if (ch) {
    const rows = await ch.count(database!);
    if (rows !== corpus.lines) throw new Error(`ClickHouse stored ${rows} of ${corpus.lines}`);
    return { seconds, cpu: st.cpu - cpu0, rssMb: st.hwmKb / 1024, searchable: true, engineCpu, bytes: await ch.partsBytes(database!) };
  }
  // every acknowledged line is stored once and found by the full-text index
  const db = new Database(join(data, 'ringtail.db'), { readonly: true });
  const rows = db.prepare('SELECT count(*) FROM logs').pluck().get() as number;
  const fts = db.prepare("SELECT count(*) FROM logs_fts WHERE logs_fts MATCH 'publickey'").pluck().get() as number;
  const like = db.prepare("SELECT count(*) FROM logs WHERE message LIKE '%publickey%'").pluck().get() as number;
  const phrase = db.prepare(`SELECT count(*) FROM logs_fts WHERE logs_fts MATCH '"deadlock detected"'`).pluck().get() as number;
  const phraseLike = db.prepare("SELECT count(*) FROM logs WHERE message LIKE '%deadlock detected%'").pluck().get() as number;
  db.close();
  const searchable = rows === corpus.lines && fts === like && like > 0 && phrase === phraseLike && phrase > 0;
  if (!searchable) throw new Error(`stored ${rows} of ${corpus.lines}; 'publickey' ${fts} FTS vs ${like} LIKE; phrase ${phrase} vs ${phraseLike}`);
  return { seconds, cpu: st.cpu - cpu0, rssMb: st.hwmKb / 1024, searchable, engineCpu: 0, bytes: sqliteBytes(data) };
}

/** The store alone: the corpus's batches through ingestMany in groups, CPU and wall per line. */
function storeBench(dir: string, n: number, group: number): { seconds: number; cpuUs: number } {
  const r = rng(4);
  const batches: IngestBatch[] = [];
  let ts = Date.now() - 3_600_000;
  for (let left = n, off = 0; left > 0; ) {
    const size = Math.min(left, 1000 + Math.floor(r() * 1001));
    const g = genBatch(r, hostName(batches.length % 4), `bench-${batches.length % 4}`, off, size, ts, 1);
    off = g.end;
    ts = g.lastTs;
    left -= size;
    batches.push(g.batch);
  }
  const data = join(dir, 'store');
  rmSync(data, { recursive: true, force: true });
  const storage = openSqliteStorage(data);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  // the store alone: its synchronous interface, as the writer thread calls it
  const logs = storage.logs[SYNC_LOGS]!;
  for (let i = 0; i < batches.length; i += group) logs.ingestMany(batches.slice(i, i + group).map((batch) => ({ batch, receivedAt: Date.now() })));
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  storage.close();
  return { seconds, cpuUs: (c.user + c.system) / n };
}

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}

export async function main(args: string[]): Promise<void> {
  const pos = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
  const n = Number(pos[0] ?? 1_000_000);
  const runs = Number(pos[1] ?? 3);
  const clients = arg(args, 'clients', 4);
  const peer = !args.includes('--no-peer');
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-ingest-'));
  if (args.includes('--store')) {
    try {
      const group = arg(args, 'group', 4);
      const res: Array<{ seconds: number; cpuUs: number }> = [];
      for (let i = 0; i < runs; i++) {
        res.push(storeBench(dir, n, group));
        process.stderr.write(`run ${i + 1}: ${Math.round(n / res[i]!.seconds)} lines/s, ${res[i]!.cpuUs.toFixed(2)} CPU µs per line\n`);
      }
      process.stdout.write(`store alone (SQLite LogStore.ingestMany, groups of ${group} batches), ${n} lines, medians of ${runs} runs: ${Math.round(median(res.map((x) => n / x.seconds)))} lines/s, ${median(res.map((x) => x.cpuUs)).toFixed(2)} CPU µs per line\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return;
  }
  const ch = storageArg(args) === 'clickhouse' ? await clickhouseSide(join(dir, 'chdb')) : undefined;
  try {
    const corpus = makeCorpus(dir, n, clients);
    process.stderr.write(`corpus: ${n} lines, ${(corpus.jsonBytes / 1e6).toFixed(0)} MB JSON, ${(corpus.gzBytes / 1e6).toFixed(0)} MB gzip, ${(corpus.msgBytes / 1e6).toFixed(0)} MB of messages\n`);
    const rt: RingtailResult[] = [];
    const rc: RingtailResult[] = [];
    const ng: Result[] = [];
    const loads: number[] = [];
    for (let i = 0; i < runs; i++) {
      loads.push(Number((await import('node:os')).loadavg()[0]));
      rt.push(await runRingtail(dir, corpus));
      let line = `run ${i + 1}: ringtail ${rt[i]!.seconds.toFixed(2)} s (${Math.round(n / rt[i]!.seconds)} lines/s, CPU ${rt[i]!.cpu.toFixed(1)} s, RSS ${rt[i]!.rssMb.toFixed(0)} MB)`;
      if (ch) {
        rc.push(await runRingtail(dir, corpus, ch));
        line += `, ringtail on ClickHouse ${rc[i]!.seconds.toFixed(2)} s (${Math.round(n / rc[i]!.seconds)} lines/s, CPU ${rc[i]!.cpu.toFixed(1)} s + engine ${rc[i]!.engineCpu.toFixed(1)} s)`;
      }
      if (peer) {
        ng.push(await runSyslogNg(dir, corpus.framesFile, corpus.msgBytes));
        line += `, syslog-ng ${ng[i]!.seconds.toFixed(2)} s (${Math.round(n / ng[i]!.seconds)} lines/s)`;
      }
      process.stderr.write(`${line}, load average ${loads[i]!.toFixed(1)}\n`);
    }
    const row = (r: Result[]) => ({
      lps: median(r.map((x) => n / x.seconds)),
      cpu: median(r.map((x) => (x.cpu * 1e6) / n)),
      rss: median(r.map((x) => x.rssMb)),
    });
    const perM = (r: RingtailResult[], f: (x: RingtailResult) => number) => median(r.map((x) => (f(x) * 1e6) / n));
    const a = row(rt);
    const out = [
      `${n} lines (${(corpus.msgBytes / 1e6).toFixed(0)} MB of messages), ${clients} HTTP clients, 1,000–2,000-line gzip batches; medians of ${runs} runs; load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`,
      '',
      '| pipeline | lines/s | CPU s per 1M lines | peak RSS MB |',
      '| --- | ---: | ---: | ---: |',
      `| ringtail collector (HTTP → SQLite+FTS5, acked after commit) | ${Math.round(a.lps)} | ${a.cpu.toFixed(2)} | ${a.rss.toFixed(0)} |`,
    ];
    if (peer) {
      const b = row(ng);
      out.push(`| syslog-ng 3.38 (file → TCP → syslog-ng → file, flow control) | ${Math.round(b.lps)} | ${b.cpu.toFixed(2)} | ${b.rss.toFixed(0)} |`);
      out.push(`| ratio ringtail / syslog-ng | ${(a.lps / b.lps).toFixed(2)}× | ${(a.cpu / b.cpu).toFixed(2)}× | ${(a.rss / b.rss).toFixed(2)}× |`);
    }
    if (ch) {
      const c = row(rc);
      const bSqlite = median(rt.map((x) => x.bytes / n));
      const bCh = median(rc.map((x) => x.bytes / n));
      out.push(`| ringtail collector --storage clickhouse (HTTP → chdb over HTTP, acked after INSERT) | ${Math.round(c.lps)} | ${c.cpu.toFixed(2)} + engine ${perM(rc, (x) => x.engineCpu).toFixed(2)} | ${c.rss.toFixed(0)} |`);
      out.push('', '| store | lines/s | CPU s per 1M lines (collector + engine) | bytes on disk per line |', '| --- | ---: | ---: | ---: |');
      out.push(`| SQLite (ringtail.db + WAL) | ${Math.round(a.lps)} | ${a.cpu.toFixed(2)} | ${bSqlite.toFixed(1)} |`);
      out.push(`| ClickHouse via chdb (active parts as inserted) | ${Math.round(c.lps)} | ${(c.cpu + perM(rc, (x) => x.engineCpu)).toFixed(2)} | ${bCh.toFixed(1)} |`);
      out.push(`| ClickHouse / SQLite | ${(c.lps / a.lps).toFixed(2)}× | ${((c.cpu + perM(rc, (x) => x.engineCpu)) / a.cpu).toFixed(2)}× | ${(bCh / bSqlite).toFixed(3)}× |`);
    }
    process.stdout.write(out.join('\n') + '\n');
  } finally {
    await ch?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
