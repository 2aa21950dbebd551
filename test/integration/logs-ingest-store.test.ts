// The SQLite store's write path: multi-row INSERTs with assigned ids and one FTS5 INSERT…SELECT
// per transaction. Every committed line must be stored once, searchable (words and phrases),
// counted in log_spans, and a redelivered range must add nothing, across batch sizes that do and
// do not fill a whole multi-row statement.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ROWS_PER_INSERT } from '../../collector/storage/sqlite/logs.js';
import { PAGE_SIZE } from '../../collector/storage/sqlite/open.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { SYNC_LOGS, type Storage } from '../../collector/storage/types.js';
import { WIRE_VERSION, type IngestBatch, type WireLine } from '../../shared/wire.js';

const T0 = Date.UTC(2026, 10, 23, 10);
let dir = '';
let st: Storage | null = null;
afterEach(() => {
  st?.close();
  st = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function open(): Storage {
  dir = mkdtempSync(join(tmpdir(), 'rt-ingest-store-'));
  st = openSqliteStorage(dir);
  return st;
}

/** `n` lines of agent/stream from byte offset `from`, each message naming its stream and number */
function batch(agent: string, stream: string, from: number, n: number, extra: Partial<WireLine> = {}): IngestBatch {
  const lines: WireLine[] = [];
  let o = from;
  for (let i = 0; i < n; i++) {
    const message = `${stream} line ${o} quick brown fox`;
    lines.push({ offset: o, ts: T0 + o * 1000, severity: 6, message, ...extra });
    o += message.length + 1;
  }
  return { version: WIRE_VERSION, agent_id: agent, host: `h-${agent}`, segments: [{ stream, source: '/var/log/x', start: from, end: o, lines }] };
}

const sizes = [1, ROWS_PER_INSERT - 1, ROWS_PER_INSERT, ROWS_PER_INSERT + 1, 3 * ROWS_PER_INSERT + 7];

describe('SQLite ingest write path', () => {
  it.each(sizes)('a group of batches of %i lines: every line once, in the full-text index, in its hour span', (n) => {
    const s = open();
    const a = batch('a1', 'sa', 0, n);
    const b = batch('b1', 'sb', 0, n, { fields: { k: 'v' }, program: 'prog', pid: 7, facility: 3 });
    const acks = s.logs[SYNC_LOGS]!.ingestMany([
      { batch: a, receivedAt: T0 },
      { batch: b, receivedAt: T0 },
    ]);
    expect(acks.map((x) => x.accepted)).toEqual([n, n]);
    const db = new Database(join(dir, 'ringtail.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT id, ts, host, program, pid, facility, message, fields FROM logs ORDER BY id').all() as Array<Record<string, unknown>>;
      expect(rows.map((r) => r.message)).toEqual([...a.segments[0]!.lines, ...b.segments[0]!.lines].map((l) => l.message));
      expect(rows.map((r) => r.id)).toEqual(rows.map((_, i) => i + 1));
      expect(rows[n]).toMatchObject({ host: 'h-b1', program: 'prog', pid: 7, facility: 3, fields: '{"k":"v"}' });
      // the FTS5 index holds exactly the stored ids
      const ftsIds = db.prepare(`SELECT rowid FROM logs_fts WHERE logs_fts MATCH '"quick brown fox"' ORDER BY rowid`).pluck().all();
      expect(ftsIds).toEqual(rows.map((r) => r.id));
      expect(db.prepare("SELECT count(*) FROM logs_fts WHERE logs_fts MATCH 'sb'").pluck().get()).toBe(n);
      // log_spans covers every stored id in its hour
      for (const r of rows) {
        const span = db.prepare('SELECT min_id, max_id FROM log_spans WHERE bucket = ?').get(Math.trunc((r.ts as number) / 3_600_000)) as { min_id: number; max_id: number };
        expect(r.id as number).toBeGreaterThanOrEqual(span.min_id);
        expect(r.id as number).toBeLessThanOrEqual(span.max_id);
      }
    } finally {
      db.close();
    }
    expect(s.logs[SYNC_LOGS]!.query({ q: 'sa', limit: 1000 }).items).toHaveLength(n);
  });

  it('hour spans and hosts are written once per group: each hour spans its lines of every batch, each host its received times', () => {
    const s = open();
    const logs = s.logs[SYNC_LOGS]!;
    // host h-a1 twice in the group (received at T0 + 5 s, then T0 + 1 s), h-b1 once; the
    // batches' lines cover the same hours, so every span is widened by several batches
    const a = batch('a1', 'sa', 0, 150);
    const b = batch('b1', 'sb', 0, 150);
    const a2 = batch('a1', 'sa', a.segments[0]!.end, 150);
    logs.ingestMany([
      { batch: a, receivedAt: T0 + 5_000 },
      { batch: b, receivedAt: T0 + 3_000 },
      { batch: a2, receivedAt: T0 + 1_000 },
    ]);
    expect(logs.hosts()).toEqual([
      { host: 'h-a1', first_seen: T0 + 1_000, last_seen: T0 + 5_000 },
      { host: 'h-b1', first_seen: T0 + 3_000, last_seen: T0 + 3_000 },
    ]);
    // a later group received earlier never moves last_seen back
    logs.ingestMany([{ batch: batch('b1', 'sb', b.segments[0]!.end, 1), receivedAt: T0 }]);
    expect(logs.hosts()[1]).toEqual({ host: 'h-b1', first_seen: T0 + 3_000, last_seen: T0 + 3_000 });
    const db = new Database(join(dir, 'ringtail.db'), { readonly: true });
    try {
      const want = db
        .prepare('SELECT ts / 3600000 AS bucket, min(id) AS min_id, max(id) AS max_id FROM logs GROUP BY ts / 3600000 ORDER BY bucket')
        .all();
      expect(want.length).toBeGreaterThan(1);
      expect(db.prepare('SELECT bucket, min_id, max_id FROM log_spans ORDER BY bucket').all()).toEqual(want);
    } finally {
      db.close();
    }
  });

  it('a redelivered range adds nothing, the new tail of an overlapping batch is stored and searchable', () => {
    const s = open();
    const first = batch('a1', 'sa', 0, 150);
    s.logs[SYNC_LOGS]!.ingest(first, T0);
    const end = first.segments[0]!.end;
    const more = batch('a1', 'sa', end, 120);
    // the agent resends the last 30 lines of the first batch with 120 new ones, and the whole
    // first batch again in the same group
    const overlap: IngestBatch = { ...more, segments: [{ ...more.segments[0]!, start: first.segments[0]!.lines[120]!.offset, lines: [...first.segments[0]!.lines.slice(120), ...more.segments[0]!.lines] }] };
    const acks = s.logs[SYNC_LOGS]!.ingestMany([
      { batch: first, receivedAt: T0 },
      { batch: overlap, receivedAt: T0 },
    ]);
    expect(acks.map((x) => [x.accepted, x.duplicates])).toEqual([
      [0, 150],
      [120, 30],
    ]);
    expect(s.logs[SYNC_LOGS]!.maxId()).toBe(270);
    expect(s.logs[SYNC_LOGS]!.query({ q: '"quick brown fox"', limit: 1000 }).items).toHaveLength(270);
    expect(s.logs[SYNC_LOGS]!.since(150, 1000).map((l) => l.message)).toEqual(more.segments[0]!.lines.map((l) => l.message));
  });

  it('ids continue after retention deleted the newest lines, and the index follows them', () => {
    const s = open();
    s.logs[SYNC_LOGS]!.ingest(batch('a1', 'sa', 0, 10), T0);
    expect(s.logs[SYNC_LOGS]!.retention.deleteOldest(10)).toBe(10);
    s.logs[SYNC_LOGS]!.ingest(batch('a2', 'sb', 0, 5), T0);
    const items = s.logs[SYNC_LOGS]!.query({ q: 'fox', limit: 100 }).items;
    expect(items.map((i) => i.message)).toEqual(batch('a2', 'sb', 0, 5).segments[0]!.lines.map((l) => l.message).reverse());
  });

  // Rows go into the table in event-time order while ids keep arrival order: each row must keep
  // its own values whatever order its timestamps come in (a sort that moved one column and not
  // the others would pair ids, times and messages wrongly).
  it('lines whose times go back and forth: every line keeps its id (arrival order), time and text', () => {
    const s = open();
    const b = batch('a1', 'sa', 0, 3 * ROWS_PER_INSERT + 7, { program: 'p' });
    const lines = b.segments[0]!.lines;
    lines.forEach((l, i) => {
      l.ts = T0 + ((i * 7919) % 503) * 1000 - (i % 3) * 3_600_000;
      l.pid = i + 1;
    });
    const c = batch('b1', 'sb', 0, 5);
    c.segments[0]!.lines.forEach((l, i) => (l.ts = T0 - i * 1000));
    expect(s.logs[SYNC_LOGS]!.ingestMany([{ batch: b, receivedAt: T0 }, { batch: c, receivedAt: T0 }]).map((a) => a.accepted)).toEqual([lines.length, 5]);
    const db = new Database(join(dir, 'ringtail.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT id, ts, host, pid, message FROM logs ORDER BY id').all() as Array<{ id: number; ts: number; host: string; pid: number | null; message: string }>;
      const sent = [...lines.map((l) => ({ ts: l.ts, host: 'h-a1', pid: l.pid ?? null, message: l.message })), ...c.segments[0]!.lines.map((l) => ({ ts: l.ts, host: 'h-b1', pid: null, message: l.message }))];
      expect(rows.map(({ ts, host, pid, message }) => ({ ts, host, pid, message }))).toEqual(sent);
      expect(rows.map((r) => r.id)).toEqual(sent.map((_, i) => i + 1));
      // and the time index answers in time order with the same pairs
      const byTs = db.prepare('SELECT ts, message FROM logs INDEXED BY logs_ts ORDER BY ts, id').all();
      expect(byTs).toEqual([...sent].map((r, i) => ({ ts: r.ts, message: r.message, i })).sort((x, y) => x.ts - y.ts || x.i - y.i).map(({ ts, message }) => ({ ts, message })));
    } finally {
      db.close();
    }
  });

  // The page size is fixed when a database is created; an existing one (4 KiB, as every
  // database before PAGE_SIZE) keeps its pages, and both get the FTS5 merge setting.
  it.each([
    ['a new database', null],
    ['a database created with 4 KiB pages', 4096],
  ] as const)('%s: page size, FTS5 automerge 12, lines stored and searchable', (_name, oldPageSize) => {
    dir = mkdtempSync(join(tmpdir(), 'rt-ingest-store-'));
    if (oldPageSize !== null) {
      const old = new Database(join(dir, 'ringtail.db'));
      old.pragma(`page_size = ${oldPageSize}`);
      old.pragma('journal_mode = WAL');
      old.exec('CREATE TABLE made_by_an_older_ringtail (x)');
      old.close();
    }
    st = openSqliteStorage(dir);
    expect(st.logs[SYNC_LOGS]!.ingest(batch('a1', 'sa', 0, 250), T0).accepted).toBe(250);
    const db = new Database(join(dir, 'ringtail.db'), { readonly: true });
    try {
      expect(db.pragma('page_size', { simple: true })).toBe(oldPageSize ?? PAGE_SIZE);
      expect(db.prepare("SELECT v FROM logs_fts_config WHERE k = 'automerge'").pluck().get()).toBe(12);
      expect(db.prepare(`SELECT count(*) FROM logs_fts WHERE logs_fts MATCH '"quick brown fox"'`).pluck().get()).toBe(250);
    } finally {
      db.close();
    }
  });
});
