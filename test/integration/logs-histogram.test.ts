// GET /api/v1/logs/histogram on a real SQLite store: counts per bucket equal what was ingested
// (compared with a count made here from the generated lines), the filters of /api/v1/logs apply,
// bad parameters are 400s naming the parameter, and the time budget is reported when hit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteLogHistogram } from '../../collector/storage/sqlite/histogram.js';
import { openDatabase } from '../../collector/storage/sqlite/open.js';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { rng } from '../helpers/rng.js';

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000) + 600_000; // not on an hour boundary
const MIN = 60_000;
// ingest clamps implausible times to the arrival time, so the collector's clock is near the lines
const NOW = T0 + 4 * 3_600_000;
interface Gen {
  ts: number;
  host: string;
  severity: number;
  program: string;
  message: string;
}
const lines: Gen[] = [];
let c: TestCollector;
let seq = 0;

beforeAll(async () => {
  c = await testCollector(() => NOW);
  const rand = rng(8);
  // 3 hours of lines on two hosts, in groups that share a timestamp (one batch each)
  for (let g = 0; g < 240; g++) {
    const ts = T0 + Math.floor(rand() * 3 * 60) * MIN + Math.floor(rand() * MIN);
    const host = rand() < 0.6 ? 'web-1' : 'db-1';
    const severity = Math.floor(rand() * 8);
    const program = rand() < 0.5 ? 'nginx' : 'cron';
    const n = 1 + Math.floor(rand() * 12);
    const messages = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? `request timeout ${g}.${i}` : `request ok ${g}.${i}`));
    for (const message of messages) lines.push({ ts, host, severity, program, message });
    const res = await c.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: { authorization: `Bearer ${c.token('agent')}` },
      payload: batchOf(messages, { host, ts, severity, program, stream: `h-${seq++}`, agent: `agt_${host}` }),
    });
    expect(res.statusCode).toBe(200);
  }
});
afterAll(async () => c.close());

function get(url: string) {
  return c.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${c.token('viewer')}` } });
}

/** What the histogram must say, counted here from the generated lines. */
function expected(start: number, end: number, buckets: number, keep: (l: Gen) => boolean = () => true): number[] {
  const interval = Math.max(1, Math.ceil((end - start) / buckets));
  const out = new Array<number>(buckets).fill(0);
  for (const l of lines) if (l.ts >= start && l.ts < end && keep(l)) out[Math.floor((l.ts - start) / interval)]!++;
  return out;
}

describe('GET /api/v1/logs/histogram', () => {
  it('counts every line in its bucket, over whole and partial ranges', async () => {
    const cases: Array<[number, number, number]> = [
      [T0, T0 + 3 * 60 * MIN, 30],
      [T0 - 3_600_000, T0 + 4 * 3_600_000, 7],
      [T0 + 17 * MIN + 123, T0 + 95 * MIN, 13],
      [T0, T0 + 180 * MIN, 1],
    ];
    for (const [start, end, buckets] of cases) {
      const res = await get(`/api/v1/logs/histogram?start=${start}&end=${end}&buckets=${buckets}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toEqual({ start, end, interval: Math.ceil((end - start) / buckets), counts: expected(start, end, buckets) });
    }
    const all = (await get(`/api/v1/logs/histogram?start=${T0}&end=${T0 + 180 * MIN}&buckets=1`)).json();
    expect(all.counts[0]).toBe(lines.length);
  });

  it('applies host, program, severity, source and q like /api/v1/logs', async () => {
    const start = T0;
    const end = T0 + 180 * MIN;
    const cases: Array<[string, (l: Gen) => boolean]> = [
      ['host=db-1', (l) => l.host === 'db-1'],
      ['program=cron&severity=3', (l) => l.program === 'cron' && l.severity <= 3],
      ['source=/var/log/app.log&host=web-1', (l) => l.host === 'web-1'],
      ['source=/var/log/other.log', () => false],
      ['q=timeout', (l) => l.message.includes('timeout')],
      ['q=timeout&host=web-1&severity=5', (l) => l.message.includes('timeout') && l.host === 'web-1' && l.severity <= 5],
      ['q=tim*', (l) => l.message.includes('timeout')],
    ];
    for (const [qs, keep] of cases) {
      const res = await get(`/api/v1/logs/histogram?start=${start}&end=${end}&buckets=18&${qs}`);
      expect(res.statusCode, qs).toBe(200);
      expect(res.json().counts, qs).toEqual(expected(start, end, 18, keep));
    }
    // the same totals as paging through /api/v1/logs
    const page = (await get(`/api/v1/logs?start=${start}&end=${end}&host=db-1&q=timeout&limit=1000`)).json();
    const hist = (await get(`/api/v1/logs/histogram?start=${start}&end=${end}&host=db-1&q=timeout&buckets=5`)).json();
    expect(hist.counts.reduce((a: number, b: number) => a + b, 0)).toBe(page.items.length);
  });

  it('defaults to the last hour in 30 buckets', async () => {
    const res = await get('/api/v1/logs/histogram');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.counts).toHaveLength(30);
    expect(body.end).toBe(NOW);
    expect(body.end - body.start).toBe(3_600_000);
    expect(body.interval).toBe(120_000);
  });

  it('refuses bad parameters with a 400 naming the parameter', async () => {
    const cases: Array<[string, string]> = [
      ['buckets=0', 'buckets'],
      ['buckets=1001', 'buckets'],
      ['buckets=ten', 'buckets'],
      [`start=${T0 + 10}&end=${T0}`, 'start'],
      [`start=${T0}&end=${T0}`, 'start'],
      ['start=yesterday', 'start'],
      ['end=soon', 'end'],
      ['severity=9', 'severity'],
      ['re=time.*out', 're:'],
      ['q=%22unterminated', 'q:'],
      ['q=a*', 'q:'],
      // issue 12 item 9: an extreme start counted nothing ([0]) instead of being refused
      ['buckets=1&start=-99999999999999999999&end=now&host=web-1', 'start:'],
      ['start=99999999999999999999', 'start: time out of range'],
      ['limit=5', 'additional properties'],
    ];
    for (const [qs, name] of cases) {
      const res = await get(`/api/v1/logs/histogram?${qs}`);
      expect(res.statusCode, qs).toBe(400);
      expect(res.json().message, qs).toContain(name);
    }
  });

  it('is for readers: agents are refused, no token is 401', async () => {
    expect((await c.app.inject({ url: '/api/v1/logs/histogram', headers: { authorization: `Bearer ${c.token('agent')}` } })).statusCode).toBe(403);
    expect((await c.app.inject({ url: '/api/v1/logs/histogram' })).statusCode).toBe(401);
    expect((await c.app.inject({ url: '/api/v1/logs/histogram', headers: { authorization: `Bearer ${c.token('admin')}` } })).statusCode).toBe(200);
  });

  it('stops at its time budget and says so; the counts are then lower bounds', () => {
    const start = T0;
    const end = T0 + 180 * MIN;
    const full = expected(start, end, 10);
    // a second connection to the same database file, with a window of 50 ids and no time:
    // one slice is counted, then the budget is spent
    const db = openDatabase(c.dir);
    try {
      const bounded = sqliteLogHistogram(db, { windowIds: 50, budgetMs: 0 })({ start, end, buckets: 10 });
      expect(bounded.budget_exhausted).toBe(true);
      expect(bounded.counts.reduce((a, b) => a + b, 0)).toBe(50);
      bounded.counts.forEach((n, i) => expect(n).toBeLessThanOrEqual(full[i]!));
      // with room enough, the same small windows add up to everything
      const whole = sqliteLogHistogram(db, { windowIds: 50, budgetMs: 60_000 })({ start, end, buckets: 10 });
      expect(whole).toEqual({ start, end, interval: 18 * MIN, counts: full });
    } finally {
      db.close();
    }
  });
});
