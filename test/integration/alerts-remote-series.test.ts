// The designated evaluator's read of series another collector consolidates
// (collector/alerts/remote-series.ts), over the real PersistedSeriesStore on the in-memory
// persistence: collector A writes through its own store, collector B's SharedMetricService reads
// the same persistence. What B's recent samples hold after each read is compared with the
// values A stored; hosts B holds the lease of are left to its own ingest; a rule change reads
// a newly wanted key from FIRST_MS back; a host whose series were deleted leaves the view.
import { describe, expect, it } from 'vitest';
import { RecentSamples, type Wanted } from '../../collector/alerts/recent-samples.js';
import { RemoteSeries } from '../../collector/alerts/remote-series.js';
import { createLayouts } from '../../collector/metrics/layout.js';
import { SharedMetricService } from '../../collector/metrics/shared-service.js';
import { MemoryPersistence } from '../../collector/rrd/memory-persistence.js';
import { PersistedSeriesStore } from '../../collector/rrd/persistence.js';
import type { SharedSeriesStore } from '../../collector/rrd/series-store.js';

const T0 = 1_700_000_000; // seconds, on a 10 s step

function storeB(p: MemoryPersistence, held: string[]): SharedSeriesStore {
  const engine = new PersistedSeriesStore(p);
  return Object.assign(engine, {
    claim: async () => ({ refused: new Map<string, Error>(), taken: [] }),
    describe: async (hosts?: readonly string[]) => {
      const names = (await engine.list()).filter((n) => !hosts || hosts.some((h) => n.startsWith(`${h}/`)));
      return Promise.all(
        names.map(async (name) => {
          const i = await engine.info(name);
          return { name, type: i.def.ds[0]?.type ?? null, step: i.def.step, lastUp: i.state.lastUp };
        }),
      );
    },
    holding: () => held,
  });
}

describe('remote series: the evaluator reads what another collector stored', () => {
  it('appends the new rows of wanted series of hosts it does not hold, knows every updated host, rereads after a rule change, and drops a host whose series are gone', async () => {
    const p = new MemoryPersistence();
    const a = new PersistedSeriesStore(p); // collector A, the owner
    const def = createLayouts().define('cpu.user', 'GAUGE', 10_000);
    const names = ['web-1/cpu.user', 'web-1/mem.free', 'own-2/cpu.user'];
    await a.createMany(names.map((name) => ({ name, def, start: T0 })));
    const feed = (from: number, to: number) => a.updateMany(names.map((series, i) => ({ series, args: Array.from({ length: to - from + 1 }, (_, k) => `${T0 + 10 * (from + k)}:${(from + k) * 10 + i}`) })));
    await feed(1, 6);

    const svc = new SharedMetricService(storeB(p, ['own-2']), createLayouts());
    let wanted: Wanted = { keys: new Set(['cpu.user']), keepMs: 300_000 };
    const recent = new RecentSamples(() => wanted);
    const remote = new RemoteSeries(svc, recent);

    const now = (T0 + 65) * 1000;
    const r1 = await remote.refresh(now);
    expect(r1).toMatchObject({ series: 1, rows: 6 });
    expect(recent.points('web-1', 'cpu.user', 0, now)).toEqual({ t: [1, 2, 3, 4, 5, 6].map((k) => (T0 + 10 * k) * 1000), v: [10, 20, 30, 40, 50, 60] });
    expect(recent.last('web-1', 'cpu.user')?.intervalMs).toBe(10_000);
    // own-2 is this collector's (its ingest feeds it); mem.free no rule reads: neither is read
    expect(recent.has('own-2', 'cpu.user')).toBe(false);
    expect(recent.has('web-1', 'mem.free')).toBe(false);
    expect([...remote.hosts].sort()).toEqual([
      ['own-2', (T0 + 60) * 1000],
      ['web-1', (T0 + 60) * 1000],
    ]);

    // the next read: only what came since, appended once
    await feed(7, 8);
    const r2 = await remote.refresh(now + 20_000);
    expect(r2).toMatchObject({ series: 1 });
    expect(recent.points('web-1', 'cpu.user', 0, now + 20_000).v).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
    expect(remote.hosts.get('web-1')).toBe((T0 + 80) * 1000);

    // a rule on mem.free: read from FIRST_MS back, not only since the last read
    wanted = { keys: new Set(['cpu.user', 'mem.free']), keepMs: 300_000 };
    await remote.refresh(now + 30_000);
    expect(recent.points('web-1', 'mem.free', 0, now + 30_000).v).toEqual([11, 21, 31, 41, 51, 61, 71, 81]);
    expect(recent.points('web-1', 'cpu.user', 0, now + 30_000).v).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);

    // web-1 retired on A (its series deleted there), own-2 merely silent: at the sixth read, web-1 leaves the view
    for (const n of names.filter((n) => n.startsWith('web-1/'))) await a.delete(n);
    await remote.refresh(now + 200_000);
    await remote.refresh(now + 210_000);
    expect([...remote.hosts.keys()].sort()).toEqual(['own-2', 'web-1']);
    await remote.refresh(now + 220_000);
    expect([...remote.hosts.keys()]).toEqual(['own-2']);
    expect(recent.has('web-1', 'cpu.user')).toBe(false);
  });
});
