// Searches for runs of short numbers (`10.0.0.1`, `23:40:46`) are read from the number-run
// index (num-tokens.ts, num-plan.ts) and must find exactly the lines the phrase finds: the same
// ids, pages and cursors as a brute-force reference over the stored messages and as the FTS5
// phrase itself — for IPs with every separator and spacing, partial IPs (10.0.0.1 is not
// 10.0.0.10), paths, e-mails, key=value, with other words, NOT, hosts and prefixes. The database
// is an existing one upgraded by migration 8 in the middle of its life, so searches cross the
// line between lines stored before the index (phrase alone) and after; then older lines are
// backfilled, and retention removes lines.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileSearch, toFts5, tokensOf } from '../../collector/query/lang/index.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { numBackfiller } from '../../collector/storage/sqlite/num-plan.js';
import { dbPath, openDatabase, type Db } from '../../collector/storage/sqlite/open.js';
import { sqliteLogQuery } from '../../collector/storage/sqlite/query.js';
import { SYNC_LOGS, type LogFilter, type Storage } from '../../collector/storage/types.js';
import { WIRE_VERSION, type WireLine } from '../../shared/wire.js';
import { rng } from '../helpers/rng.js';

const IPS = ['10.0.0.1', '10.0.0.10', '10.0.0.100', '110.0.0.1', '10.0.0.12', '10.1.0.0', '192.168.1.1', '10.0.1.0'];
const SHAPES: Array<(r: () => number) => string> = [
  (r) => `Accepted publickey for root from ${pick(r, IPS)} port ${Math.floor(r() * 65536)} ssh2`,
  (r) => `${pick(r, IPS)} - - "GET ${pick(r, ['/api/v1/users', '/api/v1/users/42', '/api/v2/users', '/static/app.js'])} HTTP/1.1" ${pick(r, ['200', '404', '500'])} ${Math.floor(r() * 999)}`,
  (r) => `conn from=${pick(r, IPS)}:${pick(r, ['22', '443', '8080'])}, user=${pick(r, ['alice', 'bob'])} id=${pick(r, ['42', '420', '7'])}`,
  (r) => `peer ${pick(r, IPS).replace(/\./g, pick(r, [' ', '-', ' - ', '/', '_']))} rejected`,
  (r) => `mail to ${pick(r, ['alice@example.com', 'bob@example.com', 'alice@example.org'])} at ${pick(r, ['23:40:46', '23:40:47', '3:40:46'])}`,
  (r) => `version ${pick(r, ['1.2.3', '1.2.30', '1.2.3.4', 'v1.2.3'])} on node ${Math.floor(r() * 9)} 0 0 1 ${pick(r, ['ok', 'café', '١٠.٠.٠.١'])}`,
  (r) => `${Math.floor(r() * 3)}.${Math.floor(r() * 3)}.${Math.floor(r() * 3)}.${Math.floor(r() * 3)} noise 10 0`,
];
const pick = <T>(r: () => number, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;

let dir = '';
let storage: Storage;
let db: Db;
let offset = 0;
/** the first id after the upgrade, and a rare line stored after it under many others */
let upgradedAt = 0;
let rareId = 0;

function ingest(r: () => number, n: number, extra: string[] = []): void {
  for (let done = 0; done < n; done += 50) {
    const lines: WireLine[] = [];
    const start = offset;
    const messages = [...(done === 0 ? extra : []), ...Array.from({ length: 50 }, () => pick(r, SHAPES)(r))];
    for (const message of messages) {
      lines.push({ offset, ts: 1_800_000_000_000 + offset, severity: Math.floor(r() * 8), message });
      offset += message.length + 1;
    }
    const host = r() < 0.5 ? 'a' : 'b';
    storage.logs[SYNC_LOGS]!.ingest({ version: WIRE_VERSION, agent_id: 'agt', host, segments: [{ stream: 's', source: '/var/log/x', start, end: offset, lines }] }, 0);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rt-num-runs-'));
  const r = rng(3);
  storage = openSqliteStorage(dir);
  ingest(r, 1500);
  storage.close();
  // make it a database of schema 7, as a collector before migration 8 left it
  const raw = new Database(dbPath(dir));
  raw.exec('DROP TABLE log_nums_fts; DROP TABLE log_index_meta; PRAGMA user_version = 7;');
  raw.close();
  storage = openSqliteStorage(dir);
  db = openDatabase(dir);
  upgradedAt = (db.prepare("SELECT value FROM log_index_meta WHERE key = 'nums_from_id'").pluck().get() as number);
  ingest(r, 50, ['rare 172.16.254.3 seen']);
  rareId = db.prepare("SELECT id FROM logs WHERE message = 'rare 172.16.254.3 seen'").pluck().get() as number;
  ingest(r, 1500);
}, 60_000);

afterAll(() => {
  db?.close();
  storage?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const words = (s: string) => tokensOf(s);
function contains(line: string[], phrase: string[]): boolean {
  for (let i = 0; i + phrase.length <= line.length; i++) if (phrase.every((w, j) => line[i + j] === w)) return true;
  return false;
}

/** Brute force over the stored rows: the documented meaning of each case, not FTS5. */
function reference(test: (words: string[], host: string) => boolean): number[] {
  const rows = db.prepare('SELECT id, host, message FROM logs ORDER BY id DESC').all() as Array<{ id: number; host: string; message: string }>;
  return rows.filter((x) => test(words(x.message), x.host)).map((x) => x.id);
}

/** What the phrase path alone finds: the search's FTS5 expression over every line, and its host. */
function phrase(q: string, filterHost?: string): number[] {
  const s = compileSearch(q)!;
  const fts = toFts5(s.text!);
  const host = filterHost ?? s.fields.find((t) => t.name === 'host')?.value;
  return db
    .prepare(`SELECT l.id FROM logs l WHERE l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)${host ? ' AND l.host = ?' : ''} ORDER BY l.id DESC`)
    .pluck()
    .all(...(host ? [fts, host] : [fts])) as number[];
}

const has = (p: string) => (w: string[]) => contains(w, words(p));
const cases: Array<[string, Omit<LogFilter, 'limit'>, (w: string[], host: string) => boolean]> = [
  ['an IP', { q: '10.0.0.1' }, has('10 0 0 1')],
  ['an IP that is a prefix of others', { q: '10.0.0.10' }, has('10.0.0.10')],
  ['another IP', { q: '192.168.1.1' }, has('192 168 1 1')],
  ['an IP written with spaces', { q: '"10 0 0 1"' }, has('10 0 0 1')],
  ['an IP with dashes', { q: '10-0-0-1' }, has('10 0 0 1')],
  ['an IP with a port', { q: '10.0.0.1:8080' }, has('10 0 0 1 8080')],
  ['three octets', { q: '10.0.0' }, has('10 0 0')],
  ['the end of an IP', { q: '0.0.1' }, has('0 0 1')],
  ['an IP nowhere', { q: '10.9.9.9' }, has('10 9 9 9')],
  ['an IP and a word', { q: '10.0.0.1 rejected' }, (w) => has('10 0 0 1')(w) && w.includes('rejected')],
  ['an IP without a word', { q: '10.0.0.1 -publickey' }, (w) => has('10 0 0 1')(w) && !w.includes('publickey')],
  ['an IP on a host', { q: '10.0.0.1', host: 'b' }, (w, h) => has('10 0 0 1')(w) && h === 'b'],
  ['an IP as a host term', { q: 'host:a 110.0.0.1' }, (w, h) => has('110 0 0 1')(w) && h === 'a'],
  ['two IPs with OR', { q: '10.0.0.1 OR 192.168.1.1' }, (w) => has('10 0 0 1')(w) || has('192 168 1 1')(w)],
  ['an IP prefix', { q: '10.0.0.10*' }, (w) => w.some((_, i) => w[i] === '10' && w[i + 1] === '0' && w[i + 2] === '0' && (w[i + 3] ?? '').startsWith('10'))],
  ['a time', { q: '23:40:46' }, has('23 40 46')],
  ['a version', { q: '1.2.3' }, has('1 2 3')],
  ['a short run', { q: '1.1' }, has('1 1')],
  ['a path', { q: '/api/v1/users' }, has('api v1 users')],
  ['an e-mail', { q: 'alice@example.com' }, has('alice example com')],
  ['key=value', { q: 'user=alice' }, has('user alice')],
  ['key=number', { q: 'id=42' }, has('id 42')],
  ['an IP and key=value', { q: 'from=10.0.0.1:22 user=bob' }, (w) => has('from 10 0 0 1 22')(w) && has('user bob')(w)],
  ['numbers spaced in a sentence', { q: '"0 0 1 ok"' }, has('0 0 1 ok')],
];

function pages(q: ReturnType<typeof sqliteLogQuery>, f: Omit<LogFilter, 'limit'>): number[] {
  const ids: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 1000; page++) {
    const got = q.query({ ...f, limit: 37, cursor });
    ids.push(...got.items.map((i) => i.id));
    if (got.next_cursor === null) return ids;
    cursor = got.next_cursor;
  }
  throw new Error('too many pages');
}

describe('searches for runs of short numbers', () => {
  it('the database was upgraded in the middle: older lines are not in the number-run index', () => {
    expect(upgradedAt).toBeGreaterThan(1000);
    expect(rareId).toBeGreaterThanOrEqual(upgradedAt);
    const indexed = db.prepare(`SELECT rowid FROM log_nums_fts WHERE log_nums_fts MATCH '"10_0_0" AND "0_0_1"'`).pluck().all() as number[];
    expect(indexed.length).toBeGreaterThan(0);
    expect(Math.min(...indexed)).toBeGreaterThanOrEqual(upgradedAt);
  });

  it.each(cases)('%s: every page is the reference and the phrase', (_name, f, test) => {
    const want = reference(test);
    expect(phrase(f.q!, f.host)).toEqual(want);
    expect(pages(sqliteLogQuery(db, { firstWindow: 97, maxWindow: 1500, budgetMs: Number.POSITIVE_INFINITY }), f)).toEqual(want);
  });

  it('the corpus has the cases and their traps', () => {
    const hits = (t: (w: string[]) => boolean) => reference(t).length;
    expect(hits(has('10 0 0 1'))).toBeGreaterThan(50);
    // lines of 10.0.0.10, 10.0.0.100, 10.0.0.12 or 110.0.0.1 alone: the words 10 0 0 1 are not in a row there
    for (const trap of ['10 0 0 10', '10 0 0 100', '10 0 0 12', '110 0 0 1']) expect(hits((w) => has(trap)(w) && !has('10 0 0 1')(w)), trap).toBeGreaterThan(5);
    for (const [name, f, test] of cases) if (name !== 'an IP nowhere') expect(hits((w) => test(w, f.host ?? 'a') || test(w, 'b')), name).toBeGreaterThan(0);
  });

  // Regression (issue 13, benchmark): a rare IP under many newer lines was found by walking id
  // windows of the phrase `172 16 254 3` from the newest line down; with a budget of 0 and small
  // windows the first page answered nothing. From the number-run index it is the first step.
  it('a rare IP is found in the first step, before the budget runs out', () => {
    const q = sqliteLogQuery(db, { firstWindow: 50, maxWindow: 50, budgetMs: 0 });
    const got = q.query({ q: '172.16.254.3', limit: 10 });
    expect(got.items.map((i) => i.id)).toEqual([rareId]);
  });

  it('after the backfill of the older lines every case is the same, and a page needs no second step', () => {
    const backfill = numBackfiller(db);
    let steps = 0;
    while (backfill(400) > 0) steps++;
    expect(steps).toBeGreaterThan(2);
    expect(db.prepare("SELECT value FROM log_index_meta WHERE key = 'nums_from_id'").pluck().get()).toBe(1);
    for (const [name, f, test] of cases) {
      expect(pages(sqliteLogQuery(db, { firstWindow: 97, maxWindow: 1500, budgetMs: Number.POSITIVE_INFINITY }), f), name).toEqual(reference(test));
    }
    const first = sqliteLogQuery(db, { firstWindow: 50, maxWindow: 50, budgetMs: 0 }).query({ q: '192.168.1.1', limit: 100_000 });
    expect(first.budget_exhausted).toBeUndefined();
    expect(first.items.map((i) => i.id)).toEqual(reference(has('192 168 1 1')));
  });

  it('retention removes the lines\' number runs with them', () => {
    const before = db.prepare(`SELECT rowid FROM log_nums_fts WHERE log_nums_fts MATCH '"10_0_0"'`).pluck().all() as number[];
    const oldest = db.prepare('SELECT min(id) FROM logs').pluck().get() as number;
    expect(storage.logs[SYNC_LOGS]!.retention.deleteOldest(2000)).toBe(2000);
    const after = db.prepare(`SELECT rowid FROM log_nums_fts WHERE log_nums_fts MATCH '"10_0_0"'`).pluck().all() as number[];
    const left = new Set(db.prepare('SELECT id FROM logs').pluck().all() as number[]);
    expect(after.every((id) => left.has(id))).toBe(true);
    expect(after).toEqual(before.filter((id) => left.has(id)));
    expect(Math.min(...left)).toBeGreaterThan(oldest);
    for (const [name, f, test] of cases) {
      expect(pages(sqliteLogQuery(db), f), name).toEqual(reference(test));
    }
  });
});
