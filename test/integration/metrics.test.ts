// /metrics: Prometheus text, viewer or admin only, fed by the named events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';

let c: TestCollector;
beforeAll(async () => {
  c = await testCollector(undefined, { filters: [{ action: 'drop', severity_min: 7 }] });
});
afterAll(async () => c.close());

const scrape = (token: string) => c.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
const value = (text: string, series: string) => {
  const m = new RegExp(`^${series.replace(/[{}"=]/g, (ch) => '\\' + ch)} ([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('/metrics', () => {
  it('needs a viewer or admin token', async () => {
    expect((await c.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await scrape(c.token('agent'))).statusCode).toBe(403);
    expect((await scrape(c.token('admin'))).statusCode).toBe(200);
  });

  it('counts ingest, duplicates, filtered lines, latency and database size', async () => {
    const before = (await scrape(c.token('viewer'))).body;
    expect(before).toMatch(/^# TYPE ringtail_ingest_lines_total counter$/m);
    const b = batchOf(['one', 'two', 'three'], { stream: 'm' });
    b.segments[0]!.lines[2]!.severity = 7;
    const post = () => c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json' }, payload: JSON.stringify(b) });
    expect((await post()).json()).toMatchObject({ accepted: 2 });
    expect((await post()).json()).toMatchObject({ accepted: 0, duplicates: 2 });
    const res = await scrape(c.token('viewer'));
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = res.body;
    expect(value(text, 'ringtail_ingest_lines_total')).toBe(2);
    expect(value(text, 'ringtail_ingest_duplicate_lines_total')).toBe(2);
    expect(value(text, 'ringtail_ingest_filtered_lines_total')).toBe(2);
    expect(value(text, 'ringtail_ingest_batch_seconds_count')).toBe(2);
    expect(value(text, 'ringtail_commit_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(value(text, 'ringtail_events_total{event="ingest.batches"}')).toBe(2);
    expect(value(text, 'ringtail_db_used_bytes')).toBeGreaterThan(4096);
    expect(value(text, 'ringtail_db_file_bytes')).toBeGreaterThan(4096);
    expect(value(text, 'ringtail_process_resident_memory_bytes')).toBeGreaterThan(0);
    // the resident memory by kind adds up to the process's RSS (both read within this scrape)
    const anon = value(text, 'ringtail_resident_memory_bytes{kind="anonymous"}')!;
    const file = value(text, 'ringtail_resident_memory_bytes{kind="file"}')!;
    expect(anon).toBeGreaterThan(10 * 2 ** 20); // at least a JS heap
    expect(file).toBeGreaterThan(10 * 2 ** 20); // at least the node executable's pages
    expect(Math.abs(anon + file - value(text, 'ringtail_process_resident_memory_bytes')!)).toBeLessThan(16 * 2 ** 20);
    // the same events are what the app counts internally
    expect(c.app.events.count('ingest.lines')).toBe(2);
  });
});
