// Search benchmark: 10 M stored lines, typical searches through the HTTP route (inject) against
// `grep -F` over the same lines as one flat file. The database and the flat file are built once
// and cached under bench/out/ (gitignored). With `--storage clickhouse` the same lines are also
// stored in ClickHouse (a chdb server on bench/out/search-N-chdb/, built once and kept as well)
// and every search runs against a collector app on that store too: p50/p99 per shape side by
// side, and bytes on disk per line of both stores.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../collector/app.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { numBackfiller } from '../../collector/storage/sqlite/num-plan.js';
import { dbPath, openDatabase } from '../../collector/storage/sqlite/open.js';
import { openStorageAsync, storageConfig } from '../../collector/storage/factory.js';
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import { SYNC_LOGS, type IngestItem } from '../../collector/storage/types.js';
import { clickhouseSide } from './ch-side.js';
import { coldSearchBench } from './search-cold.js';
import { genBatch, hostName, rng } from './loglines.js';
import { pct, table } from './stats.js';

const HOSTS = 200;
const PER_BATCH = 100;
const T0 = Date.UTC(2026, 9, 1);
const SPAN_MS = 30 * 86_400_000;

/** The corpus in groups of 500 batches (50,000 lines), each with its lines as flat-file text. */
function* corpus(lines: number): Generator<{ items: IngestItem[]; text: string; done: number }> {
  const r = rng(42);
  const offsets = new Map<string, number>();
  const step = SPAN_MS / lines;
  let ts = T0;
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
    if (pending.length >= 500 || n + PER_BATCH >= lines) {
      yield { items: pending, text: text.join(''), done: Math.min(lines, n + PER_BATCH) };
      pending = [];
      text = [];
    }
  }
}

export function buildSearchData(dir: string, lines: number): { flat: string; data: string } {
  const data = join(dir, `search-${lines}`);
  const flat = join(dir, `search-${lines}.log`);
  const done = join(data, 'complete');
  if (existsSync(done)) return { flat, data };
  rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { recursive: true });
  const storage = openSqliteStorage(data);
  const fd = openSync(flat, 'w');
  const started = Date.now();
  for (const g of corpus(lines)) {
    storage.logs[SYNC_LOGS]!.ingestMany(g.items);
    writeSync(fd, g.text);
    // groups are 50,000 lines; report every millionth line
    if (g.done % 1_000_000 === 0) process.stderr.write(`  built ${g.done} lines in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  }
  closeSync(fd);
  storage.close();
  writeFileSync(done, `${lines} lines built in ${Date.now() - started} ms\n`);
  return { flat, data };
}

/** The same lines in ClickHouse (database `search` of the chdb directory), built once. */
async function buildClickhouseData(url: string, chdbDir: string, lines: number): Promise<void> {
  const done = join(chdbDir, 'ringtail-search-complete');
  if (existsSync(done)) return;
  const store = await openClickHouseLogStore({ url, database: 'search', requestTimeoutMs: 900_000 });
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  try {
    for (const g of corpus(lines)) {
      await store.ingestMany(g.items);
      if (g.done % 1_000_000 === 0) process.stderr.write(`  ClickHouse: built ${g.done} lines in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
    }
  } finally {
    await store.close();
  }
  const c = process.cpuUsage(cpu0);
  writeFileSync(done, `${lines} lines built in ${Date.now() - started} ms (client CPU ${((c.user + c.system) / 1e6).toFixed(1)} s)\n`);
  process.stderr.write(`  ClickHouse: ${readFileSync(done, 'utf8')}`);
}

export interface Case {
  name: string;
  url: (i: number) => string;
  grep: string[];
}

export interface Timing {
  p50: number;
  p99: number;
  /** rows per answer */
  hits: number;
  /** the first search's ms (the one a user meets after a start: search-cold.ts) */
  first: number;
}

/** `runs` searches of a case through the logs route */
export async function measure(app: Awaited<ReturnType<typeof buildApp>>, token: string, c: Case, runs: number): Promise<Timing> {
  const ms: number[] = [];
  let hits = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const res = await app.inject({ method: 'GET', url: `/api/v1/logs?limit=100&${c.url(i)}`, headers: { authorization: `Bearer ${token}` } });
    ms.push(performance.now() - t);
    if (res.statusCode !== 200) throw new Error(`${c.name}: ${res.statusCode} ${res.body}`);
    hits += (res.json() as { items: unknown[] }).items.length;
  }
  return { p50: pct(ms, 50), p99: pct(ms, 99), hits: hits / runs, first: ms[0]! };
}

export function grepMs(pattern: string, file: string): number {
  const t = performance.now();
  try {
    execFileSync('grep', ['-F', '-c', '--', pattern, file], { stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 20 });
  } catch {
    // grep exits 1 when nothing matched; the time still counts
  }
  return performance.now() - t;
}

export async function searchBench(dir: string, lines: number, runs: number, storage: 'sqlite' | 'clickhouse' = 'sqlite', cold = false): Promise<void> {
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
  // each case's URLs again for the second store: the same searches, the same random windows
  const replay = (c: Case): Case => {
    const urls: string[] = [];
    return { ...c, url: (i) => (urls[i] ??= c.url(i)) };
  };
  const replays = cases.map(replay);
  if (cold) {
    await app.close();
    await coldSearchBench({ data, flat, cases: replays, runs });
    return;
  }
  const rows: string[][] = [];
  const sqliteRes: Timing[] = [];
  for (const c of replays) {
    const m = await measure(app, token, c, runs);
    sqliteRes.push(m);
    const g = c.grep.map((p) => grepMs(p, flat));
    const grepMed = pct(g, 50);
    rows.push([c.name, m.p50.toFixed(1), m.p99.toFixed(1), m.hits.toFixed(0), grepMed.toFixed(0), `1/${(grepMed / m.p50).toFixed(0)}`, m.p99 < 100 ? 'yes' : 'NO']);
  }
  await app.close();
  process.stdout.write(table(['search (limit 100)', 'ringtail p50 ms', 'p99 ms', 'rows/answer', 'grep -F ms (median)', 'ringtail/grep', 'p99<100ms'], rows));
  if (storage === 'clickhouse') await clickhouseSearch(dir, data, lines, runs, replays, sqliteRes);
}

/** The same searches against a collector app whose logs are in ClickHouse (chdb), beside SQLite's figures. */
async function clickhouseSearch(
  dir: string,
  sqliteData: string,
  lines: number,
  runs: number,
  cases: Case[],
  sqliteRes: Timing[],
): Promise<void> {
  const chdbDir = join(dir, `search-${lines}-chdb`);
  const ch = await clickhouseSide(chdbDir);
  const appDir = join(dir, `search-${lines}-chapp`);
  rmSync(appDir, { recursive: true, force: true });
  try {
    await buildClickhouseData(ch.server.url, chdbDir, lines);
    const storage = await openStorageAsync(storageConfig({ storage: 'clickhouse', data: appDir, clickhouse: { url: ch.server.url, database: 'search' } }));
    const app = await buildApp({ dataDir: appDir, storage, retention: { max_age_days: 0, max_bytes: 0 } });
    await app.ready();
    const token = (await app.storage.tokens.create('viewer', 'bench', Date.now())).token;
    const rows: string[][] = [];
    for (const [k, c] of cases.entries()) {
      const m = await measure(app, token, c, runs);
      const s = sqliteRes[k]!;
      rows.push([c.name, s.p50.toFixed(1), s.p99.toFixed(1), s.hits.toFixed(0), m.p50.toFixed(1), m.p99.toFixed(1), m.hits.toFixed(0), (m.p50 / s.p50).toFixed(2)]);
    }
    await app.close();
    storage.close();
    const chBytes = await ch.partsBytes('search');
    const sqBytes = statSync(dbPath(sqliteData)).size;
    process.stdout.write(`\n${lines} lines in both stores; load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n\n`);
    process.stdout.write(table(['search (limit 100)', 'SQLite p50 ms', 'p99 ms', 'rows', 'ClickHouse p50 ms', 'p99 ms', 'rows', 'ClickHouse/SQLite p50'], rows));
    process.stdout.write(`\nbytes on disk per line: SQLite ${(sqBytes / lines).toFixed(1)} (ringtail.db), ClickHouse ${(chBytes / lines).toFixed(1)} (active parts); ratio ${(chBytes / sqBytes).toFixed(3)} (target ≤ 0.333)\n`);
  } finally {
    await ch.stop();
    rmSync(appDir, { recursive: true, force: true });
  }
}
