// Both ingest routes say in a Server-Timing header how long the collector took for the request,
// the very value its ack histogram observed, so that a client (the fleet bench) can put its own
// time beside the collector's request by request instead of comparing a whole-run histogram
// with its own window.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf, metricBatchOf, testCollector, type TestCollector } from '../helpers/collector.js';

const T0 = 1_700_000_000_000;

let c: TestCollector;
beforeAll(async () => {
  c = await testCollector(() => T0 + 3_600_000);
});
afterAll(async () => c.close());

const histogram = async (name: string) => {
  const text = (await c.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${c.token('viewer')}` } })).body;
  const num = (suffix: string) => Number(new RegExp(`^${name}_${suffix} ([0-9.e+-]+)$`, 'm').exec(text)?.[1]);
  return { count: num('count'), sumMs: num('sum') * 1000 };
};
const ackMs = (header: unknown) => {
  // `ack` first; a metric answer names its phases after it (see the test below)
  const m = /^ack;dur=([0-9]+(?:\.[0-9]+)?)(?:, |$)/.exec(String(header));
  expect(m, `server-timing: ${String(header)}`).not.toBeNull();
  return Number(m![1]);
};

describe('Server-Timing on ingest answers', () => {
  it('a metric answer carries the duration ringtail_metric_batch_seconds observed for it', async () => {
    const durs: number[] = [];
    for (let i = 0; i < 4; i++) {
      // new series on the first request, updates after it: both paths answer with the header
      const res = await c.app.inject({
        method: 'POST',
        url: '/api/v1/metrics/ingest',
        headers: { authorization: `Bearer ${c.token('agent')}` },
        payload: metricBatchOf([{ ts: T0 + i * 10_000, value: i }, { name: 'load.5', ts: T0 + i * 10_000, value: i }], { name: 'load.1', host: 'st-1', agent: 'agt_st1' }),
      });
      expect(res.statusCode, res.body).toBe(200);
      durs.push(ackMs(res.headers['server-timing']));
    }
    const h = await histogram('ringtail_metric_batch_seconds');
    expect(h.count).toBe(4);
    // the header and the histogram hold the same (rounded) values
    expect(h.sumMs).toBeCloseTo(
      durs.reduce((a, b) => a + b, 0),
      6,
    );
  });

  it("a metric answer also says where the request's time went, phase by phase", async () => {
    const res = await c.app.inject({
      method: 'POST',
      url: '/api/v1/metrics/ingest',
      headers: { authorization: `Bearer ${c.token('agent')}` },
      payload: metricBatchOf([{ ts: T0 + 100_000, value: 1 }], { name: 'load.1', host: 'st-2', agent: 'agt_st2' }),
    });
    expect(res.statusCode, res.body).toBe(200);
    const header = String(res.headers['server-timing']);
    const phases = Object.fromEntries([...header.matchAll(/([\w-]+);dur=([0-9.]+)/g)].map((m) => [m[1]!, Number(m[2])]));
    // before the handler (authentication, the body) and in it before the ack span, then in it
    for (const name of ['ack', 'auth', 'body', 'check', 'heard']) expect(phases[name], header).toBeGreaterThanOrEqual(0);
    expect(phases.heard!, header).toBeLessThanOrEqual(phases.ack! + 0.01);
  });

  it('a log answer carries the duration ringtail_ingest_batch_seconds observed for it (to 0.01 ms)', async () => {
    const durs: number[] = [];
    let start = 0;
    for (let i = 0; i < 3; i++) {
      const b = batchOf([`line ${i} a`, `line ${i} b`], { host: 'st-1', agent: 'agt_st1', start, ts: T0 + i });
      start = b.segments[0]!.end;
      const res = await c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json' }, payload: JSON.stringify(b) });
      expect(res.statusCode, res.body).toBe(200);
      durs.push(ackMs(res.headers['server-timing']));
    }
    const h = await histogram('ringtail_ingest_batch_seconds');
    expect(h.count).toBe(3);
    expect(Math.abs(h.sumMs - durs.reduce((a, b) => a + b, 0))).toBeLessThanOrEqual(3 * 0.005 + 1e-9);
  });

  it('a refused request has no ack timing', async () => {
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: { version: 1 } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['server-timing']).toBeUndefined();
  });
});
