// `npm run bench -- writer-path [--lines N] [--corpus syslog|json|syslog-real] [--commit LINES] [--by-statement] [--pack-only]`
// The log ingest path's two halves on one thread, without HTTP: what the event loop does to a
// batch when it is submitted (pack.ts: packSegment, the fields row and number-run tokens of every
// line) and what the writer thread does with it (unpack, LogStore.ingestMany on the writer's
// connection: cache, checkpoint interval, synchronous=FULL). The lines are those of
// `npm run bench -- logs` as the agent makes them of its corpus (wire lines of the syslog corpus:
// program, pid, message; of the JSON corpus: message, level, time and five fields), in 5,000-line
// batches committed 20,000 lines at a time as the agent's multi-batch requests make them.
// `syslog-real`: what the syslog receiver hands the writer for `npm run bench -- syslog --shape
// real` (bench/lib/loglines.ts's varied lines from 300 hosts, 100 lines a millisecond): units of
// 8,000 lines, one batch per host (the batcher's flushLines), two units to a commit.
// Prints CPU seconds per 1 M lines of each half; `--by-statement` adds each SQL statement's CPU
// (the rest of the writer's is its JavaScript). Under valgrind (`--tool=callgrind`) the
// instruction counts of a run with and without `--pack-only` give each half's, load-independent.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { packItems, unpackItems } from '../collector/ingest/pack.js';
import { openDatabase } from '../collector/storage/sqlite/open.js';
import { openSqliteWriter } from '../collector/storage/sqlite/writer.js';
import type { IngestBatch, WireLine } from '../shared/wire.js';
import { arg } from './logs.js';
import { genLine, hostName, rng } from './lib/loglines.js';

const BATCH = 5_000;
/** the syslog receiver's flushLines */
const UNIT = 8_000;
const PAD = 'lorem ipsum dolor sit amet consectetur';
const BASE = Date.UTC(2026, 10, 23, 18);

function batch(from: number, to: number, corpus: string): IngestBatch {
  const lines: WireLine[] = [];
  for (let i = from; i < to; i++) {
    const message = `request ${i} served in ${i % 997} ms ${PAD}`;
    lines.push(
      corpus === 'json'
        ? {
            offset: i * 100,
            ts: BASE + i * 10,
            severity: i % 100 === 0 ? 3 : 6,
            message,
            fields: { pid: String(1000 + (i % 50)), hostname: 'bench-host', 'req.method': 'GET', 'req.url': `/api/v1/users/${i % 997}`, responseTime: String(i % 997) },
          }
        : { offset: i * 100, ts: BASE + Math.floor(i / 100) * 1000, severity: 6, message, program: 'app', pid: 1000 + (i % 50) },
    );
  }
  return { version: 1, agent_id: 'agt_bench', host: 'bench-host', segments: [{ stream: 's1', source: '/var/log/bench.log', start: from * 100, end: to * 100, lines }] };
}

/** The syslog receiver's unit of lines from..to: one batch per host, in the hosts' first-line order. */
function syslogUnit(from: number, to: number, r: () => number, offsets: Map<string, number>): IngestBatch[] {
  const byHost = new Map<string, WireLine[]>();
  for (let i = from; i < to; i++) {
    const host = hostName(Math.floor(r() * 300));
    const g = genLine(r);
    let lines = byHost.get(host);
    if (!lines) byHost.set(host, (lines = []));
    lines.push({ offset: 0, ts: BASE + Math.floor(i / 100), program: g.program, pid: 100 + (i % 30000), severity: g.severity, facility: 1, message: g.message });
  }
  return [...byHost].map(([host, lines]) => {
    const start = offsets.get(host) ?? 0;
    lines.forEach((l, k) => (l.offset = start + k));
    offsets.set(host, start + lines.length);
    return { version: 1, agent_id: 'syslog', host, segments: [{ stream: `tcp:${host}`, source: 'syslog:tcp', start, end: start + lines.length, lines }] };
  });
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function main(args: string[]): Promise<void> {
  const n = Number(arg(args, '--lines', '300000'));
  const corpus = arg(args, '--corpus', 'syslog');
  const commitLines = Number(arg(args, '--commit', corpus === 'syslog-real' ? String(2 * UNIT) : '20000'));
  const r = rng(17);
  const offsets = new Map<string, number>();
  const packOnly = args.includes('--pack-only');
  const byStatement = new Map<string, number>();
  if (args.includes('--by-statement')) {
    // every statement's run/get/all, timed by its SQL (the store prepares its own statements)
    const proto = Object.getPrototypeOf(new Database(':memory:').prepare('SELECT 1')) as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ['run', 'get', 'all']) {
      const orig = proto[m]!;
      proto[m] = function (this: { source: string }, ...a: unknown[]) {
        const t = cpu();
        try {
          return orig.apply(this, a);
        } finally {
          const key = this.source.replace(/\s+/g, ' ').slice(0, 70);
          byStatement.set(key, (byStatement.get(key) ?? 0) + cpu() - t);
        }
      };
    }
  }
  const keep = arg(args, '--keep', '');
  const dir = keep || mkdtempSync(join(tmpdir(), 'ringtail-writer-path-'));
  // `--fts k=v,…`: FTS5 options (automerge, crisismerge, pgsz, hashsize…) set on the three
  // full-text tables of a new store before the run, for A/B of the options in one build
  const fts = arg(args, '--fts', '');
  if (fts) {
    const db = openDatabase(dir);
    for (const kv of fts.split(',')) {
      const [k, v] = kv.split('=');
      for (const t of ['logs_fts', 'log_fields_fts', 'log_nums_fts']) db.prepare(`INSERT INTO ${t} (${t}, rank) VALUES (?, CAST(? AS INTEGER))`).run(k, Number(v));
    }
    db.close();
  }
  const store = openSqliteWriter(dir, { cacheMb: Number(arg(args, '--cache-mb', '32')) });
  let packS = 0;
  let writeS = 0;
  // `--pregen`: every commit's items are made and packed first, so that a profiler started at
  // the ingest phase (PERF_CTL_FIFO: a perf --control fifo, sent `enable`) sees the writer only
  const pregen = args.includes('--pregen');
  const made: unknown[] = [];
  const ingest = (copy: unknown) => store.ingestMany(unpackItems(copy as ReturnType<typeof packItems>['packed']));
  // `--callgrind`: each commit runs inside an SQL function of an in-memory database, so that
  // `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='CustomFunction::xFunc*'`
  // counts the writer's instructions only (load-independent A/B)
  let pending: unknown = null;
  const wrap = args.includes('--callgrind') ? new Database(':memory:') : null;
  wrap?.function('ringtail_probe_commit', () => {
    ingest(pending);
    return 0;
  });
  const wrapped = wrap?.prepare('SELECT ringtail_probe_commit()').pluck();
  const commit = (copy: unknown) => {
    const t = cpu();
    if (wrapped) {
      pending = copy;
      wrapped.get();
    } else ingest(copy);
    writeS += cpu() - t;
  };
  try {
    for (let i = 0; i < n; i += commitLines) {
      const items = [];
      if (corpus === 'syslog-real') {
        for (let b = i; b < Math.min(n, i + commitLines); b += UNIT) for (const bt of syslogUnit(b, Math.min(n, b + UNIT, i + commitLines), r, offsets)) items.push({ batch: bt, receivedAt: BASE + Math.floor(b / 100) });
      } else for (let b = i; b < Math.min(n, i + commitLines); b += BATCH) items.push({ batch: batch(b, Math.min(n, b + BATCH, i + commitLines), corpus), receivedAt: BASE });
      const t = cpu();
      const { packed } = packItems(items);
      packS += cpu() - t;
      if (packOnly) continue;
      // as postMessage delivers it to the writer thread
      const copy = structuredClone(packed);
      if (pregen) made.push(copy);
      else commit(copy);
    }
    if (process.env.PERF_CTL_FIFO) writeFileSync(process.env.PERF_CTL_FIFO, 'enable\n');
    for (const copy of made) commit(copy);
  } finally {
    store.close();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
  const per = (s: number) => ((s * 1e6) / n).toFixed(2);
  process.stdout.write(`${n} lines (${corpus} corpus), ${commitLines}-line commits: pack (event loop) ${per(packS)} CPU s per 1 M lines, unpack + ingestMany (writer) ${per(writeS)}\n`);
  if (byStatement.size > 0) {
    let sum = 0;
    for (const [sql, s] of [...byStatement].sort((a, b) => b[1] - a[1])) {
      sum += s;
      if ((s * 1e6) / n >= 0.01) process.stdout.write(`  ${per(s).padStart(6)}  ${sql}\n`);
    }
    process.stdout.write(`  ${per(writeS - sum).padStart(6)}  (the writer's JavaScript, unpack included)\n`);
  }
}
