// SQLite and ClickHouse side by side on the benchmark corpus (bench/lib/loglines.ts): the same
// lines in, the same pages and histograms out for searches of every shape. The contract suite
// checks both against a reference model on a small hand-made corpus; this one checks them
// against each other on realistic text (IPs, paths, key=value pairs, a large vocabulary).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import type { AsyncLogStore } from '../../collector/storage/clickhouse/types.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import type { LogFilter } from '../../collector/storage/types.js';
import { genBatch, hostName, rng } from '../../bench/lib/loglines.js';
import { tempDir } from '../helpers/proc.js';
import { startChdb, type ChdbServer } from './chdb-fixture.js';
import { asyncSqlite } from './sqlite-async.js';
import { shape } from './logs.contract.js';

const dirs = [tempDir('ringtail-diff-chdb-'), tempDir('ringtail-diff-sqlite-')];
let server: ChdbServer;
let ch: AsyncLogStore;
let sq: AsyncLogStore;
const T0 = Date.UTC(2026, 11, 1);
const LINES = 4000;
/** ms between lines: 4000 lines over ~12 days, so ClickHouse pages read day windows (windows.ts) */
const STEP = 259_000;
const DAY = 86_400_000;

beforeAll(async () => {
  server = await startChdb(dirs[0]!.path);
  ch = await openClickHouseLogStore({ url: server.url, database: 'differential' });
  sq = asyncSqlite(openSqliteStorage(dirs[1]!.path));
  const r = rng(7);
  const offsets = new Map<string, number>();
  let ts = T0;
  const items = [];
  for (let made = 0, b = 0; made < LINES; made += 200, b++) {
    const host = hostName(b % 12);
    const { batch, end, lastTs } = genBatch(r, host, `s-${host}`, offsets.get(host) ?? 0, 200, ts, STEP);
    offsets.set(host, end);
    ts = lastTs;
    items.push({ batch, receivedAt: T0 + DAY * 13 });
  }
  // time order = arrival order, so SQLite's arrival-ordered full-text pages and ClickHouse's
  // time-ordered ones list the same lines
  const [a, b] = await Promise.all([ch.ingestMany(items), sq.ingestMany(items)]);
  expect(a).toEqual(b);
});
afterAll(async () => {
  await ch?.close();
  await sq?.close();
  await server?.stop();
  dirs.forEach((d) => d.cleanup());
});

const SEARCHES = [
  'timeout',
  'deadlock orders',
  '"Accepted publickey"',
  'publickey -alice',
  'sshd OR postgres',
  '/api/v1/orders',
  'user=alice',
  'rx_dropped',
  '10.12.*',
  'refre*',
  'GET 404',
  'host:web-00* checkpoint',
  'level:>=error upstream',
  'program:CRON shard',
  'program:ngin* (POST OR PUT) -500',
  'Mozilla/5.0',
  'ops@ringtail.dev',
  'ED25519',
];

describe('SQLite and ClickHouse give the same answers on the benchmark corpus', () => {
  it('pages, in full and by cursor', async () => {
    const filters: Array<Omit<LogFilter, 'limit'>> = [...SEARCHES.map((q) => ({ q })), { host: 'web-003', severity: 4 }, { program: 'sshd', start: T0 + 600_000, end: T0 + 2_400_000 }, { q: 'timeout', start: T0 + 2 * DAY + 5, end: T0 + 9 * DAY }];
    const empty: string[] = [];
    for (const f of filters) {
      const [a, b] = await Promise.all([ch.query({ ...f, limit: 100 }), sq.query({ ...f, limit: 100 })]);
      if (b.items.length === 0) empty.push(JSON.stringify(f));
      expect(a.items.map(shape), JSON.stringify(f)).toEqual(b.items.map(shape));
      expect(a.next_cursor === null, JSON.stringify(f)).toBe(b.next_cursor === null);
      if (a.next_cursor && b.next_cursor) {
        const [a2, b2] = await Promise.all([ch.query({ ...f, limit: 100, cursor: a.next_cursor }), sq.query({ ...f, limit: 100, cursor: b.next_cursor })]);
        expect(a2.items.map(shape), JSON.stringify(f)).toEqual(b2.items.map(shape));
      }
    }
    // only the e-mail address is absent from the corpus: the rest compare real answers
    expect(empty).toEqual([JSON.stringify({ q: 'ops@ringtail.dev' })]);
  });

  it('histograms', async () => {
    for (const q of [undefined, ...SEARCHES.slice(0, 8)]) {
      const f = { q, start: T0, end: T0 + LINES * STEP, buckets: 40 };
      const [a, b] = await Promise.all([ch.histogram(f), sq.histogram(f)]);
      expect(a, String(q)).toEqual(b);
    }
  });
});
