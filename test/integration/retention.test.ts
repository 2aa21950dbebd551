// Retention by age and by size runs in slices while ingest keeps going: expired lines go
// (from the table and the full-text index), everything newer stays, and ingest requests are
// answered between slices.
import { describe, expect, it } from 'vitest';
import { batchOf, testCollector } from '../helpers/collector.js';

const DAY = 86_400_000;

async function setup(retention: { max_age_days: number; max_bytes: number }, now: () => number) {
  const c = await testCollector(now, { retention: { ...retention, slice_rows: 200, auto_start: false } });
  let seq = 0;
  const ingest = async (messages: string[], ts: number, host = 'ret') => {
    const res = await c.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json' },
      payload: JSON.stringify(batchOf(messages, { host, stream: `r-${seq++}`, ts })),
    });
    expect(res.statusCode).toBe(200);
  };
  const all = async (qs: string) => {
    const out: Array<{ message: string; ts: number }> = [];
    let cursor: string | null = null;
    do {
      const res = await c.app.inject({ method: 'GET', url: `/api/v1/logs?limit=1000&${qs}${cursor ? `&cursor=${cursor}` : ''}`, headers: { authorization: `Bearer ${c.token('viewer')}` } });
      const page: { items: Array<{ message: string; ts: number }>; next_cursor: string | null } = res.json();
      out.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    return out;
  };
  return { c, ingest, all };
}

describe('retention', () => {
  it('deletes lines past the age limit in slices while ingest goes on', async () => {
    const now = Date.UTC(2026, 5, 10);
    const { c, ingest, all } = await setup({ max_age_days: 7, max_bytes: 0 }, () => now);
    for (let i = 0; i < 10; i++) await ingest(Array.from({ length: 300 }, (_, j) => `expired ${i}-${j} oldword`), now - 8 * DAY + i);
    await ingest(['kept at the edge'], now - 7 * DAY + 1000);

    let pass = true;
    const passDone = c.app.retention.runOnce().finally(() => (pass = false));
    let ackedDuringPass = 0;
    for (let i = 0; pass || i < 20; i++) {
      await ingest([`fresh ${i} newword`], now - 1000);
      if (pass) ackedDuringPass++;
    }
    expect(await passDone).toBe(3000);
    // ingest was answered between slices, not after the whole pass
    expect(ackedDuringPass).toBeGreaterThan(0);
    expect(c.app.retention.maxSliceMs).toBeGreaterThan(0);
    const rest = await all('host=ret');
    expect(rest.filter((l) => l.message.startsWith('expired'))).toEqual([]);
    expect(rest.filter((l) => l.message.startsWith('fresh')).length).toBeGreaterThanOrEqual(20);
    expect(rest.map((l) => l.message)).toContain('kept at the edge');
    // the full-text index forgot them too
    expect(await all('q=oldword')).toEqual([]);
    expect((await all('q=newword')).length).toBe(rest.filter((l) => l.message.startsWith('fresh')).length);
    const metrics = (await c.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${c.token('admin')}` } })).body;
    expect(metrics).toMatch(/ringtail_retention_deleted_lines_total 3000/);
    expect(metrics).toMatch(/ringtail_retention_slice_max_seconds [0-9.e-]+/);
    await c.close();
  });

  it('deletes the oldest lines until the database fits its size limit', async () => {
    const now = Date.UTC(2026, 5, 10);
    const fill = async (ingest: (m: string[], ts: number) => Promise<void>) => {
      for (let i = 0; i < 40; i++) {
        await ingest(Array.from({ length: 200 }, (_, j) => `line ${String(i).padStart(2, '0')}-${j} ${'payload '.repeat(20)}`), now - 40 * 60_000 + i * 60_000);
      }
    };
    // the same lines in a collector without limits tell how big they are
    const probe = await setup({ max_age_days: 0, max_bytes: 0 }, () => now);
    // an empty database is already ~20 pages (a root page per table and index; 320 KiB with
    // 16 KiB pages) that no deletion frees: the limit asks for half of what the lines take
    const empty = await probe.c.app.storage.logs.retention.usedBytes();
    await fill(probe.ingest);
    const full = await probe.c.app.storage.logs.retention.usedBytes();
    await probe.c.close();

    const limit = empty + Math.floor((full - empty) / 2);
    const { c, ingest, all } = await setup({ max_age_days: 0, max_bytes: limit }, () => now);
    await fill(ingest);
    const deleted = await c.app.retention.runOnce();
    expect(deleted).toBeGreaterThan(0);
    expect(deleted).toBeLessThan(5600);
    expect(await c.app.storage.logs.retention.usedBytes()).toBeLessThanOrEqual(limit);
    const rest = await all('host=ret');
    expect(rest.length).toBe(8000 - deleted);
    // oldest first: what is left is exactly the newest lines
    const oldestLeft = Math.min(...rest.map((l) => l.ts));
    expect(rest.every((l) => l.ts >= oldestLeft)).toBe(true);
    expect(rest.map((l) => l.message)).toContain('line 39-199 ' + 'payload '.repeat(20));
    expect(rest.map((l) => l.message)).not.toContain('line 00-0 ' + 'payload '.repeat(20));
    await c.close();
  });
});
