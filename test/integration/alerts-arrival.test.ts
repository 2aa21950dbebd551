// Rules evaluated on arrival (issue 18, item 2): a committed sample that can change a check or
// metric rule evaluates that rule for that host at once — no periodic cycle is run here — through
// the same state machine, so `for` still holds and repeated arrivals add no notification.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../collector/app.js';
import type { AlertsConfig } from '../../collector/alerts/config.js';
import { generateSecret } from '../../shared/webhook-signature.js';
import { METRICS_INGEST_PATH, WIRE_VERSION } from '../../shared/wire.js';
import { bearer, FakeClock } from '../helpers/alerts.js';
import { tempDir, waitFor } from '../helpers/proc.js';

let dir: { path: string; cleanup(): void };
let clock: FakeClock;
let app: FastifyInstance;
let agent: string;

const RULES: AlertsConfig['rules'] = [
  { kind: 'check', name: 'app-down', check: 'app' },
  { kind: 'metric', name: 'cpu-high', metric: 'cpu.user', op: 'above', critical: 95, critical_clear: 90, window: '10s', for: '20s' },
  { kind: 'absence', name: 'no-cpu', metric: 'cpu.user', seconds: 60 },
];

async function start(evaluateOnArrival: boolean, config: Partial<AlertsConfig> = {}) {
  app = await buildApp({
    dataDir: dir.path,
    clock: clock.now,
    // the webhook is never called (run: false): its outbox rows count the notifications
    alerts: { config: { defaults: false, rules: RULES, webhooks: [{ name: 'ops', url: 'http://127.0.0.1:9/', secret: generateSecret() }], ...config }, run: false, evaluateOnArrival },
  });
  await app.ready();
  agent = (await app.storage.tokens.create('agent', 'a', clock.t)).token;
}

beforeEach(() => {
  dir = tempDir('ringtail-alerts-arrival-');
  clock = new FakeClock(1_700_000_000_000);
});
afterEach(async () => {
  await app.close();
  dir.cleanup();
});

async function send(host: string, name: string, value: number, labels?: Record<string, string>) {
  const res = await app.inject({
    method: 'POST',
    url: METRICS_INGEST_PATH,
    headers: bearer(agent),
    payload: { version: WIRE_VERSION, agent_id: 'agt_1', host, interval_ms: 10_000, samples: [{ name, type: 'GAUGE', value, ts: clock.t, ...(labels ? { labels } : {}) }] },
  });
  expect(res.statusCode, res.body).toBe(200);
}
const state = (rule: string, host = 'web-1') => app.alerts.evaluator.current(clock.t).find((a) => a.rule === rule && a.host === host);
/** resolves once the evaluations on arrival caused so far have run */
const evaluated = async (n: number) => waitFor(`${n} evaluations on arrival`, () => app.alerts.evaluator.arrivalEvaluations >= n, 5_000);

describe('rules evaluated on arrival', () => {
  it('a check going down fires with no periodic cycle, resolves the same way, one notification each', async () => {
    await start(true);
    await send('web-1', 'check.process.count', 1, { check: 'app' });
    await evaluated(1);
    expect(state('app-down')).toBeUndefined();
    clock.advance(2_000);
    await send('web-1', 'check.process.count', 0, { check: 'app' });
    await waitFor('app-down firing', () => state('app-down')?.state === 'firing', 5_000);
    expect((await app.alerts.store.pendingCount())).toBe(1);
    // more arrivals of the same state: evaluated each time, nothing new announced
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000);
      await send('web-1', 'check.process.count', 0, { check: 'app' });
    }
    await evaluated(7);
    expect(state('app-down')?.state).toBe('firing');
    expect((await app.alerts.store.pendingCount())).toBe(1);
    expect((await app.alerts.store.history({ rule: 'app-down', limit: 100 })).filter((h) => h.event === 'firing')).toHaveLength(1);
    // another host's arrival does not touch web-1's alert
    await send('web-2', 'check.process.count', 1, { check: 'app' });
    await evaluated(8);
    clock.advance(1_000);
    await send('web-1', 'check.process.count', 1, { check: 'app' });
    await waitFor('app-down resolved', () => state('app-down') === undefined, 5_000);
    expect((await app.alerts.store.pendingCount())).toBe(2);
    expect(app.alerts.evaluator.lastCycle).toBeNull(); // the periodic cycle never ran
  });

  it('a metric rule keeps its `for` and hysteresis on arrival', async () => {
    await start(true);
    await send('web-1', 'cpu.user', 99);
    await waitFor('cpu-high pending', () => state('cpu-high')?.state === 'pending', 5_000);
    clock.advance(10_000);
    await send('web-1', 'cpu.user', 99);
    await evaluated(2);
    expect(state('cpu-high')?.state).toBe('pending'); // 10 s < for: 20 s
    expect((await app.alerts.store.pendingCount())).toBe(0);
    clock.advance(11_000);
    await send('web-1', 'cpu.user', 99);
    await waitFor('cpu-high firing', () => state('cpu-high')?.state === 'firing', 5_000);
    expect((await app.alerts.store.pendingCount())).toBe(1);
    // 92 is below critical but above critical_clear: still firing, nothing sent
    clock.advance(10_000);
    await send('web-1', 'cpu.user', 92);
    await evaluated(4);
    expect(state('cpu-high')?.state).toBe('firing');
    expect((await app.alerts.store.pendingCount())).toBe(1);
    // an absence rule is left to the periodic cycle
    expect(state('no-cpu')).toBeUndefined();
  });

  it('without evaluation on arrival (the pre-issue-18 path) nothing changes before a cycle', async () => {
    await start(false);
    await send('web-1', 'check.process.count', 0, { check: 'app' });
    await new Promise((r) => setImmediate(r));
    expect(state('app-down')).toBeUndefined();
    expect(app.alerts.evaluator.arrivalEvaluations).toBe(0);
    await app.alerts.evaluator.cycle();
    expect(state('app-down')?.state).toBe('firing');
  });

  it('alerts.evaluate_on_arrival: false in the configuration turns the fast path off (the periodic path alone)', async () => {
    await start(true, { evaluate_on_arrival: false });
    await send('web-1', 'check.process.count', 0, { check: 'app' });
    // an evaluation on arrival is queued with setImmediate during the request: it ran before this one would
    await new Promise((r) => setImmediate(r));
    expect(app.alerts.evaluator.arrivalEvaluations).toBe(0);
    expect(state('app-down')).toBeUndefined();
    await app.alerts.evaluator.cycle();
    expect(state('app-down')?.state).toBe('firing');
  });
});
