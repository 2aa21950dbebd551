// Issue 12, item 3 (the collector's side): when its disk is full or its writer is saturated the
// collector answers 503 with a Retry-After (seconds), so that agents back off instead of
// hammering it; nothing refused is acknowledged, and the same batch is stored once it recovers.
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DISK_FULL_RETRY_S, MAX_SATURATED_RETRY_S, UnavailableError } from '../../collector/ingest/unavailable.js';
import { LogWriter } from '../../collector/ingest/writer.js';
import { createLayouts } from '../../collector/metrics/layout.js';
import { MetricService } from '../../collector/metrics/service.js';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import type { Storage } from '../../collector/storage/types.js';
import { WIRE_VERSION, type IngestAck, type MetricBatch } from '../../shared/wire.js';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir, waitFor } from '../helpers/proc.js';

const T0 = 1_700_000_000_000;
const FULL = 'SQLITE_FULL: database or disk is full';

function metricBatch(host: string, n: number, from = T0): MetricBatch {
  return {
    version: WIRE_VERSION,
    agent_id: `agt_${host}`,
    host,
    interval_ms: 10_000,
    samples: Array.from({ length: n }, (_, i) => ({ name: 'load.1', type: 'GAUGE' as const, ts: from + i * 10_000, value: i })),
  };
}

let c: TestCollector | null = null;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await c?.close();
  c = null;
  for (const f of cleanups.splice(0).reverse()) f();
});

describe('disk full: 503 with Retry-After', () => {
  it('log ingest: nothing acknowledged, the same batch stored after the disk recovers', async () => {
    const dir = tempDir('ringtail-full-');
    cleanups.push(dir.cleanup);
    const real = openSqliteStorage(dir.path);
    cleanups.push(() => real.close());
    let full = true;
    const storage: Storage = {
      ...real,
      logs: {
        ...real.logs,
        ingestMany: (items) => {
          if (full) throw new Error(FULL);
          return real.logs.ingestMany(items);
        },
      },
    };
    c = await testCollector(() => T0, { storage, dataDir: dir.path });
    const b = batchOf(['one', 'two'], { stream: 'full', ts: T0 });
    const post = () => c!.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c!.token('agent')}` }, payload: b });
    const res = await post();
    expect(res.statusCode, res.body).toBe(503);
    expect(res.headers['retry-after']).toBe(String(DISK_FULL_RETRY_S));
    expect(res.json()).toMatchObject({ error: 'RINGTAIL_ERR_STORAGE', message: expect.stringMatching(/^disk full: /) });
    expect(c.app.events.count('ingest.unavailable')).toBe(1);
    full = false;
    const again = await post();
    expect(again.statusCode).toBe(200);
    expect((again.json() as IngestAck).accepted).toBe(2);
  });

  it('metric ingest: a failed commit and a failed series creation are both 503 with Retry-After (not a 500)', async () => {
    const dir = tempDir('ringtail-mfull-');
    cleanups.push(dir.cleanup);
    const store = openRrdStore(join(dir.path, 'm.db'), { create: true });
    cleanups.push(() => store.close());
    let failCreate = false;
    let failUpdate = false;
    const createMany = store.createMany.bind(store);
    const updateMany = store.updateMany.bind(store);
    store.createMany = (items) => {
      if (failCreate) throw new Error(FULL);
      return createMany(items);
    };
    store.updateMany = (items) => {
      if (failUpdate) throw new Error(FULL);
      return updateMany(items);
    };
    c = await testCollector(() => T0 + 3_600_000, { hostMetrics: { store } });
    const post = (b: MetricBatch) => c!.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c!.token('agent')}` }, payload: b as object });

    failCreate = true; // a new host: its series cannot be created
    let res = await post(metricBatch('new-host', 3));
    expect(res.statusCode, res.body).toBe(503);
    expect(res.headers['retry-after']).toBe(String(DISK_FULL_RETRY_S));
    expect(res.json().message).toMatch(/^disk full: /);
    failCreate = false;

    expect((await post(metricBatch('web-1', 1))).statusCode).toBe(200);
    failUpdate = true; // an existing series: the commit fails
    res = await post(metricBatch('web-1', 3, T0 + 10_000));
    expect(res.statusCode, res.body).toBe(503);
    expect(res.headers['retry-after']).toBe(String(DISK_FULL_RETRY_S));
    failUpdate = false;
    expect((await post(metricBatch('web-1', 3, T0 + 10_000))).json()).toEqual({ accepted: 3, duplicates: 0, created: 0 });
    expect((await post(metricBatch('new-host', 3))).json()).toEqual({ accepted: 3, duplicates: 0, created: 1 });
  });
});

/** A tmpfs of `size`, or why there is none (needs root and a kernel that lets us mount). */
function tmpfs(size: string): { path: string; resize(size: string): void; cleanup(): void } | string {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return 'not root on Linux';
  const path = mkdtempSync(join(tmpdir(), 'ringtail-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], { stdio: 'pipe' });
  } catch (err) {
    rmSync(path, { recursive: true, force: true });
    return `mount failed: ${(err as Error).message.split('\n')[0]}`;
  }
  return {
    path,
    resize: (s) => execFileSync('mount', ['-o', `remount,size=${s}`, path], { stdio: 'pipe' }),
    cleanup: () => {
      execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      rmSync(path, { recursive: true, force: true });
    },
  };
}

const probe = tmpfs('4m');
if (typeof probe === 'object') probe.cleanup();

describe.skipIf(typeof probe === 'string')(`a real full disk (tmpfs)${typeof probe === 'string' ? `: skipped, ${probe}` : ''}`, () => {
  it('the writer thread fills the disk: 503 with Retry-After, every acknowledged line stored, the refused batch stored after the disk grows', async () => {
    const fs = tmpfs('4m');
    if (typeof fs === 'string') throw new Error(fs);
    cleanups.push(fs.cleanup);
    // the database on the tmpfs (testCollector's own temp dir stays empty)
    c = await testCollector(() => T0, { writer: 'worker', dataDir: fs.path, bodyLimit: 4 * 1024 * 1024 });
    const token = c.token('agent');
    const text = 'x'.repeat(900);
    let acked = 0;
    let offset = 0;
    let refused: { status: number; retry: string | undefined; message: string; body: object } | null = null;
    for (let i = 0; i < 400 && !refused; i++) {
      const b = batchOf(Array.from({ length: 100 }, (_, k) => `${i}-${k} ${text}`), { stream: 'fill', start: offset, ts: T0 });
      const res = await c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}` }, payload: b });
      if (res.statusCode === 200) {
        acked += (res.json() as IngestAck).accepted;
        offset = b.segments[0]!.end;
      } else refused = { status: res.statusCode, retry: res.headers['retry-after'] as string | undefined, message: res.json().message, body: b };
    }
    expect(refused, 'the disk never filled').not.toBeNull();
    expect(refused!.status).toBe(503);
    expect(refused!.retry).toBe(String(DISK_FULL_RETRY_S));
    expect(refused!.message).toMatch(/^disk full: /);
    expect(acked).toBeGreaterThan(0);
    fs.resize('64m');
    const again = await c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${token}` }, payload: refused!.body });
    expect(again.statusCode, again.body).toBe(200);
    expect((again.json() as IngestAck).accepted).toBe(100);
    // every acknowledged line once, and the refused batch now too (read through a separate connection)
    const db = new Database(join(fs.path, 'ringtail.db'), { readonly: true });
    try {
      const row = db.prepare("SELECT count(*) AS n, count(DISTINCT message) AS d FROM logs WHERE host = 'web-1'").get() as { n: number; d: number };
      expect(row).toEqual({ n: acked + 100, d: acked + 100 });
    } finally {
      db.close();
    }
  });
});

describe('a saturated writer: 503 with Retry-After', () => {
  it('LogWriter refuses a new request past its queue bound, never one it already took', async () => {
    const gates: Array<() => void> = [];
    const commits: number[][] = [];
    const w = new LogWriter(
      async (items) => {
        commits.push(items.map((it) => it.batch.segments[0]!.lines.length));
        await new Promise<void>((r) => gates.push(r));
        return { acks: items.map(() => ({ accepted: 1, duplicates: 0, committed: {} })), ms: 0 };
      },
      undefined,
      undefined,
      10,
    );
    const lines = (n: number, stream: string) => batchOf(Array.from({ length: n }, (_, i) => `l${i}`), { stream });
    const a = w.submit(lines(8, 'a'), 0);
    await waitFor('a committing', () => commits.length === 1);
    // the queue is empty again while a commits: b is taken whatever its size
    const b = w.submit(lines(8, 'b'), 0);
    const refused = await w.submit(lines(5, 'c'), 0).then(
      () => null,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(UnavailableError);
    const e = refused as UnavailableError;
    expect(e.status).toBe(503);
    expect(e.reason).toBe('saturated');
    expect(e.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(e.retryAfterS).toBeLessThanOrEqual(MAX_SATURATED_RETRY_S);
    expect(e.message).toMatch(/the writer is saturated \(8 queued, at most 10\)/);
    const d = w.submit(lines(2, 'd'), 0); // 8 + 2 fits
    gates.shift()!();
    expect((await a).accepted).toBe(1);
    await waitFor('b and d committing', () => commits.length === 2);
    expect(commits[1]).toEqual([8, 2]);
    gates.shift()!();
    expect((await b).accepted).toBe(1);
    expect((await d).accepted).toBe(1);
    // drained: taken again
    const f = w.submit(lines(9, 'f'), 0);
    await waitFor('f committing', () => commits.length === 3);
    gates.shift()!();
    expect((await f).accepted).toBe(1);
  });

  it('log ingest over HTTP with the writer thread: a request behind a full queue is a 503 with Retry-After', async () => {
    c = await testCollector(() => T0, { writer: 'worker', writerMaxQueuedLines: 15_000 });
    const lines = (n: number, stream: string) => batchOf(Array.from({ length: n }, (_, i) => `bulk ${stream} line ${i}`), { stream, ts: T0 });
    const post = () => c!.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c!.token('agent')}` }, payload: batchOf(['late'], { stream: 'late', ts: T0 }) });
    // 100,000 lines (a group alone, over a second in the thread), then 20,000 queued behind them
    const first = c.app.writer.submit(lines(100_000, 'huge'), T0);
    await new Promise((r) => setImmediate(r)); // the commit has started: the queue is empty again
    const second = c.app.writer.submit(lines(20_000, 'big'), T0);
    const res = await post();
    expect(res.statusCode, res.body).toBe(503);
    const retry = Number(res.headers['retry-after']);
    expect(Number.isInteger(retry) && retry >= 1 && retry <= MAX_SATURATED_RETRY_S, String(res.headers['retry-after'])).toBe(true);
    expect(res.json()).toMatchObject({ error: 'RINGTAIL_ERR_STORAGE', message: expect.stringMatching(/^the writer is saturated \(20000 queued, at most 15000\)/) });
    expect(c.app.events.count('ingest.unavailable')).toBe(1);
    // what was taken is stored and acknowledged; the refused request is taken once it has drained
    expect((await first).accepted).toBe(100_000);
    expect((await second).accepted).toBe(20_000);
    const again = await post();
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ accepted: 1 });
  });

  it('metric ingest: the group writer refuses past MAX_QUEUED_VALUES', async () => {
    const dir = tempDir('ringtail-msat-');
    cleanups.push(dir.cleanup);
    const store = openRrdStore(join(dir.path, 'm.db'), { create: true });
    cleanups.push(() => store.close());
    const svc = new MetricService(store, createLayouts(), { maxQueuedValues: 10 });
    const now = T0 + 3_600_000;
    const results = await Promise.allSettled([svc.submit(metricBatch('a', 6), now), svc.submit(metricBatch('b', 4), now), svc.submit(metricBatch('c', 1), now)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const e = (results[2] as PromiseRejectedResult).reason as UnavailableError;
    expect(e).toBeInstanceOf(UnavailableError);
    expect(e.retryAfterS).toBeGreaterThanOrEqual(1);
    expect(store.list().sort()).toEqual(['a/load.1', 'b/load.1']);
    expect((await svc.submit(metricBatch('c', 1), now)).accepted).toBe(1);
  });
});
