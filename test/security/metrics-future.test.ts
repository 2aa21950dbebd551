// Issue 12, item 1: a metric sample from the far future froze its series for good (every real
// sample after it was a "duplicate"). Samples more than metrics.max_future_ms ahead of the
// collector's clock are now rejected with a count and a reason; integers on the wire are bounded;
// a series poisoned before the fix is reset or reported, never silently blind.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp, type AppOptions } from '../../collector/app.js';
import type { MetricBatch } from '../../shared/wire.js';
import { batchOf, metricBatchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const batch = (samples: Parameters<typeof metricBatchOf>[0], host = 'victim') => metricBatchOf(samples, { name: 'cpu.user', host, agent: 'agt_probe' });

describe('metric samples from the future', () => {
  let now = T0;
  let c: TestCollector;
  beforeEach(async () => {
    now = T0;
    c = await testCollector(() => now);
  });
  afterEach(async () => c.close());

  const post = (body: unknown) =>
    c.app.inject({
      method: 'POST',
      url: '/api/v1/metrics/ingest',
      headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json' },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('a sample more than 1 h ahead is rejected with a count and a reason, and real samples still land', async () => {
    const evil = await post(batch([{ ts: T0 + 2 * HOUR, value: 99 }]));
    expect(evil.statusCode, evil.body).toBe(200);
    const ack = evil.json();
    expect(ack).toMatchObject({ accepted: 0, duplicates: 0, created: 0, rejected: 1 });
    expect(ack.reasons).toEqual([{ path: 'samples/0/ts', reason: 'future', message: expect.stringMatching(/7200000 ms after the collector's clock.*at most 3600000/) }]);
    // the attack of the issue: from then on every real sample was a duplicate
    for (let i = 1; i <= 3; i++) {
      now = T0 + i * 10_000;
      const real = await post(batch([{ ts: now, value: i }]));
      expect(real.json()).toMatchObject({ accepted: 1, duplicates: 0 });
    }
    expect(c.app.events.count('host_metrics.rejected')).toBe(1);
    expect(c.app.events.count('host_metrics.samples_rejected')).toBe(1);
    const scrape = await c.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${c.token('viewer')}` } });
    expect(scrape.body).toMatch(/^ringtail_host_metrics_rejected_samples_total 1$/m);
  });

  it('in a mixed batch the good samples are stored and only the future ones counted', async () => {
    const res = await post(
      batch([
        { ts: T0, value: 1 },
        { ts: T0 + HOUR + 1, value: 2 },
        { name: 'load.1', ts: T0 + HOUR, value: 3 }, // exactly the bound: accepted
        { name: 'load.1', ts: T0 + 5 * HOUR, value: 4 },
      ]),
    );
    expect(res.json()).toMatchObject({ accepted: 2, duplicates: 0, created: 2, rejected: 2 });
    expect(res.json().reasons.map((r: { path: string }) => r.path)).toEqual(['samples/1/ts', 'samples/3/ts']);
    const list = (await c.app.inject({ method: 'GET', url: '/api/v1/metrics?host=victim', headers: { authorization: `Bearer ${c.token('viewer')}` } })).json();
    expect(list.items.map((e: { metric: string; last_update: number }) => [e.metric, e.last_update])).toEqual([
      ['cpu.user', T0],
      ['load.1', T0 + HOUR],
    ]);
  });

  it.each([
    ['Number.MAX_SAFE_INTEGER', '9007199254740991'],
    ['1e300', '1e300'],
  ])('ts %s is refused whole (400 naming the field), and the series stays usable', async (_name, raw) => {
    const body = JSON.stringify(batch([{ ts: 0, value: 1 }])).replace('"ts":0', `"ts":${raw}`);
    const res = await post(body);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_REQUEST', message: expect.stringMatching(/^body\/samples\/0\/ts: /) });
    expect(c.app.hostMetrics.list()).toEqual([]);
    expect((await post(batch([{ ts: T0, value: 1 }]))).json()).toMatchObject({ accepted: 1, duplicates: 0 });
  });
});

describe('metrics.max_future_ms', () => {
  it('sets the bound', async () => {
    const c = await testCollector(() => T0, { hostMetrics: { maxFutureMs: 60_000 } });
    try {
      const post = (b: MetricBatch) =>
        c.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: b as object });
      expect((await post(batch([{ ts: T0 + 120_000, value: 1 }]))).json()).toMatchObject({ accepted: 0, rejected: 1 });
      expect((await post(batch([{ ts: T0 + 30_000, value: 1 }]))).json()).toEqual({ accepted: 1, duplicates: 0, created: 1 });
    } finally {
      await c.close();
    }
  });
});

describe('integers on the wire are bounded', () => {
  let c: TestCollector;
  beforeEach(async () => {
    c = await testCollector(() => T0);
  });
  afterEach(async () => c.close());
  const ingest = (body: string) =>
    c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json' }, payload: body });

  it.each([
    ['a segment end of 1e301', (b: string) => b.replace(/"end":\d+/, '"end":1e301'), /^body\/segments\/0\/end: /],
    ['a segment start and end beyond MAX_SAFE_INTEGER', (b: string) => b.replace(/"start":0/, '"start":9007199254740992').replace(/"end":\d+/, '"end":9007199254740999'), /^body\/segments\/0\/start: /],
    ['a line ts of 1e300', (b: string) => b.replace(/"ts":\d+/, '"ts":1e300'), /^body\/segments\/0\/lines\/0\/ts: /],
    ['a line ts of -1e300', (b: string) => b.replace(/"ts":\d+/, '"ts":-1e300'), /^body\/segments\/0\/lines\/0\/ts: /],
    ['a pid of 2^53', (b: string) => b.replace(/"severity":6/, '"severity":6,"pid":9007199254740992'), /^body\/segments\/0\/lines\/0\/pid: /],
  ])('%s is a 400 naming it, nothing stored', async (_name, edit, where) => {
    const body = edit(JSON.stringify(batchOf(['hello'], { ts: T0 })));
    const res = await ingest(body);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().message).toMatch(where);
    expect((await c.app.storage.logs.query({ limit: 10 })).items).toEqual([]);
  });

  it('a segment whose end is before its start is a 400', async () => {
    const b = batchOf(['hello'], { ts: T0, start: 100 });
    b.segments[0]!.end = 50;
    b.segments[0]!.lines = [];
    const res = await ingest(JSON.stringify(b));
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^body\/segments\/0: end 50 is before start 100/);
  });
});

describe('a series poisoned before the fix', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir('ringtail-poison-');
  });
  afterEach(() => dir.cleanup());

  /** a collector on `dir` at clock `now`; the token survives restarts in the database */
  async function open(now: number, extra: Partial<AppOptions> = {}) {
    const app = await buildApp({ dataDir: dir.path, clock: () => now, ...extra });
    const token = (await app.storage.tokens.create('admin', 'probe', T0)).token;
    const post = (b: MetricBatch) => app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${token}` }, payload: b as object });
    return { app, token, post };
  }

  /** what an unbounded collector stored: a sample at `at` */
  async function poison(at: number) {
    const old = await open(T0, { hostMetrics: { maxFutureMs: Number.MAX_SAFE_INTEGER } });
    expect((await old.post(batch([{ ts: T0 - 10_000, value: 1 }]))).json()).toMatchObject({ accepted: 1 });
    expect((await old.post(batch([{ ts: at, value: 1 }]))).json()).toMatchObject({ accepted: 1 });
    await old.app.close();
  }

  it('beyond every archive: reported at start and recreated by its next real sample', async () => {
    await poison(9_000_000_000_000_000 / 1000); // 9e12 ms: year 2255, far past the 1-year archive
    const { app, post } = await open(T0 + 10_000);
    try {
      expect(app.events.count('host_metrics.series_in_future')).toBe(1);
      const res = await post(batch([{ ts: T0 + 10_000, value: 5 }]));
      expect(res.json()).toEqual({ accepted: 1, duplicates: 0, created: 1 });
      expect(app.events.count('host_metrics.series_reset')).toBe(1);
      expect(app.hostMetrics.list().map((e) => e.last_update)).toEqual([T0 + 10_000]);
    } finally {
      await app.close();
    }
  });

  it('with history left in its archives: samples rejected with the reason until an admin deletes the series', async () => {
    await poison(T0 + 2 * 86_400_000); // two days ahead: the week, month and year archives keep real rows
    const { app, token, post } = await open(T0 + 10_000);
    try {
      expect(app.events.count('host_metrics.series_in_future')).toBe(1);
      const res = await post(batch([{ ts: T0 + 10_000, value: 5 }]));
      expect(res.json()).toMatchObject({ accepted: 0, duplicates: 0, rejected: 1, reasons: [{ path: 'samples/0/ts', reason: 'series_in_future' }] });
      expect(res.json().reasons[0].message).toMatch(/DELETE \/api\/v1\/metrics\?host=&metric=/);
      const del = await app.inject({ method: 'DELETE', url: '/api/v1/metrics?host=victim&metric=cpu.user', headers: { authorization: `Bearer ${token}` } });
      expect(del.json()).toEqual({ host: 'victim', metric: 'cpu.user', deleted: 1 });
      expect((await post(batch([{ ts: T0 + 20_000, value: 6 }]))).json()).toEqual({ accepted: 1, duplicates: 0, created: 1 });
    } finally {
      await app.close();
    }
  });
});

describe('GET /api/v1/series with extreme ranges', () => {
  let c: TestCollector;
  beforeEach(async () => {
    c = await testCollector(() => T0);
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: batch([{ ts: T0, value: 1 }]) as object });
    expect(res.statusCode).toBe(200);
  });
  afterEach(async () => c.close());
  const get = (q: string) => c.app.inject({ method: 'GET', url: `/api/v1/series?host=victim&metric=cpu.user&${q}`, headers: { authorization: `Bearer ${c.token('viewer')}` } });

  it.each([
    // ran the collector out of memory (2.5e9 hourly rows): a viewer could kill it
    // (end in the year 9892: the time parser refuses what lies past 9999)
    ['start=1&end=250000000000000', /^start\.\.end at the 3600 s archive is \d+ rows, at most 100000/],
    ['start=1&end=8000000000000000', /^end: .*out of range/],
    // ten years at the 10 s archive (it reaches back to start): 31.5 M rows
    [`start=${T0 - 3_600_000}&end=${T0 + 10 * 365 * 86_400_000}&resolution=1000`, /^start\.\.end at the 10 s archive is \d+ rows, at most 100000/],
    // was a 500
    ['start=0&end=99999999999999999999999', /^end: .*'99999999999999999999999'/],
  ])('%s is a 400 naming the problem', async (q, message) => {
    const res = await get(q);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_QUERY', message: expect.stringMatching(message) });
  });

  it('a year at the hourly archive is still answered', async () => {
    const res = await get(`start=${T0 - 365 * 86_400_000}&end=${T0}&resolution=3600000`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().step).toBe(3_600_000);
    expect(res.json().values.length).toBe(8761);
  });
});
