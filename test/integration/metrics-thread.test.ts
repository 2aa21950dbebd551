// The metric store on a thread of its own (collector/metrics/store-thread.ts, the server's
// choice): a group of new series is created and committed there while the event loop keeps
// turning, acknowledgements still follow the durable commit, readers keep their synchronous
// answers, the catalog survives a restart, and a group whose series could not be created is
// refused whole and leaves nothing behind in the catalog.
import { afterEach, describe, expect, it } from 'vitest';
import { seriesName } from '../../collector/metrics/key.js';
import { ThreadedRrdStore } from '../../collector/metrics/store-thread.js';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import type { MetricBatch } from '../../shared/wire.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';
import { startCollectorProc, tempDir } from '../helpers/proc.js';
import { WIRE_VERSION } from '../../shared/wire.js';

const T0 = 1_700_000_000_000;

/** `n` GAUGE series of one host, one sample each at `ts` */
function wide(host: string, n: number, ts: number, value = 1): MetricBatch {
  return {
    version: WIRE_VERSION,
    agent_id: `agt_${host}`,
    host,
    interval_ms: 10_000,
    samples: Array.from({ length: n }, (_, k) => ({ name: `m.${k}`, type: 'GAUGE' as const, ts, value: value + k })),
  };
}

describe('metric store thread', () => {
  let now = T0;
  let c: TestCollector | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });
  const open = async (dataDir?: string) => {
    const t = await testCollector(() => now, { hostMetrics: { thread: true }, ...(dataDir ? { dataDir } : {}) });
    return t;
  };
  const post = (t: TestCollector, body: MetricBatch) =>
    t.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${t.token('agent')}` }, payload: body as object });

  it('the event loop keeps turning while a request creates thousands of series; the answer comes after their commit', async () => {
    now = T0 + 10_000;
    c = await open();
    expect(c.app.hostMetrics.store).toBeInstanceOf(ThreadedRrdStore);
    // Count event-loop turns while the request is in flight. On the event loop (the store
    // without its thread) planning, creating 4,000 series and journaling their values is one
    // synchronous stretch: a handful of turns at most. On the thread the loop spins meanwhile.
    let turns = 0;
    let inFlight = true;
    const spin = () => {
      if (!inFlight) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const res = await post(c, wide('big-1', 4_000, T0));
    inFlight = false;
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ accepted: 4_000, duplicates: 0, created: 4_000 });
    expect(turns).toBeGreaterThanOrEqual(20);
    // readers' synchronous calls are answered by the thread
    const listed = c.app.hostMetrics.list('big-1');
    expect(listed).toHaveLength(4_000);
    const series = await c.app.inject({ method: 'GET', url: `/api/v1/series?host=big-1&metric=m.7&start=${T0 - 20_000}&end=${T0 + 10_000}&resolution=10000`, headers: { authorization: `Bearer ${c.token('viewer')}` } });
    expect(series.statusCode, series.body).toBe(200);
    expect(c.app.hostMetrics.store.info(seriesName('big-1', 'm.7')).state.lastUp).toBe(T0 / 1000);
  });

  it('acknowledged values are in the store file when the collector is gone, and the catalog comes back from the thread at restart', async () => {
    now = T0 + 100_000;
    const first = await open();
    c = first;
    const dir = first.dir;
    for (let i = 0; i < 5; i++) {
      const res = await post(c, wide('web-1', 3, T0 + i * 10_000, i * 10));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().accepted).toBe(3);
    }
    // close the app but keep its directory: the thread applies the journal and closes the file
    await first.app.close();
    c = undefined;
    const store = openRrdStore(`${dir}/metrics.db`);
    try {
      expect(store.list().sort()).toEqual(['m.0', 'm.1', 'm.2'].map((m) => seriesName('web-1', m)).sort());
      const info = store.info(seriesName('web-1', 'm.2'));
      expect(info.state.lastUp).toBe((T0 + 40_000) / 1000);
      expect(Number(info.state.ds[0]!.lastDs)).toBe(42);
    } finally {
      store.close();
    }
    // reopened on its thread: the catalog is the store's (describeAll), duplicates recognised
    const again = await testCollector(() => now, { hostMetrics: { thread: true }, dataDir: dir });
    // closing `first` again only removes its directory once `again` is done with it
    c = { ...again, close: async () => (await again.close(), await first.close()) };
    expect(again.app.hostMetrics.list('web-1').map((e) => [e.metric, e.last_update])).toEqual([
      ['m.0', T0 + 40_000],
      ['m.1', T0 + 40_000],
      ['m.2', T0 + 40_000],
    ]);
    const dup = await post(again, wide('web-1', 3, T0 + 40_000, 40));
    expect(dup.json()).toEqual({ accepted: 0, duplicates: 3, created: 0 });
  });

  it('a group whose new series cannot be created is refused whole (503) and leaves no series in the catalog', async () => {
    now = T0 + 10_000;
    c = await open();
    // a series the catalog does not know but the store holds: creating it again fails on the thread
    const store = c.app.hostMetrics.store;
    store.create(seriesName('web-9', 'm.1'), { step: 10, ds: [{ name: 'value', type: 'GAUGE', heartbeat: 20, min: NaN, max: NaN }], rra: [{ cf: 'AVERAGE', xff: 0.5, pdpPerRow: 1, rows: 10 }] }, { start: T0 / 1000 - 100 });
    const res = await post(c, wide('web-9', 2, T0));
    expect(res.statusCode, res.body).toBe(503);
    expect(res.json()).toMatchObject({ error: 'RINGTAIL_ERR_STORAGE', message: expect.stringMatching(/File exists/) });
    expect(res.headers['retry-after']).toBeDefined();
    expect(c.app.hostMetrics.list('web-9')).toEqual([]);
    // nothing of the group was stored: the series it would have created alone does not exist
    expect(store.list()).toEqual([seriesName('web-9', 'm.1')]);
    // other hosts are not affected
    const ok = await post(c, wide('web-2', 2, T0));
    expect(ok.statusCode, ok.body).toBe(200);
  });

  it('a real collector killed (SIGKILL) right after its answers: every acknowledged value and new series is in the store', async () => {
    const dir = tempDir('ringtail-mthread-');
    try {
      const storage = openSqliteStorage(dir.path);
      const token = (await storage.tokens.create('agent', 'kill test', Date.now())).token;
      storage.close();
      const { proc, url } = await startCollectorProc(dir.path, 'admin-token-kill-0123456789', ['--no-syslog-enabled']);
      const ts = Math.floor(Date.now() / 10_000) * 10_000 - 60_000;
      const answers = await Promise.all(
        ['a-1', 'a-2', 'a-3'].map(async (host, h) => {
          const res = await fetch(`${url}/api/v1/metrics/ingest`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ ...wide(host, 300, ts, h * 1000), agent_id: 'agt_kill' }),
          });
          return (await res.json()) as { accepted: number; created: number };
        }),
      );
      await proc.kill('SIGKILL');
      expect(answers).toEqual([0, 1, 2].map(() => ({ accepted: 300, duplicates: 0, created: 300 })));
      const store = openRrdStore(`${dir.path}/metrics.db`);
      try {
        expect(store.list()).toHaveLength(900);
        for (const [h, host] of ['a-1', 'a-2', 'a-3'].entries()) {
          const info = store.info(seriesName(host, 'm.299'));
          expect(info.state.lastUp).toBe(ts / 1000);
          expect(Number(info.state.ds[0]!.lastDs)).toBe(h * 1000 + 299);
        }
      } finally {
        store.close();
      }
    } finally {
      dir.cleanup();
    }
  });
});
