// A new database's full-text index has no positions (FTS5 detail=none, open.ts); phrases are asked
// of it as the AND of their tokens and checked exactly (phrase-check.ts). The same lines in a
// database whose index has positions (as every database created before has) must give the same
// pages, histograms and live-tail matches for every shape of search: phrases, punctuated terms,
// prefixes, phrases under NOT and OR, case and diacritics, non-ASCII text (checked by FTS5
// itself) and ASCII text (checked by the tokens), with hosts and time ranges. Retention still
// removes lines from the index without positions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { dbPath } from '../../collector/storage/sqlite/open.js';
import { SYNC_LOGS, type LogFilter, type Storage, type SyncLogStore } from '../../collector/storage/types.js';
import { WIRE_VERSION, type IngestBatch, type WireLine } from '../../shared/wire.js';
import { rng } from '../helpers/rng.js';

const T0 = Date.UTC(2026, 11, 1);
const WORDS = ['alpha', 'beta', 'gamma', 'Alpha', 'BETA', 'café', 'cafe', 'naïve', 'naive', '東京', 'タワー', 'x1', '10', '0', '1'];
const SHAPES: Array<(r: () => number) => string> = [
  (r) => Array.from({ length: 3 + Math.floor(r() * 6) }, () => pick(r, WORDS)).join(pick(r, [' ', ' ', '-', '.', ', '])),
  (r) => `conn from ${pick(r, ['10.0.0.1', '10.0.0.10', '110.0.0.1', '10.0.1.0'])} user=${pick(r, ['alice', 'bob'])} path=${pick(r, ['/api/v1/users', '/api/v2/users', '/static/app.js'])}`,
  (r) => `${pick(r, ['Café', 'CAFÉ', 'cafe'])} ${pick(r, ['au lait', 'noir', 'au-lait'])} ${pick(r, ['東京タワー', '東京 タワー', 'タワー 東京'])} ${pick(r, ['ok', 'alpha beta'])}`,
  (r) => `mail ${pick(r, ['alice@example.com', 'alice@example.org', 'bob@example.com'])} ${pick(r, ['alpha', 'beta'])}`,
];
const pick = <T>(r: () => number, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;

const QUERIES = [
  'alpha',
  '"alpha beta"',
  '"beta alpha"',
  '"alpha beta gamma"',
  'alpha-beta',
  '10.0.0.1',
  '10.0.0.10*',
  '10.0.*',
  '"alpha be"*',
  'user=alice',
  '/api/v1/users',
  'alice@example.com',
  'alpha NOT "alpha beta"',
  'gamma -"beta gamma"',
  '"alpha beta" OR "beta gamma"',
  '("alpha beta" OR 10.0.0.1) gamma',
  '"café au lait"',
  '"cafe au"',
  '"naive alpha"',
  '"東京 タワー"',
  '東京タワー',
  '"タワー 東京"',
  'alpha NOT (beta OR "gamma alpha")',
  '"x1 10"',
  '"0 1"',
];

let dir = '';
const stores: Record<'positions' | 'none', { st: Storage; logs: SyncLogStore }> = {} as never;

function lines(r: () => number, n: number, from: number): WireLine[] {
  return Array.from({ length: n }, (_, i) => ({ offset: (from + i) * 1000, ts: T0 + (from + i) * 60_000, severity: 6, message: pick(r, SHAPES)(r) }));
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rt-phrase-check-'));
  for (const kind of ['positions', 'none'] as const) {
    const data = join(dir, kind);
    if (kind === 'positions') {
      // a database as created before: logs_fts with positions, no record of its detail
      openSqliteStorage(data).close();
      const raw = new Database(dbPath(data));
      raw.exec(`DROP TABLE logs_fts;
        CREATE VIRTUAL TABLE logs_fts USING fts5 (message, content='', contentless_delete=1, tokenize='unicode61');
        INSERT INTO logs_fts (logs_fts, rank) VALUES ('deletemerge', 0);
        DELETE FROM log_index_meta WHERE key = 'fts_detail_none';`);
      raw.close();
    }
    const st = openSqliteStorage(data);
    stores[kind] = { st, logs: st.logs[SYNC_LOGS]! };
  }
  const r = rng(21);
  let at = 0;
  for (let b = 0; b < 40; b++) {
    const batch: IngestBatch = { version: WIRE_VERSION, agent_id: `agt-${b % 3}`, host: `h${b % 3}`, segments: [{ stream: 's', source: '/var/log/x', start: at * 1000, end: (at + 50) * 1000, lines: lines(r, 50, at) }] };
    for (const s of Object.values(stores)) expect(s.logs.ingest(batch, 0).accepted).toBe(50);
    at += 50;
  }
}, 60_000);

afterAll(() => {
  for (const s of Object.values(stores)) s.st.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function pages(logs: SyncLogStore, f: Omit<LogFilter, 'limit'>): number[] {
  const ids: number[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const got = logs.query({ ...f, limit: 37, cursor });
    ids.push(...got.items.map((x) => x.id));
    if (!got.next_cursor) return ids;
    cursor = got.next_cursor;
  }
  throw new Error('too many pages');
}

describe('phrases on an index without positions', () => {
  it('a new database records that its index has none; the older one has positions', () => {
    const detail = (k: 'positions' | 'none') =>
      new Database(dbPath(join(dir, k)), { readonly: true }).prepare("SELECT value FROM log_index_meta WHERE key = 'fts_detail_none'").pluck().get();
    expect(detail('none')).toBe(1);
    expect(detail('positions')).toBeUndefined();
  });

  it.each(QUERIES)('%s: the same pages, histogram and live-tail matches as with positions', (q) => {
    const want = pages(stores.positions.logs, { q });
    expect(pages(stores.none.logs, { q })).toEqual(want);
    for (const host of ['h1', 'h2']) expect(pages(stores.none.logs, { q, host })).toEqual(pages(stores.positions.logs, { q, host }));
    const range = { start: T0 + 300 * 60_000, end: T0 + 1500 * 60_000 };
    expect(pages(stores.none.logs, { q, ...range })).toEqual(pages(stores.positions.logs, { q, ...range }));
    const hist = { q, start: T0, end: T0 + 2000 * 60_000, buckets: 20 };
    expect(stores.none.logs.histogram(hist).counts).toEqual(stores.positions.logs.histogram(hist).counts);
    expect([...stores.none.logs.matchIds(q, 500, 1700)].sort()).toEqual([...stores.positions.logs.matchIds(q, 500, 1700)].sort());
  });

  it('the corpus has the traps: phrases whose words are in lines but not in a row, and non-ASCII lines', () => {
    const count = (q: string) => pages(stores.positions.logs, { q }).length;
    expect(count('"alpha beta"')).toBeGreaterThan(10);
    expect(count('alpha beta')).toBeGreaterThan(count('"alpha beta"'));
    expect(count('10.0.0.1')).toBeGreaterThan(5);
    expect(count('10 0 1')).toBeGreaterThan(count('10.0.0.1'));
    expect(count('"東京 タワー"')).toBeGreaterThan(5);
    expect(count('"café au lait"')).toBeGreaterThan(5);
    expect(count('alpha NOT "alpha beta"')).toBeGreaterThan(5);
  });

  it('retention removes lines from the index without positions', () => {
    const before = pages(stores.none.logs, { q: '"alpha beta"' });
    expect(stores.none.logs.retention.deleteOldest(1000)).toBe(1000);
    const after = pages(stores.none.logs, { q: '"alpha beta"' });
    expect(after).toEqual(before.filter((id) => id > 1000));
    expect(after.length).toBeGreaterThan(0);
  });
});
