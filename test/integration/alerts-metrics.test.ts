// Metric-threshold and check rules over the real metric path: samples posted to
// /api/v1/metrics/ingest become round-robin series, and the alert evaluator reads them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { consolidate } from '../../collector/alerts/metric-sources.js';
import { METRICS_INGEST_PATH, WIRE_VERSION, type MetricSample } from '../../shared/wire.js';
import { alertsApp, bearer, FakeClock } from '../helpers/alerts.js';
import { tempDir } from '../helpers/proc.js';

let dir: { path: string; cleanup(): void };
let clock: FakeClock;
let app: FastifyInstance;
let agent: string;

beforeEach(async () => {
  dir = tempDir('ringtail-alerts-metrics-');
  clock = new FakeClock(1_700_000_000_000);
  app = await alertsApp(dir.path, clock, {
    rules: [
      { kind: 'check', name: 'app-down', check: 'app', annotations: { summary: '{{ $labels.host }}: app not running' } },
      { kind: 'metric', name: 'cpu-high', metric: 'cpu.user', op: 'above', warning: 80, critical: 95, critical_clear: 90, window: '30s' },
      { kind: 'absence', name: 'no-cpu', metric: 'cpu.user', seconds: 60 },
    ],
  });
  agent = (await app.storage.tokens.create('agent', 'a', clock.t)).token;
});
afterEach(async () => {
  await app.close();
  dir.cleanup();
});

async function send(host: string, samples: Array<Omit<MetricSample, 'ts' | 'type'> & { type?: MetricSample['type'] }>) {
  const res = await app.inject({
    method: 'POST',
    url: METRICS_INGEST_PATH,
    headers: bearer(agent),
    payload: { version: WIRE_VERSION, agent_id: 'agt_1', host, interval_ms: 10_000, samples: samples.map((s) => ({ type: 'GAUGE', ...s, ts: clock.t })) },
  });
  expect(res.statusCode, res.body).toBe(200);
}

const state = (rule: string) => app.alerts.evaluator.current(clock.t).find((a) => a.rule === rule);

describe('alerts over metric series', () => {
  it('a process check reading 0 fires at once and resolves when the process is back', async () => {
    await send('web-1', [{ name: 'check.process.count', value: 1, labels: { check: 'app' } }]);
    await app.alerts.evaluator.cycle();
    expect(state('app-down')).toBeUndefined();
    clock.advance(10_000);
    await send('web-1', [{ name: 'check.process.count', value: 0, labels: { check: 'app' } }]);
    await app.alerts.evaluator.cycle();
    expect(state('app-down')).toMatchObject({ state: 'firing', severity: 'critical', host: 'web-1', annotations: { summary: 'web-1: app not running' } });
    clock.advance(10_000);
    await send('web-1', [{ name: 'check.process.count', value: 2, labels: { check: 'app' } }]);
    await app.alerts.evaluator.cycle();
    expect(state('app-down')).toBeUndefined();
    // An HTTP check is read the same way.
    clock.advance(10_000);
    await send('web-2', [{ name: 'check.http.up', value: 0, labels: { check: 'app' } }]);
    await app.alerts.evaluator.cycle();
    expect(app.alerts.evaluator.current(clock.t).filter((a) => a.rule === 'app-down').map((a) => a.host)).toEqual(['web-2']);
  });

  it('a check result that stopped arriving is no data, not "up"', async () => {
    await send('web-1', [{ name: 'check.process.count', value: 0, labels: { check: 'app' } }]);
    await app.alerts.evaluator.cycle();
    expect(state('app-down')?.state).toBe('firing');
    clock.advance(120_000);
    await app.alerts.evaluator.cycle();
    expect(state('app-down')).toBeUndefined();
    // …and the absence rule on the series takes over.
    expect(state('no-cpu')).toBeUndefined(); // never had cpu.user
  });

  it('a threshold over a consolidated window, with warning then critical', async () => {
    const feed = async (values: number[]) => {
      for (const v of values) {
        clock.advance(10_000);
        await send('db-1', [{ name: 'cpu.user', value: v }]);
      }
    };
    await feed([50, 50, 50, 50]);
    await app.alerts.evaluator.cycle();
    expect(state('cpu-high')).toBeUndefined();
    await feed([85, 85, 85, 85]);
    await app.alerts.evaluator.cycle();
    expect(state('cpu-high')).toMatchObject({ state: 'firing', severity: 'warning' });
    expect(state('cpu-high')!.value).toBeCloseTo(85, 6);
    await feed([99, 99, 99, 99]);
    await app.alerts.evaluator.cycle();
    expect(state('cpu-high')).toMatchObject({ state: 'firing', severity: 'critical' });
    // series absence: the host stops sending
    clock.advance(61_000);
    await app.alerts.evaluator.cycle();
    expect(state('no-cpu')).toMatchObject({ state: 'firing', host: 'db-1' });
  });

  it('a firing metric or check alert survives a collector restart (windows seeded from the store)', async () => {
    for (let i = 0; i < 6; i++) {
      clock.advance(10_000);
      await send('db-1', [
        { name: 'cpu.user', value: 99 },
        { name: 'check.process.count', value: 0, labels: { check: 'app' } },
      ]);
    }
    await app.alerts.evaluator.cycle();
    expect(state('cpu-high')).toMatchObject({ state: 'firing', severity: 'critical' });
    expect(state('app-down')).toMatchObject({ state: 'firing' });
    await app.close();
    clock.advance(5000);
    app = await alertsApp(dir.path, clock, {
      rules: [
        { kind: 'check', name: 'app-down', check: 'app' },
        { kind: 'metric', name: 'cpu-high', metric: 'cpu.user', op: 'above', warning: 80, critical: 95, critical_clear: 90, window: '30s' },
      ],
    });
    expect((await app.alerts.evaluator.cycle())).toMatchObject({ transitions: 0 });
    expect(state('cpu-high')).toMatchObject({ state: 'firing', severity: 'critical' });
    expect(state('cpu-high')!.value).toBeGreaterThan(95);
    expect(state('app-down')).toMatchObject({ state: 'firing' });
  });

  it('counters are rules on their per-second rate', async () => {
    await app.close();
    app = await alertsApp(dir.path, clock, { rules: [{ kind: 'metric', name: 'rx', metric: 'net.rx_bytes{interface=eth0}', op: 'above', critical: 1000, window: '20s' }] });
    agent = (await app.storage.tokens.create('agent', 'a', clock.t)).token;
    let bytes = 1_000_000;
    for (const rate of [100, 100, 100, 5000, 5000]) {
      clock.advance(10_000);
      bytes += rate * 10;
      await send('web-1', [{ name: 'net.rx_bytes', type: 'DERIVE', value: bytes, labels: { interface: 'eth0' } }]);
    }
    await app.alerts.evaluator.cycle();
    expect(state('rx')).toMatchObject({ state: 'firing', value: 5000 });
  });

  it.each([
    [[1, null, 3], 'AVERAGE', 2],
    [[1, null, 3], 'MIN', 1],
    [[1, null, 3], 'MAX', 3],
    [[1, 3, null], 'LAST', 3],
    [[null, null], 'AVERAGE', null],
  ] as const)('consolidate(%j, %s) = %s', (values, cf, want) => {
    expect(consolidate([...values], cf)).toBe(want);
  });
});

describe('store reads after a restart are bounded per cycle', () => {
  it('instances not yet read keep their state and are read on later cycles', async () => {
    const { metricServiceSources } = await import('../../collector/alerts/metric-sources.js');
    const { RecentSamples } = await import('../../collector/alerts/recent-samples.js');
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      for (const h of ['a', 'b', 'c']) await send(h, [{ name: 'cpu.user', value: 99 }]);
    }
    // a zero budget: the first read of a cycle still happens, the others wait
    const src = metricServiceSources(app.hostMetrics, new RecentSamples(() => ({ keys: new Set(['cpu.user']), keepMs: 60_000 })), 0);
    const now = clock.t;
    const got = ['a', 'b', 'c'].map((h) => src.seriesWindow(h, 'cpu.user', 'AVERAGE', 30, now));
    expect(got[0]).toBeCloseTo(99, 6);
    expect(got.slice(1)).toEqual([undefined, undefined]);
    expect(src.seriesWindow('b', 'cpu.user', 'AVERAGE', 30, now + 1)).toBeCloseTo(99, 6);
    expect(src.seriesWindow('a', 'cpu.user', 'AVERAGE', 30, now + 1)).toBeCloseTo(99, 6);
  });
});
