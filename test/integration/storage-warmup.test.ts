// The warm-up of a SQLite store (collector/storage/sqlite/warm.ts) reads the pages it says it
// reads: the interior pages of every B-tree and the small trees whole, then the full-text
// doclists, then the rows and their indexes — checked page for page against SQLite's own account
// of the file (dbstat) on a seeded database — within its byte bound, ending when stopped (also by
// app.close() while it reads), never failing a start, and without holding searches back.
import { Value } from '@sinclair/typebox/value';
import { CollectorConfig } from '../../collector/config.js';
import { startCollector } from '../../collector/server.js';
import { mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../collector/app.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { dbPath, openDatabase, type Db } from '../../collector/storage/sqlite/open.js';
import { childPages, pageRuns, warmDatabase } from '../../collector/storage/sqlite/warm.js';
import { SYNC_LOGS, type WarmReport } from '../../collector/storage/types.js';
import { WIRE_VERSION, type IngestBatch, type WireLine } from '../../shared/wire.js';
import { rng } from '../helpers/rng.js';
import { waitFor } from '../helpers/proc.js';

const WORDS = ['disk', 'slow', 'request', 'served', 'deadlock', 'user', 'timeout', 'retry', 'upstream', 'cache'];
/** the file's trees are large enough to have interior pages and more leaves than a small tree's 256 */
const LINES = 160_000;

let dir = '';
let db: Db;

function seed(): void {
  const storage = openSqliteStorage(dir);
  const r = rng(5);
  let o = 0;
  for (let b = 0; b < LINES / 1000; b++) {
    const lines: WireLine[] = [];
    const start = o;
    for (let i = 0; i < 1000; i++) {
      const words = Array.from({ length: 5 }, () => WORDS[Math.floor(r() * WORDS.length)]!);
      const message = `${words.join(' ')} id=${Math.floor(r() * 1e9)} took ${Math.floor(r() * 1e4)}ms`;
      lines.push({ offset: o, ts: Date.UTC(2026, 11, 1) + (b * 1000 + i) * 1000, severity: 6, program: 'app', message });
      o += message.length + 1;
    }
    const batch: IngestBatch = { version: WIRE_VERSION, agent_id: 'agt', host: `h${b % 7}`, segments: [{ stream: 's', source: '/var/log/x', start, end: o, lines }] };
    storage.logs[SYNC_LOGS]!.ingestMany([{ batch, receivedAt: 0 }]);
  }
  storage.close();
}

interface Page {
  name: string;
  pageno: number;
  pagetype: string;
}

/** what each tier should read, from SQLite's own walk of the file (dbstat) */
function expected(): { structure: number; fts: number; rows: number; pageSize: number } {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.prepare("SELECT name, pageno, pagetype FROM dbstat WHERE pagetype IN ('internal', 'leaf')").all() as Page[];
  const trees = new Map<string, { internal: number; leaves: number }>();
  for (const p of pages) {
    const t = trees.get(p.name) ?? { internal: 0, leaves: 0 };
    if (p.pagetype === 'internal') t.internal++;
    else t.leaves++;
    trees.set(p.name, t);
  }
  let structure = 0;
  let fts = 0;
  let rows = 0;
  for (const [name, t] of trees) {
    if (t.leaves <= 256) {
      structure += t.internal + t.leaves;
      continue;
    }
    // the interior pages, and the first leaf that tells the walk it has reached the leaves
    structure += t.internal + 1;
    if (name.endsWith('_fts_data')) fts += t.leaves;
    if (name === 'logs' || name === 'logs_ts' || name === 'logs_host_ts') rows += t.leaves;
  }
  return { structure: structure * pageSize, fts: fts * pageSize, rows: rows * pageSize, pageSize };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rt-warm-'));
  seed();
  db = openDatabase(dir);
  // the accounting below is of the database file: nothing left in the WAL
  db.pragma('wal_checkpoint(TRUNCATE)');
}, 120_000);

afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('warmDatabase', () => {
  it('reads every interior page and small tree, then the doclists, then the rows and their indexes', async () => {
    const want = expected();
    // the seed is big enough for every tier to have something to read
    expect(want.fts).toBeGreaterThan(256 * want.pageSize);
    expect(want.rows).toBeGreaterThan(256 * want.pageSize);
    const r = await warmDatabase(db, dbPath(dir), { pauseFactor: 0, maxGapPages: 0 }).done;
    expect(r.state).toBe('done');
    expect(r.tiers).toEqual({ structure: want.structure, fts: want.fts, rows: want.rows });
    expect(r.bytes).toBe(want.structure + want.fts + want.rows);
    expect(r.reads).toBeGreaterThan(0);
    expect(r.ms).toBeGreaterThan(0);
    expect(Object.keys(r.tiers_ms)).toEqual(['structure', 'fts', 'rows']);
    // by default, pages a few apart are read together with those between: fewer reads, a few more bytes
    const g = await warmDatabase(db, dbPath(dir), { pauseFactor: 0 }).done;
    expect(g.tiers.structure).toBe(want.structure);
    expect(g.tiers.fts).toBeGreaterThanOrEqual(want.fts);
    expect(g.tiers.rows).toBeGreaterThanOrEqual(want.rows);
    expect(g.reads).toBeLessThan(r.reads);
  });

  it('reads at most maxBytes, the structure first', async () => {
    const want = expected();
    const max = want.structure + 100 * want.pageSize + 123;
    const r = await warmDatabase(db, dbPath(dir), { pauseFactor: 0, maxBytes: max, chunkBytes: 4 * want.pageSize, maxGapPages: 0 }).done;
    expect(r.state).toBe('done');
    expect(r.bytes).toBeLessThanOrEqual(max);
    expect(r.tiers.structure).toBe(want.structure);
    expect(r.tiers.fts).toBe(100 * want.pageSize);
    expect(r.tiers.rows).toBe(0);
    // upTo stops after a tier
    const s = await warmDatabase(db, dbPath(dir), { pauseFactor: 0, upTo: 'structure' }).done;
    expect(s.tiers).toEqual({ structure: want.structure, fts: 0, rows: 0 });
  });

  it('ends between two reads when stopped', async () => {
    const want = expected();
    // one page per read and a long pause after each: minutes for the whole file
    let asked = 0;
    const w = warmDatabase(db, dbPath(dir), { chunkBytes: want.pageSize, pauseFactor: 1000, busy: () => ++asked < 0 });
    // busy() is asked before each read: twice, and the first read is done
    await waitFor('a read', () => asked >= 2);
    const t = performance.now();
    const r = await w.stop();
    expect(performance.now() - t).toBeLessThan(1000);
    expect(r.state).toBe('stopped');
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.bytes).toBeLessThan(want.structure);
    expect(await w.done).toBe(r);
  });

  it('reads nothing while busy() says so, and goes on when it stops saying so', async () => {
    let busy = true;
    let asked = 0;
    const w = warmDatabase(db, dbPath(dir), {
      pauseFactor: 0,
      maxGapPages: 0,
      busy: () => {
        asked++;
        return busy;
      },
    });
    await waitFor('busy() asked a few times', () => asked >= 5);
    busy = false;
    const r = await w.done;
    expect(r.state).toBe('done');
    expect(r.held_ms).toBeGreaterThan(0);
    expect(r.bytes).toBe(expected().structure + expected().fts + expected().rows);
    // stopped while held: nothing read
    let heldAsked = 0;
    const held = warmDatabase(db, dbPath(dir), { busy: () => ++heldAsked > 0 });
    await waitFor('busy() asked twice', () => heldAsked >= 2);
    const s = await held.stop();
    expect(s.state).toBe('stopped');
    expect(s.bytes).toBe(0);
    expect(s.held_ms).toBeGreaterThan(0);
  });

  it('reports a file it cannot read as failed, without throwing', async () => {
    const other = mkdtempSync(join(tmpdir(), 'rt-warm-gone-'));
    try {
      const d = openDatabase(other);
      renameSync(dbPath(other), join(other, 'moved.db'));
      const r = await warmDatabase(d, dbPath(other)).done;
      d.close();
      expect(r.state).toBe('failed');
      expect(r.error).toMatch(/ENOENT/);
      expect(r.bytes).toBe(0);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('childPages and pageRuns read the file format as SQLite writes it', () => {
    const page = Buffer.alloc(4096);
    expect(childPages(page, 0, 10)).toBeNull(); // not a B-tree page
    page[0] = 0x0d;
    expect(childPages(page, 0, 10)).toEqual([]);
    // an interior table page with two cells (children 3 and 7) and right-most child 9
    page[0] = 0x05;
    page.writeUInt16BE(2, 3);
    page.writeUInt32BE(9, 8);
    page.writeUInt16BE(4000, 12);
    page.writeUInt16BE(4010, 14);
    page.writeUInt32BE(3, 4000);
    page.writeUInt32BE(7, 4010);
    expect(childPages(page, 0, 10)).toEqual([3, 7, 9]);
    // a child beyond the file: a stale page, not followed
    expect(childPages(page, 0, 8)).toBeNull();
    expect(pageRuns([9, 3, 4, 5, 6, 7, 1, 4], 3)).toEqual([
      [1, 1],
      [3, 3],
      [6, 2],
      [9, 1],
    ]);
    // pages up to maxGap apart in one run, the pages between read too
    expect(pageRuns([1, 3, 10, 12, 30], 16, 2)).toEqual([
      [1, 3],
      [10, 3],
      [30, 1],
    ]);
  });
});

describe('the collector warm-up', () => {
  let app: FastifyInstance | null = null;
  afterEach(async () => {
    await app?.close();
    app = null;
  });

  async function start(pauseFactor: number): Promise<{ app: FastifyInstance; token: string; reports: WarmReport[] }> {
    const reports: WarmReport[] = [];
    const a = await buildApp({ dataDir: dir, warmup: { chunkBytes: 16_384, pauseFactor } });
    a.events.on((name, _n, fields) => {
      if (name === 'storage.warmup') reports.push(fields as unknown as WarmReport);
    });
    await a.ready();
    const token = (await a.storage.tokens.create('viewer', 'warm test', Date.now())).token;
    return { app: a, token, reports };
  }

  it('runs once the app is ready and says what it read', async () => {
    const s = await start(0);
    app = s.app;
    const [r] = await waitFor('the warm-up event', () => (s.reports.length ? s.reports : false), 60_000);
    const want = expected();
    expect(r!.state).toBe('done');
    // the WAL of the viewer token created after ready may be read too
    expect(r!.tiers.structure).toBeGreaterThanOrEqual(want.structure);
    expect(r!.tiers.fts).toBeGreaterThanOrEqual(want.fts);
    expect(r!.tiers.rows).toBeGreaterThanOrEqual(want.rows);
    expect(r!.cpu_ms).toBeGreaterThanOrEqual(0);
  }, 70_000);

  it('answers searches while it reads, and app.close() stops it', async () => {
    // a page per read and 1000× its duration as pause: the warm-up would take minutes
    const s = await start(1000);
    app = s.app;
    for (const q of ['deadlock', 'user', '"upstream timeout"']) {
      const t = performance.now();
      const res = await s.app.inject({ method: 'GET', url: `/api/v1/logs?limit=100&q=${encodeURIComponent(q)}`, headers: { authorization: `Bearer ${s.token}` } });
      expect(res.statusCode, res.body).toBe(200);
      expect((res.json() as { items: unknown[] }).items.length).toBeGreaterThan(0);
      expect(performance.now() - t).toBeLessThan(2000);
    }
    expect(s.reports).toEqual([]);
    const t = performance.now();
    await s.app.close();
    app = null;
    expect(performance.now() - t).toBeLessThan(2000);
    expect(s.reports.map((r) => r.state)).toEqual(['stopped']);
  }, 30_000);

  it('is off unless asked for', async () => {
    const reports: string[] = [];
    app = await buildApp({ dataDir: dir });
    app.events.on((name) => {
      if (name === 'storage.warmup') reports.push(name);
    });
    await app.ready();
    await app.close();
    app = null;
    expect(reports).toEqual([]);
  });
});

describe('memory.warmup_percent_of_ram', () => {
  const NO_SYSLOG = Value.Default(CollectorConfig.properties.syslog, { enabled: false }) as CollectorConfig['syslog'];

  // the server logs the warm-up's end (done, or stopped by close): on by default, off with 0
  async function warmupLogged(memory?: CollectorConfig['memory']): Promise<boolean> {
    const log: string[] = [];
    const stream = { write: (chunk: string) => (log.push(String(chunk)), true) } as unknown as NodeJS.WritableStream;
    const c = await startCollector({ data: dir, listen: '127.0.0.1:0', admin_token: 'rt_admin_warmup_config_0123456789', body_limit: 1 << 24, log_level: 'info', syslog: NO_SYSLOG, ...(memory ? { memory } : {}) }, stream);
    await c.close();
    return log.some((l) => l.includes('storage.warmup'));
  }

  it('warms by default and not with 0', async () => {
    expect(await warmupLogged()).toBe(true);
    expect(await warmupLogged({ ...(Value.Default(CollectorConfig.properties.memory, {}) as CollectorConfig['memory']), warmup_percent_of_ram: 0 })).toBe(false);
  }, 60_000);
});
