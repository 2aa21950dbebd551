// Full-text pages give the same rows whichever plan searches each id window: FTS5 with a row
// lookup per match ('scan'), matches kept by membership in the host's ids from the (host, ts)
// index ('member'), the host's lines read and checked by FTS5 ('host'), the search intersected
// with the host's token in the full-text index ('token', host-tokens.ts), or the cost-based
// choice between them ('auto'). The older half of the lines is stored as a database from before
// host tokens has it (no token; host_tokens_from_id in the middle), so that 'auto' and 'token'
// pages cross from one way to the other. Each is compared page by
// page, cursors included, with a naive statement (every match, every filter, ORDER BY id DESC)
// on a seeded database whose times are not monotonic in id (hosts with skewed clocks, backlogs
// that arrive late with old times), with windows small enough that every page spans several.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor } from '../../collector/storage/sqlite/cursor.js';
import { hostWindowPlanner } from '../../collector/storage/sqlite/fts-plan.js';
import { hostToken } from '../../collector/storage/sqlite/host-tokens.js';
import { sqliteLogHistogram } from '../../collector/storage/sqlite/histogram.js';
import { openDatabase, type Db } from '../../collector/storage/sqlite/open.js';
import { sqliteLogQuery } from '../../collector/storage/sqlite/query.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { SYNC_LOGS, type LogFilter, type Storage } from '../../collector/storage/types.js';
import { WIRE_VERSION, type IngestBatch, type WireLine } from '../../shared/wire.js';
import { rng } from '../helpers/rng.js';

const H = 3_600_000;
const T0 = Date.UTC(2026, 10, 20);
// skewed on purpose: a few words in most lines, a long tail of rare ones
const WORDS = ['alpha', 'alpha', 'alpha', 'alpha', 'beta', 'beta', 'gamma', 'delta', 'kappa', 'omega'];
const HOSTS = ['big', 'big', 'big', 'big', 'big', 'mid', 'mid', 'h1', 'h2', 'h3', 'h4', 'h5'];

let dir = '';
let storage: Storage;
let db: Db;
let tokensFrom = 0;
const offsets = new Map<string, number>();

function batch(r: () => number, host: string, n: number, ts: number, step: number): IngestBatch {
  const lines: WireLine[] = [];
  let o = offsets.get(host) ?? 0;
  const start = o;
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: 3 }, () => WORDS[Math.floor(r() * WORDS.length)]!);
    const message = `${words.join(' ')} ${r() < 0.01 ? 'needle ' : ''}n${o}`;
    lines.push({ offset: o, ts: Math.round(ts + i * step), severity: Math.floor(r() * 8), program: r() < 0.5 ? 'app' : 'db', message });
    o += message.length + 1;
  }
  offsets.set(host, o);
  return { version: WIRE_VERSION, agent_id: `agt-${host}`, host, segments: [{ stream: 's', source: '/var/log/x', start, end: o, lines }] };
}

function seed(r: () => number, batches: number, from: number): number {
  let ts = from;
  for (let b = 0; b < batches; b++) {
    const host = HOSTS[Math.floor(r() * HOSTS.length)]!;
    // host clocks disagree by up to two hours; every 25th batch is a backlog from a day ago
    const skew = (host.charCodeAt(host.length - 1) % 5) * 0.5 * H - H;
    const at = b % 25 === 24 ? ts - 24 * H : ts + skew;
    storage.logs[SYNC_LOGS]!.ingestMany([{ batch: batch(r, host, 20 + Math.floor(r() * 60), at, 7_000), receivedAt: 0 }]);
    ts += 20 * 60_000;
  }
  return ts;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rt-fts-plans-'));
  storage = openSqliteStorage(dir);
  seed(rng(11), 600, T0);
  db = openDatabase(dir);
  // the older half as a database from before host tokens: its full-text entries are the message alone
  tokensFrom = Math.floor((db.prepare('SELECT max(id) FROM logs').pluck().get() as number) / 2);
  db.transaction(() => {
    db.prepare('DELETE FROM logs_fts WHERE rowid < ?').run(tokensFrom);
    db.prepare('INSERT INTO logs_fts (rowid, message) SELECT id, message FROM logs WHERE id < ? ORDER BY id').run(tokensFrom);
    db.prepare("UPDATE log_index_meta SET value = ? WHERE key = 'host_tokens_from_id'").run(tokensFrom);
  })();
}, 60_000);
afterAll(() => {
  db?.close();
  storage?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const COLS = 'l.id, l.ts, l.received_at, l.host, l.source, l.program, l.pid, l.facility, l.severity, l.message, l.fields';

/** Every match of the filter below `top`, newest id first: no windows, no plan, no budget. */
function naive(f: LogFilter, top: number): number[] {
  const where = ['l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH @q)', 'l.id < @top'];
  const p: Record<string, unknown> = { q: f.q, top };
  for (const k of ['host', 'program'] as const) if (f[k] !== undefined) (where.push(`l.${k} = @${k}`), (p[k] = f[k]));
  if (f.severity !== undefined) (where.push('l.severity <= @severity'), (p.severity = f.severity));
  if (f.start !== undefined) (where.push('l.ts >= @start'), (p.start = f.start));
  if (f.end !== undefined) (where.push('l.ts < @end'), (p.end = f.end));
  return db.prepare(`SELECT l.id FROM logs l WHERE ${where.join(' AND ')} ORDER BY l.id DESC`).pluck().all(p) as number[];
}

const cases: Array<[string, Omit<LogFilter, 'limit'>, number]> = [
  ['a frequent word on the biggest host', { q: 'alpha', host: 'big' }, 40],
  ['a frequent word on a small host', { q: 'alpha', host: 'h3' }, 25],
  ['a rare word on the biggest host', { q: 'needle', host: 'big' }, 7],
  ['a rare word on a small host', { q: 'needle', host: 'h1' }, 3],
  ['a phrase on a middle host', { q: '"alpha beta"', host: 'mid' }, 30],
  ['AND / NOT with a host and severity', { q: 'beta NOT gamma', host: 'mid', severity: 3 }, 20],
  ['a word, a host and one day', { q: 'beta', host: 'h2', start: T0 + 30 * H, end: T0 + 54 * H }, 10],
  ['a word, a host and a range cutting hours', { q: 'gamma', host: 'big', start: T0 + 40 * H + 1234, end: T0 + 47 * H - 999 }, 15],
  ['a word and one day, no host', { q: 'delta', start: T0 + 60 * H, end: T0 + 84 * H }, 30],
  ['a word and a program on a host', { q: 'kappa', host: 'big', program: 'db' }, 12],
  ['a host that does not exist', { q: 'alpha', host: 'nobody' }, 10],
  ['a word nowhere', { q: 'zzzz', host: 'big' }, 10],
];

describe.each(['auto', 'scan', 'member', 'host', 'token'] as const)('plan %s', (plan) => {
  it.each(cases)('%s: same pages and cursors as the naive statement', (_name, f, limit) => {
    const q = sqliteLogQuery(db, { firstWindow: 97, maxWindow: 1500, budgetMs: Number.POSITIVE_INFINITY, plan });
    const all = naive({ ...f, limit }, Number.MAX_SAFE_INTEGER);
    let cursor: string | undefined;
    let seen = 0;
    for (let page = 0; page < 6; page++) {
      const got = q.query({ ...f, limit, cursor });
      const want = all.slice(seen, seen + limit);
      expect(got.items.map((i) => i.id)).toEqual(want);
      const more = all.length > seen + limit;
      expect(got.next_cursor !== null).toBe(more);
      if (!more) return;
      expect(decodeCursor(got.next_cursor!)).toEqual({ kind: 'id', id: want[want.length - 1] });
      cursor = got.next_cursor!;
      seen += limit;
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('returns whole rows identical to the default plan', () => {
    const q = sqliteLogQuery(db, { firstWindow: 97, maxWindow: 1500, budgetMs: Number.POSITIVE_INFINITY, plan });
    const dflt = sqliteLogQuery(db);
    for (const [, f, limit] of cases) expect(q.query({ ...f, limit })).toEqual(dflt.query({ ...f, limit }));
  });

  it('reports a malformed query even when no window has a line of the host', () => {
    const q = sqliteLogQuery(db, { firstWindow: 97, plan });
    expect(() => q.query({ q: '"unterminated', host: 'nobody', limit: 5 })).toThrow(/unbalanced quote at 0/);
    expect(() => q.query({ q: '"unterminated', host: 'big', limit: 5 })).toThrow(/unbalanced quote at 0/);
  });
});

describe('cursor paging while matching lines arrive', () => {
  it.each(['auto', 'member'] as const)('%s: later lines never enter pages below the cursor', (plan) => {
    const q = sqliteLogQuery(db, { firstWindow: 97, maxWindow: 1500, budgetMs: Number.POSITIVE_INFINITY, plan });
    const f = { q: 'omega', host: 'big', limit: 150 };
    const before = naive(f, Number.MAX_SAFE_INTEGER);
    const r = rng(plan === 'auto' ? 5 : 6);
    const ids: number[] = [];
    let cursor: string | undefined;
    do {
      const got = q.query({ ...f, cursor });
      ids.push(...got.items.map((i) => i.id));
      cursor = got.next_cursor ?? undefined;
      storage.logs[SYNC_LOGS]!.ingestMany([{ batch: batch(r, 'big', 30, T0 + 300 * H, 1000), receivedAt: 0 }]);
    } while (cursor);
    expect(ids).toEqual(before);
  });
});

describe('the planner', () => {
  it('skips windows without the host, builds small host sets, and scans when the set would cost more', () => {
    const plan = hostWindowPlanner(db);
    const top = db.prepare('SELECT max(id) FROM logs').pluck().get() as number;
    expect(plan({ q: 'alpha', host: 'nobody', lo: 1, hi: top, need: 10 })).toEqual({ kind: 'skip' });
    expect(plan({ q: 'alpha', host: 'h4', lo: 1, hi: top, need: 10 }).kind).toBe('member');
    expect(plan({ q: 'zzzz', host: 'h4', lo: 1, hi: top, need: 10 }).kind).toBe('member');
  });

  it('scans when the host has more lines in the window than a small set and the lookups saved are fewer', () => {
    // one host with 20,000 lines in a row: a set of them costs more than looking up the ~1 % of
    // needles, or the first 101 of the ~80 % of alphas
    const r = rng(9);
    for (let i = 0; i < 10; i++) storage.logs[SYNC_LOGS]!.ingestMany([{ batch: batch(r, 'huge', 2000, T0 + 400 * H + i * 2_000_000, 1000), receivedAt: 0 }]);
    const top = db.prepare('SELECT max(id) FROM logs').pluck().get() as number;
    const plan = hostWindowPlanner(db);
    expect(plan({ q: 'needle', host: 'huge', lo: top - 19_999, hi: top, need: 101 }).kind).toBe('scan');
    expect(plan({ q: 'alpha', host: 'huge', lo: top - 19_999, hi: top, need: 101 }).kind).toBe('scan');
    const q = sqliteLogQuery(db, { budgetMs: Number.POSITIVE_INFINITY });
    expect(q.query({ q: 'needle', host: 'huge', limit: 1000 }).items.map((i) => i.id)).toEqual(naive({ q: 'needle', host: 'huge', limit: 0 }, Number.MAX_SAFE_INTEGER));
  });

  // Regression (issue 13, word + host): a host with a few lines among many others' and a frequent
  // word made every plan walk all the word's matches in each window for a handful of answers.
  it('reads a quiet host\'s own lines when a walk would read many more matches of the word', () => {
    const r = rng(13);
    for (let i = 0; i < 6; i++) {
      storage.logs.ingestMany([{ batch: batch(r, 'quiet', 5, T0 + 500 * H + i * 60_000, 1000), receivedAt: 0 }]);
      storage.logs.ingestMany([{ batch: batch(r, 'big', 2000, T0 + 500 * H + i * 60_000 + 5_000, 10), receivedAt: 0 }]);
    }
    const top = db.prepare('SELECT max(id) FROM logs').pluck().get() as number;
    const plan = hostWindowPlanner(db);
    const w = { host: 'quiet', lo: top - 12_029, hi: top, need: 101 };
    // alpha: in ~85 % of the ~12,000 lines of the window; needle: in ~1 %, fewer than 30 × 64
    expect(plan({ ...w, q: 'alpha' })).toMatchObject({ kind: 'host', lo: w.lo });
    // its 30 lines are all it has down to the first id: one read for the whole range
    expect(plan({ ...w, q: 'alpha', bottom: 1 })).toMatchObject({ kind: 'host', lo: 1 });
    expect(plan({ ...w, q: 'needle' }).kind).toBe('member');
    expect(plan({ ...w, q: 'zzzz' }).kind).toBe('skip');
    for (const q of ['alpha', 'needle', '"alpha beta"', 'alpha NOT beta', 'alph*']) {
      const want = naive({ q, host: 'quiet', limit: 0 }, Number.MAX_SAFE_INTEGER);
      expect(sqliteLogQuery(db, { budgetMs: Number.POSITIVE_INFINITY }).query({ q, host: 'quiet', limit: 1000 }).items.map((i) => i.id), q).toEqual(want);
      expect(sqliteLogQuery(db, { budgetMs: Number.POSITIVE_INFINITY, plan: 'host' }).query({ q, host: 'quiet', limit: 7 }).items.map((i) => i.id), q).toEqual(want.slice(0, 7));
    }
    expect(naive({ q: 'alpha', host: 'quiet', limit: 0 }, Number.MAX_SAFE_INTEGER).length).toBeGreaterThan(15);
  });
});

describe('host tokens', () => {
  it('index each line from host_tokens_from_id on under its host, and no line before it', () => {
    for (const host of ['big', 'h3', 'nobody']) {
      const has = db.prepare('SELECT rowid FROM logs_fts WHERE logs_fts MATCH ? ORDER BY rowid').pluck().all(`"${hostToken(host)}"`) as number[];
      const want = db.prepare('SELECT id FROM logs WHERE host = ? AND id >= ? ORDER BY id').pluck().all(host, tokensFrom) as number[];
      expect(has, host).toEqual(want);
    }
    expect(tokensFrom).toBeGreaterThan(1000);
  });

  it('are never a search\'s words: a search containing their mark is refused', () => {
    const q = sqliteLogQuery(db);
    expect(() => q.query({ q: hostToken('big'), limit: 5 })).toThrow(/U\+E000 at 0 is reserved/);
    expect(() => q.query({ q: `alpha "x ${hostToken('big')}"`, limit: 5 })).toThrow(/U\+E000 at 9 is reserved/);
  });

  it('count the same histogram on both sides of host_tokens_from_id as the naive statement', () => {
    const hist = sqliteLogHistogram(db, { windowIds: 997, budgetMs: Number.POSITIVE_INFINITY });
    const start = T0 - 30 * H;
    const end = T0 + 260 * H;
    for (const [q, host] of [['alpha', 'big'], ['needle', 'h1'], ['beta NOT gamma', 'mid'], ['zzzz', 'big']] as const) {
      const got = hist({ q, host, start, end, buckets: 29 });
      const want = new Array<number>(29).fill(0);
      const rows = db
        .prepare('SELECT l.ts FROM logs l WHERE l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?) AND l.host = ? AND l.ts >= ? AND l.ts < ?')
        .pluck()
        .all(q, host, start, end) as number[];
      for (const ts of rows) want[Math.floor((ts - start) / got.interval)]! += 1;
      expect(got.counts, `${q} on ${host}`).toEqual(want);
    }
  });
});
