// A collector upgraded from schema 7 indexes the number runs of its older lines by itself
// (collector/search-backfill.ts): in slices, resumable across restarts, its progress visible as
// events, GET /api/v1/logs/index and a gauge; searches are the same before, during and after.
// Before this task such a database kept its older lines out of log_nums_fts for ever (searches
// for `10.0.0.1` used the phrase of four common words over them: the same answers, slower).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type AppOptions } from '../../collector/app.js';
import { tokensOf } from '../../collector/query/lang/index.js';
import { numTokens } from '../../collector/storage/sqlite/num-tokens.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { dbPath } from '../../collector/storage/sqlite/open.js';
import { WIRE_VERSION, type IngestBatch, type WireLine } from '../../shared/wire.js';
import { rng } from '../helpers/rng.js';
import { tempDir, waitFor } from '../helpers/proc.js';
import { copySchemaFixture } from '../helpers/schema-fixtures.js';

let app: FastifyInstance | null = null;
let dir: { path: string; cleanup(): void } | null = null;
afterEach(async () => {
  await app?.close();
  app = null;
  dir?.cleanup();
  dir = null;
});

const auth = (token: string) => ({ authorization: `Bearer ${token}` });

async function open(data: string, extra: Partial<AppOptions>): Promise<{ app: FastifyInstance; viewer: string; agent: string }> {
  const a = await buildApp({ dataDir: data, ...extra });
  await a.ready();
  const viewer = (await a.storage.tokens.create('viewer', 'test viewer', Date.now())).token;
  const agent = (await a.storage.tokens.create('agent', 'test agent', Date.now())).token;
  return { app: a, viewer, agent };
}

interface IndexStatus {
  state: string;
  remaining_ids: number;
  covered_from_id: number | null;
  indexed_ids: number;
  slices: number;
}

async function indexStatus(a: FastifyInstance, viewer: string): Promise<IndexStatus> {
  const res = await a.inject({ method: 'GET', url: '/api/v1/logs/index', headers: auth(viewer) });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { number_runs: IndexStatus }).number_runs;
}

async function search(a: FastifyInstance, viewer: string, q: string): Promise<number[]> {
  const ids: number[] = [];
  let cursor = '';
  for (let page = 0; page < 200; page++) {
    const res = await a.inject({ method: 'GET', url: `/api/v1/logs?limit=100&q=${encodeURIComponent(q)}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, headers: auth(viewer) });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { items: Array<{ id: number }>; next_cursor: string | null };
    ids.push(...body.items.map((i) => i.id));
    if (body.next_cursor === null) return ids;
    cursor = body.next_cursor;
  }
  throw new Error('too many pages');
}

/** the ids the number-run index holds for a token, read from the file by a connection of the test's own */
function indexed(data: string, token: string): number[] {
  const db = new Database(dbPath(data), { readonly: true });
  try {
    return db.prepare('SELECT rowid FROM log_nums_fts WHERE log_nums_fts MATCH ? ORDER BY rowid').pluck().all(`"${token}"`) as number[];
  } finally {
    db.close();
  }
}

function meta(data: string): { from: number; min: number; max: number } {
  const db = new Database(dbPath(data), { readonly: true });
  try {
    return {
      from: db.prepare("SELECT value FROM log_index_meta WHERE key = 'nums_from_id'").pluck().get() as number,
      min: db.prepare('SELECT min(id) FROM logs').pluck().get() as number,
      max: db.prepare('SELECT max(id) FROM logs').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

describe('the number-run backfill of a database upgraded from schema 7', () => {
  it('the schema 7 fixture: an IP of a line stored before the upgrade is in the index once the backfill is done', async () => {
    dir = tempDir('ringtail-backfill-v7-');
    copySchemaFixture(7, dir.path);
    const old = new Database(dbPath(dir.path), { readonly: true });
    expect(old.pragma('user_version', { simple: true })).toBe(7);
    const oldId = old.prepare("SELECT id FROM logs WHERE message = 'user alice logged in from 10.0.0.5'").pluck().get() as number;
    old.close();
    expect(oldId).toBeGreaterThan(0);

    let viewer: string;
    let agent: string;
    ({ app, viewer, agent } = await open(dir.path, { searchBackfill: { sliceIds: 2, pauseFactor: 0 } }));
    // a line ingested after the upgrade, through the API: indexed at ingest
    const batch: IngestBatch = {
      version: WIRE_VERSION,
      agent_id: 'agt_backfill',
      host: 'web-9',
      segments: [{ stream: 'app', source: '/var/log/app.log', start: 0, end: 35, lines: [{ offset: 0, ts: Date.now(), severity: 6, message: 'user bob logged in from 10.0.0.5' }] }],
    };
    const res = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: auth(agent), payload: batch });
    expect(res.statusCode, res.body).toBe(200);

    const done = await waitFor('the backfill to finish', async () => {
      const s = await indexStatus(app!, viewer);
      return s.state === 'done' ? s : undefined;
    });
    const m = meta(dir.path);
    expect(done).toMatchObject({ remaining_ids: 0, covered_from_id: m.min });
    expect(done.slices).toBeGreaterThan(1);
    expect(m.from).toBe(m.min);
    const ids = indexed(dir.path, '0_0_5');
    expect(ids).toContain(oldId);
    expect(ids).toHaveLength(2);
    expect(await search(app, viewer, '10.0.0.5')).toEqual([m.max, oldId]);
    expect(app.events.count('search.backfill_started')).toBe(1);
    expect(app.events.count('search.backfill_done')).toBe(1);
    expect(app.events.count('search.backfill_ids')).toBe(done.indexed_ids);
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: auth(viewer) });
    expect(metrics.body).toMatch(/^ringtail_search_backfill_remaining_ids 0$/m);
  });

  // Many lines before the upgrade, the backfill stopped by a restart in the middle, resumed by the
  // next start on the writer thread: every id below the upgrade is indexed exactly once (the two
  // runs' counts add up to the ids below the mark, and no more), every line with a run is in the
  // index, and searches answer the brute-force reference before, during and after.
  it('stopped by a restart mid-way, it resumes where it stopped: nothing twice, nothing left out, searches the same throughout', async () => {
    dir = tempDir('ringtail-backfill-restart-');
    const data = join(dir.path, 'data');
    mkdirSync(data);
    const r = rng(11);
    const IPS = ['10.0.0.1', '10.0.0.10', '192.168.1.1', '172.16.254.3', '10.1.0.0'];
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    const messages = (n: number) =>
      Array.from({ length: n }, () =>
        pick([
          () => `Accepted publickey for root from ${pick(IPS)} port ${Math.floor(r() * 65536)} ssh2`,
          () => `GET /api/v1/users/${Math.floor(r() * 99)} HTTP/1.1 200`,
          () => `peer ${pick(IPS).replace(/\./g, ' ')} rejected at 23:40:${10 + Math.floor(r() * 50)}`,
          () => 'no numbers here',
        ])(),
      );
    let offset = 0;
    const batchOf = (lines: string[]): IngestBatch => {
      const start = offset;
      const wire: WireLine[] = lines.map((message) => {
        const l = { offset, ts: 1_800_000_000_000 + offset, severity: 6, message };
        offset += message.length + 1;
        return l;
      });
      return { version: WIRE_VERSION, agent_id: 'agt', host: 'h', segments: [{ stream: 's', source: '/var/log/x', start, end: offset, lines: wire }] };
    };
    // a schema 7 database of 3,000 lines, as a collector before migration 8 left it
    const s = openSqliteStorage(data);
    for (let i = 0; i < 30; i++) s.logs.ingest(batchOf(messages(100)), 0);
    s.close();
    const raw = new Database(dbPath(data));
    raw.exec('DROP TABLE log_nums_fts; DROP TABLE log_index_meta; PRAGMA user_version = 7;');
    raw.close();

    const reference = (ip: string): number[] => {
      const db = new Database(dbPath(data), { readonly: true });
      const rows = db.prepare('SELECT id, message FROM logs ORDER BY id DESC').all() as Array<{ id: number; message: string }>;
      db.close();
      const want = tokensOf(ip);
      return rows.filter((x) => tokensOf(x.message).some((_, i, w) => want.every((t, j) => w[i + j] === t))).map((x) => x.id);
    };

    // first start: slices of 50 ids, each followed by a pause fifty times its length, so that the
    // restart below comes in the middle (60 slices in all)
    let viewer: string;
    let agent: string;
    ({ app, viewer, agent } = await open(data, { writer: 'worker', searchBackfill: { sliceIds: 50, pauseFactor: 50 } }));
    const upgraded = meta(data);
    expect(upgraded.from).toBe(3001);
    const ing = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: auth(agent), payload: batchOf(messages(50)) });
    expect(ing.statusCode, ing.body).toBe(200);
    const mid = await waitFor('two slices', async () => {
      const st = await indexStatus(app!, viewer);
      return st.slices >= 2 ? st : undefined;
    }, 30_000);
    expect(mid.state).toBe('running');
    for (const ip of IPS) expect(await search(app, viewer, ip), ip).toEqual(reference(ip));
    const firstRun = app.events.count('search.backfill_ids');
    await app.close();
    app = null;
    const between = meta(data);
    // the mark is where the committed slices left it, every one of them (stop waits for the one in progress)
    expect(between.from).toBe(3001 - firstRun);
    expect(between.from).toBeGreaterThan(between.min);
    expect(firstRun).toBeGreaterThanOrEqual(100);

    // second start: it goes on from the mark
    ({ app, viewer } = await open(data, { writer: 'worker', searchBackfill: { sliceIds: 100, pauseFactor: 0 } }));
    const resumed = await indexStatus(app, viewer);
    expect(resumed.covered_from_id).toBe(between.from);
    const done = await waitFor('the backfill to finish', async () => {
      const st = await indexStatus(app!, viewer);
      return st.state === 'done' ? st : undefined;
    });
    const end = meta(data);
    expect(end.from).toBe(end.min);
    expect(done.remaining_ids).toBe(0);
    // the two runs together covered the ids below the upgrade exactly once
    expect(firstRun + app.events.count('search.backfill_ids')).toBe(3000);
    expect(app.events.count('search.backfill_ids')).toBe(between.from - 1);
    // every line with a run is in the index under each of its tokens, and no other
    const db = new Database(dbPath(data), { readonly: true });
    const rows = db.prepare('SELECT id, message FROM logs ORDER BY id').all() as Array<{ id: number; message: string }>;
    db.close();
    const byToken = new Map<string, number[]>();
    for (const row of rows) for (const t of new Set(numTokens(row.message).split(' ').filter(Boolean))) byToken.set(t, [...(byToken.get(t) ?? []), row.id]);
    expect(byToken.size).toBeGreaterThan(5);
    for (const [t, ids] of byToken) expect(indexed(data, t), t).toEqual(ids);
    for (const ip of IPS) expect(await search(app, viewer, ip), ip).toEqual(reference(ip));
  }, 60_000);

  it('a new database has nothing to backfill', async () => {
    dir = tempDir('ringtail-backfill-new-');
    let viewer: string;
    ({ app, viewer } = await open(dir.path, {}));
    expect(await indexStatus(app, viewer)).toMatchObject({ state: 'done', remaining_ids: 0, indexed_ids: 0 });
    expect(app.events.count('search.backfill_started')).toBe(0);
  });
});
