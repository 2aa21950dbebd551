// Two collectors on one ClickHouse (a chdb server over the real client protocol), alerts shared:
// exactly one evaluates and sends; the other stands by, answers the same alerts from the
// store, and takes over — at its next turn when the evaluator stops in order, once the lease
// has run out when it dies — from the states and outbox it left: no re-firing, nothing pending
// lost, and every transition's webhook id reaches the receiver once after dedup.
// Turns and deliveries are driven by hand on an injected clock (no timers, no sleeps).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memorySources } from '../../collector/alerts/sources.js';
import { openStorageAsync } from '../../collector/storage/factory.js';
import type { Storage } from '../../collector/storage/types.js';
import { hookReceiver, type Hook } from '../helpers/alerts.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';
import { startChdb, type ChdbServer } from '../contract/chdb-fixture.js';

const LEASE_S = 10;
const T0 = Date.UTC(2026, 11, 7, 10, 0, 0);
const dir = tempDir('ringtail-alerts-standby-');
let server: ChdbServer;
let hook: Hook;
let db = 0;
const open: Array<{ c: TestCollector; storage: Storage; closed: boolean }> = [];

beforeAll(async () => {
  server = await startChdb(`${dir.path}/chdb`);
  hook = await hookReceiver();
});
afterEach(async () => {
  for (const o of open.splice(0)) {
    if (!o.closed) await o.c.close();
    o.storage.close();
  }
  hook.requests.length = 0;
});
afterAll(async () => {
  await hook?.close();
  await server?.stop();
  dir.cleanup();
});

/** a collector on the test's shared database, with its own data directory, clock and sources */
async function collector(id: string, database: string, clock: { t: number }, src: ReturnType<typeof memorySources>, evaluator: 'auto' | 'always' | 'never' = 'auto') {
  const data = `${dir.path}/${database}-${id}`;
  const storage = await openStorageAsync({ backend: 'clickhouse', data, clickhouse: { url: server.url, database } });
  const config = {
    defaults: false,
    evaluator,
    // the lease is at least two evaluation intervals (renewed once per turn)
    evaluation_interval_ms: 1000,
    evaluator_lease_s: LEASE_S,
    rules: [{ kind: 'metric', name: 'load', metric: 'load', op: 'above', critical: 5 }],
    webhooks: [{ name: 'ops', url: hook.url, backoff_base_ms: 1000 }],
  };
  const c = await testCollector(() => clock.t, { storage, dataDir: data, alerts: { config, run: false, sources: src, collectorId: id } });
  const entry = { c, storage, closed: false };
  open.push(entry);
  return {
    app: c.app,
    token: c.token,
    async stop() {
      entry.closed = true;
      await c.close();
    },
  };
}

/** what the receiver saw: [status, host, webhook-id] per request */
const seen = () => hook.requests.map((r) => [r.json.status as string, r.json.alerts[0].labels.host as string, r.headers['webhook-id'] as string]);

describe('one designated evaluator with a standby, on a shared ClickHouse store', () => {
  it('one sends; stopped in order, the standby takes over at its next turn without re-firing; the resolved goes out once', async () => {
    const database = `standby_${process.pid}_${db++}`;
    const clock = { t: T0 };
    const src = memorySources();
    src.set('web-1', 'load', 9);
    const a = await collector('A', database, clock, src);
    const b = await collector('B', database, clock, src);

    expect(await a.app.alerts.evaluate()).toBe(true);
    expect(await b.app.alerts.evaluate()).toBe(false);
    expect(b.app.alerts.election.status()).toMatchObject({ collector: 'B', evaluating: false, holder: 'A' });
    expect(await a.app.alerts.outbox.drain()).toBe(1);
    expect(await b.app.alerts.outbox.drain()).toBe(0); // a standby delivers nothing
    expect(seen()).toEqual([['firing', 'web-1', expect.stringMatching(/^msg_/)]]);
    // the standby answers the evaluator's alerts, read from the store
    expect(b.app.alerts.evaluator.current(clock.t)).toMatchObject([{ rule: 'load', host: 'web-1', state: 'firing', starts_at: T0 }]);
    const listed = await b.app.inject({ url: '/api/v1/alerts', headers: { authorization: `Bearer ${b.token('viewer')}` } });
    expect(listed.json()).toMatchObject({ items: [{ host: 'web-1', state: 'firing' }], evaluator: { collector: 'B', evaluating: false, holder: 'A' } });

    // a second turn each: still A alone
    clock.t += 5000;
    expect(await b.app.alerts.evaluate()).toBe(false);
    expect(await a.app.alerts.evaluate()).toBe(true);

    await a.stop(); // releases the lease
    clock.t += 1000;
    expect(await b.app.alerts.evaluate()).toBe(true);
    expect(b.app.alerts.election.status()).toMatchObject({ evaluating: true, holder: 'B' });
    // it carried on from A's state: the alert still fires since T0 and is not announced again
    expect(b.app.alerts.evaluator.current(clock.t)).toMatchObject([{ host: 'web-1', state: 'firing', starts_at: T0 }]);
    expect(b.app.alerts.evaluator.lastCycle).toMatchObject({ transitions: 0, notifications: 0 });
    expect(await b.app.alerts.outbox.drain()).toBe(0);

    src.set('web-1', 'load', 1);
    clock.t += 10_000;
    expect(await b.app.alerts.evaluate()).toBe(true);
    expect(await b.app.alerts.outbox.drain()).toBe(1);
    const got = seen();
    expect(got.map(([status, host]) => `${status} ${host}`)).toEqual(['firing web-1', 'resolved web-1']);
    expect(new Set(got.map((g) => g[2])).size).toBe(2);
    expect((await b.app.alerts.store.history({ rule: 'load', limit: 10 })).map((h) => h.event)).toEqual(['resolved', 'firing']);
  });

  it('an evaluator that dies is replaced once its lease has run out; what it queued and did not send goes out once, with its id', async () => {
    const database = `standby_${process.pid}_${db++}`;
    const clock = { t: T0 };
    const src = memorySources();
    const a = await collector('A', database, clock, src);
    const b = await collector('B', database, clock, src);
    expect(await a.app.alerts.evaluate()).toBe(true);
    expect(await b.app.alerts.evaluate()).toBe(false);

    // A decides the firing and queues it, then dies before delivering (no more turns, no release)
    src.set('db-1', 'load', 9);
    clock.t += 1000;
    expect(await a.app.alerts.evaluate()).toBe(true);
    const [queued] = await a.app.alerts.store.outbox(5);
    expect(queued).toMatchObject({ state: 'pending' });
    const diedAt = clock.t;

    // B stands by until the lease (renewed at A's last turn) has run out, then takes over
    for (const wait of [5000, LEASE_S * 1000 - 5001]) {
      clock.t += wait;
      expect(await b.app.alerts.evaluate()).toBe(false);
      expect(await b.app.alerts.outbox.drain()).toBe(0);
    }
    expect(clock.t - diedAt).toBe(LEASE_S * 1000 - 1);
    clock.t += 1;
    expect(await b.app.alerts.evaluate()).toBe(true);
    expect(b.app.alerts.evaluator.lastCycle).toMatchObject({ transitions: 0, notifications: 0 });
    expect(await b.app.alerts.outbox.drain()).toBe(1);
    expect(seen()).toEqual([['firing', 'db-1', queued!.id]]);

    // A comes back to life (a stalled process): it finds B holding the lease and stands by
    clock.t += 1000;
    expect(await a.app.alerts.evaluate()).toBe(false);
    expect(await a.app.alerts.outbox.drain()).toBe(0);
    expect(hook.requests).toHaveLength(1);
  });

  it('both evaluating at once (alerts.evaluator: always on both) queue the same transition once, under one id', async () => {
    const database = `standby_${process.pid}_${db++}`;
    const clock = { t: T0 };
    const src = memorySources();
    src.set('app-1', 'load', 9);
    const a = await collector('A', database, clock, src, 'always');
    const b = await collector('B', database, clock, src, 'always');
    await Promise.all([a.app.alerts.evaluate(), b.app.alerts.evaluate()]);
    const rows = await a.app.alerts.store.outbox(10);
    expect(rows).toHaveLength(1);
    await Promise.all([a.app.alerts.outbox.drain(), b.app.alerts.outbox.drain()]);
    // both may have sent it before either marked it: the receiver sees one id, whatever the count
    expect(hook.requests.length).toBeGreaterThanOrEqual(1);
    expect(new Set(hook.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([rows[0]!.id]));
  });

  it('alerts.evaluator: never stands by even with the lease free', async () => {
    const database = `standby_${process.pid}_${db++}`;
    const clock = { t: T0 };
    const src = memorySources();
    src.set('web-9', 'load', 9);
    const c = await collector('C', database, clock, src, 'never');
    expect(await c.app.alerts.evaluate()).toBe(false);
    expect(await c.app.alerts.outbox.drain()).toBe(0);
    expect(await c.app.alerts.store.outbox(5)).toEqual([]);
  });
});
