// `npm run bench -- writer-path [--lines N] [--corpus syslog|json] [--commit LINES] [--by-statement] [--pack-only]`
// The log ingest path's two halves on one thread, without HTTP: what the event loop does to a
// batch when it is submitted (pack.ts: packSegment, the fields row and number-run tokens of every
// line) and what the writer thread does with it (unpack, LogStore.ingestMany on the writer's
// connection: cache, checkpoint interval, synchronous=FULL). The lines are those of
// `npm run bench -- logs` as the agent makes them of its corpus (wire lines of the syslog corpus:
// program, pid, message; of the JSON corpus: message, level, time and five fields), in 5,000-line
// batches committed 20,000 lines at a time as the agent's multi-batch requests make them.
// Prints CPU seconds per 1 M lines of each half; `--by-statement` adds each SQL statement's CPU
// (the rest of the writer's is its JavaScript). Under valgrind (`--tool=callgrind`) the
// instruction counts of a run with and without `--pack-only` give each half's, load-independent.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { packItems, unpackItems } from '../collector/ingest/pack.js';
import { openSqliteWriter } from '../collector/storage/sqlite/writer.js';
import type { IngestBatch, WireLine } from '../shared/wire.js';
import { arg } from './logs.js';

const BATCH = 5_000;
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

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function main(args: string[]): Promise<void> {
  const n = Number(arg(args, '--lines', '300000'));
  const corpus = arg(args, '--corpus', 'syslog');
  const commitLines = Number(arg(args, '--commit', '20000'));
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
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-writer-path-'));
  const store = openSqliteWriter(dir);
  let packS = 0;
  let writeS = 0;
  try {
    for (let i = 0; i < n; i += commitLines) {
      const items = [];
      for (let b = i; b < Math.min(n, i + commitLines); b += BATCH) items.push({ batch: batch(b, Math.min(n, b + BATCH, i + commitLines), corpus), receivedAt: BASE });
      let t = cpu();
      const { packed } = packItems(items);
      packS += cpu() - t;
      if (packOnly) continue;
      // as postMessage delivers it to the writer thread
      const copy = structuredClone(packed);
      t = cpu();
      store.ingestMany(unpackItems(copy));
      writeS += cpu() - t;
    }
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
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
