// Search benchmark: 10 M stored lines, typical searches through the HTTP route (inject) against
// `grep -F` over the same lines as one flat file. The database and the flat file are built once
// and cached under bench/out/ (gitignored).
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../../collector/app.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { numBackfiller } from '../../collector/storage/sqlite/num-plan.js';
import { dbPath, openDatabase } from '../../collector/storage/sqlite/open.js';
import { SYNC_LOGS, type IngestItem } from '../../collector/storage/types.js';
import { genBatch, hostName, rng } from './loglines.js';
import { pct, table } from './stats.js';

const HOSTS = 200;
const PER_BATCH = 100;
const T0 = Date.UTC(2026, 9, 1);
const SPAN_MS = 30 * 86_400_000;

export function buildSearchData(dir: string, lines: number): { flat: string; data: string } {
  const data = join(dir, `search-${lines}`);
  const flat = join(dir, `search-${lines}.log`);
  const done = join(data, 'complete');
  if (existsSync(done)) return { flat, data };
  rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { recursive: true });
  const storage = openSqliteStorage(data);
  const fd = openSync(flat, 'w');
  const r = rng(42);
  const offsets = new Map<string, number>();
  const step = SPAN_MS / lines;
  let ts = T0;
  const started = Date.now();
  let pending: IngestItem[] = [];
  let text: string[] = [];
  for (let n = 0; n < lines; n += PER_BATCH) {
    const host = hostName(Math.floor(r() * HOSTS));
    const { batch, end, lastTs } = genBatch(r, host, `s-${host}`, offsets.get(host) ?? 0, Math.min(PER_BATCH, lines - n), ts, step);
    offsets.set(host, end);
    ts = lastTs;
    pending.push({ batch, receivedAt: Math.round(ts) });
    for (const l of batch.segments[0]!.lines) {
      text.push(`${new Date(l.ts).toISOString()} ${host} ${l.program}[${l.pid}]: ${l.message}\n`);
    }
    if (pending.length >= 500) {
      storage.logs[SYNC_LOGS]!.ingestMany(pending);
      writeSync(fd, text.join(''));
      pending = [];
      text = [];
      // flushes happen every 500 batches (50,000 lines); report every millionth line
      if ((n + PER_BATCH) % 1_000_000 === 0) process.stderr.write(`  built ${n + PER_BATCH} lines in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
  }
  if (pending.length) storage.logs[SYNC_LOGS]!.ingestMany(pending);
  writeSync(fd, text.join(''));
  closeSync(fd);
  storage.close();
  writeFileSync(done, `${lines} lines built in ${Date.now() - started} ms\n`);
  return { flat, data };
}

interface Case {
  name: string;
  url: (i: number) => string;
  grep: string[];
}

function grepMs(pattern: string, file: string): number {
  const t = performance.now();
  try {
    execFileSync('grep', ['-F', '-c', '--', pattern, file], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 20 });
  } catch {
    // grep exits 1 when nothing matched; the time still counts
  }
  return performance.now() - t;
}

export async function searchBench(dir: string, lines: number, runs: number): Promise<void> {
  const { flat, data } = buildSearchData(dir, lines);
  process.stderr.write(`search: ${lines} lines, db ${(statSync(dbPath(data)).size / 2 ** 30).toFixed(2)} GiB, flat file ${(statSync(flat).size / 2 ** 30).toFixed(2)} GiB\n`);
  // A database built before the number-run index (migration 8) has it only for new lines:
  // index the older ones here, as a collector's backfill would, and say how long it took.
  {
    const db = openDatabase(data);
    const backfill = numBackfiller(db);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    for (let k = backfill(500_000); k > 0; k = backfill(500_000)) n += k;
    const c = process.cpuUsage(c0);
    if (n > 0) process.stderr.write(`search: indexed number runs of ${n} older lines in ${((performance.now() - t0) / 1000).toFixed(1)} s (${((c.user + c.system) / 1e6).toFixed(1)} CPU s)\n`);
    db.close();
  }
  const app = await buildApp({ dataDir: data, retention: { max_age_days: 0, max_bytes: 0 } });
  await app.ready();
  const token = (await app.storage.tokens.create('viewer', 'bench', Date.now())).token;
  const r = rng(7);
  const words = ['deadlock', 'Killed', 'publickey', 'compaction', 'snapshot'];
  const phrases = ['upstream timeout', 'Failed password', 'Out of memory', 'link down'];
  const cases: Case[] = [
    { name: 'word', url: (i) => `q=${words[i % words.length]}`, grep: words },
    { name: 'phrase', url: (i) => `q=${encodeURIComponent(`"${phrases[i % phrases.length]}"`)}`, grep: phrases },
    {
      name: 'word + 1 day',
      url: (i) => {
        const start = T0 + Math.floor(r() * (SPAN_MS - 86_400_000));
        return `q=${words[i % words.length]}&start=${start}&end=${start + 86_400_000}`;
      },
      grep: words,
    },
    {
      name: 'word + host',
      url: (i) => `q=${words[i % words.length]}&host=${hostName(Math.floor(r() * HOSTS))}`,
      grep: words,
    },
    {
      name: 'host+severity+1 day',
      url: () => {
        const start = T0 + Math.floor(r() * (SPAN_MS - 86_400_000));
        return `host=${hostName(Math.floor(r() * HOSTS))}&severity=3&start=${start}&end=${start + 86_400_000}`;
      },
      // grep cannot express the conjunction; the host alone is its closest single pattern
      grep: [' web-042 ', ' web-117 ', ' web-003 '],
    },
  ];
  // The term shapes of the search language (docs/query-language.md): punctuation inside a term
  // becomes a phrase of its words. IPs are taken from stored lines so that each is found; the
  // corpus has no e-mail addresses, so that case measures a search that finds nothing.
  const ips = [...new Set((await app.storage.logs.query({ q: 'publickey', limit: 200 })).items.map((i) => /\b10\.\d+\.\d+\.\d+\b/.exec(i.message)?.[0]).filter((x): x is string => !!x))].slice(0, 20);
  const paths = ['/api/v1/orders', '/api/v2/payments', '/static/app.js', '/healthz'];
  const pairs = ['user=alice', 'user=carol', 'rx_dropped=42', 'rt=1.234'];
  const emails = ['alice@example.com', 'ops@ringtail.dev'];
  const enc = (s: string) => encodeURIComponent(s);
  cases.push(
    { name: 'IP address', url: (i) => `q=${enc(ips[i % ips.length]!)}`, grep: ips.slice(0, 5) },
    { name: 'path', url: (i) => `q=${enc(paths[i % paths.length]!)}`, grep: paths },
    { name: 'key=value', url: (i) => `q=${enc(pairs[i % pairs.length]!)}`, grep: pairs },
    { name: 'e-mail (no match in corpus)', url: (i) => `q=${enc(emails[i % emails.length]!)}`, grep: emails },
    { name: 'IP prefix 10.12.*', url: () => `q=${enc('10.12.*')}`, grep: [' 10.12.'] },
    { name: 'host glob + word', url: (i) => `q=${enc(`host:web-0* ${words[i % words.length]}`)}`, grep: words },
  );
  const rows: string[][] = [];
  for (const c of cases) {
    const ms: number[] = [];
    let hits = 0;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const res = await app.inject({ method: 'GET', url: `/api/v1/logs?limit=100&${c.url(i)}`, headers: { authorization: `Bearer ${token}` } });
      ms.push(performance.now() - t);
      if (res.statusCode !== 200) throw new Error(`${c.name}: ${res.statusCode} ${res.body}`);
      hits += (res.json() as { items: unknown[] }).items.length;
    }
    const g = c.grep.map((p) => grepMs(p, flat));
    const p50 = pct(ms, 50);
    const p99 = pct(ms, 99);
    const grepMed = pct(g, 50);
    rows.push([c.name, p50.toFixed(1), p99.toFixed(1), (hits / runs).toFixed(0), grepMed.toFixed(0), `1/${(grepMed / p50).toFixed(0)}`, p99 < 100 ? 'yes' : 'NO']);
  }
  await app.close();
  process.stdout.write(table(['search (limit 100)', 'ringtail p50 ms', 'p99 ms', 'rows/answer', 'grep -F ms (median)', 'ringtail/grep', 'p99<100ms'], rows));
}
