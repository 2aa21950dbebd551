// A shared series store whose write fails part way (ClickHouse took the new series, then the
// connection broke before the answer): the group is a 503 and acknowledges nothing, and the
// resent batch is stored once, the catalog having been read again from the store (before, the
// series looked new again and every resend failed creating it: rrdtool's "File exists", the
// host's metrics stuck until a restart). The store is the real PersistedSeriesStore over the in-memory persistence,
// with one write of the persistence made to fail after it has stored.
import { describe, expect, it } from 'vitest';
import { createLayouts } from '../../collector/metrics/layout.js';
import { SharedMetricService } from '../../collector/metrics/shared-service.js';
import { MemoryPersistence } from '../../collector/rrd/memory-persistence.js';
import { PersistedSeriesStore } from '../../collector/rrd/persistence.js';
import type { SharedSeriesStore } from '../../collector/rrd/series-store.js';
import type { SeriesDef, SeriesState } from '../../collector/rrd/types.js';
import type { MetricBatch } from '../../shared/wire.js';

const T0 = 1_700_000_000_000;

/** creates as asked, then (once, when armed) fails as a lost connection would */
class BreakingPersistence extends MemoryPersistence {
  armed = false;
  override async create(items: Array<{ name: string; id: number; def: SeriesDef; state: SeriesState }>): Promise<void> {
    await super.create(items);
    if (this.armed) {
      this.armed = false;
      throw new Error('socket hang up');
    }
  }
}

/** the engine as a shared store of one collector (every lease its own) */
function shared(p: MemoryPersistence): SharedSeriesStore {
  const engine = new PersistedSeriesStore(p);
  return Object.assign(engine, {
    claim: async () => ({ refused: new Map<string, Error>(), taken: [] }),
    describe: async (hosts?: readonly string[]) => {
      const names = (await engine.list()).filter((n) => !hosts || hosts.some((h) => n.startsWith(`${h}/`)));
      return Promise.all(names.map(async (name) => {
        const i = await engine.info(name);
        return { name, type: i.def.ds[0]?.type ?? null, step: i.def.step, lastUp: i.state.lastUp };
      }));
    },
  });
}

const batch = (from: number): MetricBatch => ({
  version: 1,
  agent_id: 'agt_p',
  host: 'p-1',
  interval_ms: 10_000,
  samples: Array.from({ length: 6 }, (_, i) => ({ name: 'load.1', type: 'GAUGE' as const, ts: T0 + (from + i) * 10_000 + 3000, value: from + i })),
});

describe('a shared store write that fails part way', () => {
  it('answers 503, and the resent batch is stored once as if the failure had not happened', async () => {
    const broken = new BreakingPersistence();
    const svc = new SharedMetricService(shared(broken), createLayouts());
    const ref = new SharedMetricService(shared(new MemoryPersistence()), createLayouts());
    const now = T0 + 200_000;

    broken.armed = true;
    const first = await svc.submit(batch(0), now).then(
      () => null,
      (err: Error & { status?: number }) => err,
    );
    expect(first?.status).toBe(503);
    // the failed attempt created the series: the resend creates none
    expect(await svc.submit(batch(0), now)).toEqual({ ...(await ref.submit(batch(0), now)), created: 0 });
    expect(await svc.submit(batch(6), now)).toEqual(await ref.submit(batch(6), now));
    const read = (s: SharedMetricService) => s.read('p-1', 'load.1', 'AVERAGE', T0 - 20_000, T0 + 130_000);
    const want = await read(ref);
    expect(want!.values.filter((v) => v !== null).length).toBeGreaterThan(8);
    expect(await read(svc)).toEqual(want);
    expect(await svc.listSeries()).toEqual(await ref.listSeries());
  });
});
