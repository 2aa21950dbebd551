// Metric ingest's group commit (MetricService.submit over the logs' GroupWriter): requests of one
// event-loop turn share one updateMany (one fsync) on a real round-robin store, each is answered
// as if it had been alone, a bad request changes nothing for the others, and no request is
// acknowledged before the commit holding it returned.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLayouts } from '../../collector/metrics/layout.js';
import { MetricService } from '../../collector/metrics/service.js';
import { openRrdStore, type SqliteRrdStore } from '../../collector/rrd/sqlite-store.js';
import type { UpdateManyItem } from '../../collector/rrd/types.js';
import { WIRE_VERSION, type MetricAck, type MetricBatch, type MetricSample } from '../../shared/wire.js';
import { testCollector } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';

const T0 = 1_700_000_000_000;

function batch(host: string, samples: Array<Partial<MetricSample> & { ts: number; value: number }>): MetricBatch {
  return {
    version: WIRE_VERSION,
    agent_id: `agt_${host}`,
    host,
    interval_ms: 10_000,
    samples: samples.map((s) => ({ name: 'load.1', type: 'GAUGE', ...s }) as MetricSample),
  };
}
const at = (...steps: number[]) => steps.map((i) => ({ ts: T0 + i * 10_000, value: i }));

describe('metric ingest group commit', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: SqliteRrdStore;
  let svc: MetricService;
  /** every updateMany call on the store: its items, and whether it has returned */
  let calls: Array<{ items: UpdateManyItem[]; done: boolean }>;
  let failNext: Error | null;

  beforeEach(() => {
    dir = tempDir('ringtail-mgc-');
    store = openRrdStore(join(dir.path, 'metrics.db'), { create: true });
    calls = [];
    failNext = null;
    const real = store.updateMany.bind(store);
    store.updateMany = (items) => {
      const call = { items, done: false };
      calls.push(call);
      if (failNext) {
        const e = failNext;
        failNext = null;
        throw e;
      }
      const res = real(items);
      call.done = true;
      return res;
    };
    // small archives: the cap test creates series with 1,000 values each
    svc = new MetricService(store, createLayouts([{ match: 'big', rra: ['AVERAGE:0.5:1:100'] }]));
  });
  afterEach(() => {
    store.close();
    dir.cleanup();
  });

  /** submits, and records whether the commit holding it had returned when it was answered */
  const committed = () => calls.at(-1)?.done === true;
  const submit = (b: MetricBatch) =>
    // received after the last sample the tests send (a sample over 1 h ahead would be rejected)
    svc.submit(b, T0 + 1000 * 10_000).then(
      (ack) => ({ ack, committed: committed() }),
      (err: Error) => ({ err, committed: committed() }),
    );

  it('requests of one turn share one updateMany, each answered with its own counts', async () => {
    // web-1 creates its series; web-2 too, with two values; web-1 again in the same turn
    // overlaps its first request: as applied one after the other, 2 duplicates and 1 new value.
    const results = await Promise.all([submit(batch('web-1', at(0, 1))), submit(batch('web-2', at(0, 1, 2))), submit(batch('web-1', at(0, 1, 2)))]);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.items.map((i) => [i.series, i.args.length])).toEqual([
      ['web-1/load.1', 2],
      ['web-2/load.1', 3],
      ['web-1/load.1', 1],
    ]);
    expect(results.map((r) => ('ack' in r ? r.ack : r.err.message))).toEqual([
      { accepted: 2, duplicates: 0, created: 1 },
      { accepted: 3, duplicates: 0, created: 1 },
      { accepted: 1, duplicates: 2, created: 0 },
    ]);
    expect(results.every((r) => r.committed)).toBe(true);
    expect(store.info('web-1/load.1').state.lastUp).toBe((T0 + 20_000) / 1000);
    // the next turn is the next group; what the group stored counts as duplicates
    const next = await submit(batch('web-1', at(2, 3)));
    expect('ack' in next ? next.ack : next.err.message).toEqual({ accepted: 1, duplicates: 1, created: 0 });
    expect(calls).toHaveLength(2);
  });

  it('a bad request is refused alone: the others in its group are stored and answered', async () => {
    const results = await Promise.all([
      submit(batch('web-1', at(0))),
      // negative COUNTER: a client error, nothing of it stored
      submit(batch('web-2', [{ name: 'net.rx', type: 'COUNTER', ts: T0, value: -1 }, ...at(0)])),
      // the series web-1/load.1 was created GAUGE by the first request of this very group
      submit(batch('web-1', [{ type: 'DERIVE', ts: T0 + 10_000, value: 5 }])),
      submit(batch('web-3', at(0, 1))),
    ]);
    expect(calls).toHaveLength(1);
    const [a, bad, conflict, d] = results;
    expect(a).toMatchObject({ ack: { accepted: 1, duplicates: 0, created: 1 } });
    expect(bad).toMatchObject({ err: { code: 'RINGTAIL_ERR_BAD_REQUEST' } });
    expect((bad as { err: Error }).err.message).toMatch(/COUNTER values cannot be negative/);
    expect(conflict).toMatchObject({ err: { code: 'RINGTAIL_ERR_BAD_REQUEST' } });
    expect((conflict as { err: Error }).err.message).toMatch(/is GAUGE, the sample says DERIVE/);
    expect(d).toMatchObject({ ack: { accepted: 2, duplicates: 0, created: 1 } });
    expect(store.list().sort()).toEqual(['web-1/load.1', 'web-3/load.1']);
    expect(svc.hosts(T0).map((h) => h.host)).toEqual(['web-1', 'web-3']);
  });

  it('a failed commit acknowledges nothing of its group, and a retry stores everything', async () => {
    failNext = new Error('disk I/O error');
    const failed = await Promise.all([submit(batch('web-1', at(0, 1))), submit(batch('web-2', at(0)))]);
    expect(calls).toHaveLength(1);
    for (const r of failed) {
      expect(r).toMatchObject({ err: { code: 'RINGTAIL_ERR_STORAGE', status: 503 } });
      expect((r as { err: Error }).err.message).toMatch(/disk I\/O error/);
    }
    // not counted as stored: the retry's values are new, not duplicates
    const retried = await Promise.all([submit(batch('web-1', at(0, 1))), submit(batch('web-2', at(0)))]);
    expect(retried.map((r) => (r as { ack: MetricAck }).ack)).toEqual([
      { accepted: 2, duplicates: 0, created: 0 },
      { accepted: 1, duplicates: 0, created: 0 },
    ]);
    expect(retried.every((r) => r.committed)).toBe(true);
  });

  it('a group is capped by values: a burst larger than the cap is committed in several groups', async () => {
    // 30 requests of 1,000 values (one series each) with a cap of 20,000 values per group
    const big = (h: number) => batch(`h${h}`, Array.from({ length: 1000 }, (_, k) => ({ name: 'big', ts: T0 + k * 10_000, value: k })));
    const results = await Promise.all(Array.from({ length: 30 }, (_, h) => submit(big(h))));
    expect(results.every((r) => 'ack' in r && r.ack.accepted === 1000 && r.committed)).toBe(true);
    expect(calls.map((c) => c.items.reduce((n, i) => n + i.args.length, 0))).toEqual([20_000, 10_000]);
  });
});

describe('metric ingest group commit over HTTP', () => {
  it('concurrent requests on one collector each get their own answer', async () => {
    const c = await testCollector(() => T0 + 60_000);
    try {
      const post = (b: MetricBatch) =>
        c.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: b as object });
      const res = await Promise.all([
        ...Array.from({ length: 8 }, (_, h) => post(batch(`web-${h}`, at(0, 1, 2).slice(0, 1 + (h % 3))))),
        post(batch('web-0', [{ name: 'x', type: 'COUNTER', ts: T0, value: 1.5 }])),
      ]);
      expect(res.slice(0, 8).map((r) => [r.statusCode, r.json()])).toEqual(
        Array.from({ length: 8 }, (_, h) => [200, { accepted: 1 + (h % 3), duplicates: 0, created: 1 }]),
      );
      expect(res[8]!.statusCode).toBe(400);
      expect(res[8]!.json().error).toBe('RINGTAIL_ERR_BAD_REQUEST');
      const list = c.app.hostMetrics.list();
      expect(list.map((e) => [e.host, e.last_update])).toEqual(Array.from({ length: 8 }, (_, h) => [`web-${h}`, T0 + (h % 3) * 10_000]));
    } finally {
      await c.close();
    }
  });
});
