// A log rule on a collector whose lines are in ClickHouse: the evaluation cycle is one
// synchronous step, so the asynchronous store is read before it (AlertSources.prepare with the
// evaluator's logReads); a cycle run without that reading leaves the rule's instances as they are.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorageAsync } from '../../collector/storage/factory.js';
import type { Storage } from '../../collector/storage/types.js';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';
import { startChdb, type ChdbServer } from './chdb-fixture.js';

const T0 = Date.UTC(2026, 11, 7, 8, 0, 0);
const dir = tempDir('ringtail-chdb-alerts-');
let server: ChdbServer;
let storage: Storage;
let c: TestCollector;

beforeAll(async () => {
  server = await startChdb(`${dir.path}/chdb`);
  storage = await openStorageAsync({ backend: 'clickhouse', data: `${dir.path}/data`, clickhouse: { url: server.url, database: 'alerts' } });
  c = await testCollector(() => T0 + 10_000, {
    storage,
    dataDir: `${dir.path}/data`,
    alerts: { config: { defaults: false, rules: [{ kind: 'log', name: 'oom', query: 'OutOfMemoryError', window: '1m' }] }, run: false },
  });
});
afterAll(async () => {
  await c?.close();
  storage?.close();
  await server?.stop();
  dir.cleanup();
});

describe('log rules on ClickHouse', () => {
  it('count the matching lines read before the cycle, per host', async () => {
    const send = (messages: string[], host: string) =>
      c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: batchOf(messages, { host, stream: `s-${host}`, agent: `agt-${host}`, ts: T0 }) });
    expect((await send(['java.lang.OutOfMemoryError: heap', 'fine', 'OutOfMemoryError again'], 'web-1')).statusCode).toBe(200);
    expect((await send(['fine here'], 'web-2')).statusCode).toBe(200);

    // nothing read ahead: the store cannot answer inside the cycle, the rule waits
    await c.app.alerts.evaluator.cycle();
    expect(c.app.alerts.evaluator.current(T0 + 10_000)).toEqual([]);

    await c.app.alerts.evaluate();
    const firing = c.app.alerts.evaluator.current(T0 + 10_000);
    expect(firing).toHaveLength(1);
    expect(firing[0]).toMatchObject({ rule: 'oom', host: 'web-1', state: 'firing', value: 2 });
  });
});

describe('log rules on SQLite, read ahead as the collector does', () => {
  it('give the same count through evaluate() as the synchronous store answers inside cycle()', async () => {
    const config = { defaults: false, rules: [{ kind: 'log', name: 'oom', query: 'OutOfMemoryError', window: '1m' }] };
    const ahead = await testCollector(() => T0 + 10_000, { alerts: { config, run: false } });
    const inside = await testCollector(() => T0 + 10_000, { alerts: { config, run: false } });
    try {
      for (const x of [ahead, inside]) {
        const res = await x.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${x.token('agent')}` }, payload: batchOf(['OutOfMemoryError', 'ok', 'OutOfMemoryError: heap'], { host: 'db-1', ts: T0 }) });
        expect(res.statusCode).toBe(200);
      }
      await ahead.app.alerts.evaluate();
      await inside.app.alerts.evaluator.cycle();
      const strip = (a: Array<{ rule: string; host: string; state: string; value: number | null }>) => a.map(({ rule, host, state, value }) => ({ rule, host, state, value }));
      expect(strip(ahead.app.alerts.evaluator.current(T0 + 10_000))).toEqual([{ rule: 'oom', host: 'db-1', state: 'firing', value: 2 }]);
      expect(strip(inside.app.alerts.evaluator.current(T0 + 10_000))).toEqual(strip(ahead.app.alerts.evaluator.current(T0 + 10_000)));
    } finally {
      await ahead.close();
      await inside.close();
    }
  });
});
