// The metric store connection's page cache is sized by the collector (metrics/plugin.ts
// METRICS_STORE_CACHE_KB) instead of SQLite's 16 MB default, which the store thread filled while
// 1,000 agents created their series. A cache far smaller than what a round touches only spills
// pages early: the archives must hold exactly what a store with the default cache holds.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { METRICS_STORE_CACHE_KB } from '../../collector/metrics/plugin.js';
import { openRrdStore, type SqliteRrdStore } from '../../collector/rrd/sqlite-store.js';
import type { SeriesDef } from '../../collector/rrd/types.js';
import { tempDir } from '../helpers/proc.js';

const DEF: SeriesDef = {
  step: 10,
  ds: [{ name: 'value', type: 'GAUGE', heartbeat: 20, min: NaN, max: NaN }],
  rra: [
    { cf: 'AVERAGE', xff: 0.5, pdpPerRow: 1, rows: 2000 },
    { cf: 'MAX', xff: 0.5, pdpPerRow: 6, rows: 1000 },
  ],
};
const T0 = 1_790_000_000;
const names = Array.from({ length: 400 }, (_, i) => `host-${i}/m`);

describe('metric store page cache', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  const open = (cacheKb?: number): SqliteRrdStore => {
    const dir = tempDir();
    const store = openRrdStore(join(dir.path, 'm.db'), { create: true, now: () => T0 + 100_000, checkpointUpdates: 5_000, ...(cacheKb ? { cacheKb } : {}) });
    cleanups.push(() => {
      store.close();
      dir.cleanup();
    });
    return store;
  };

  it('is the size given (SQLite default without one), and a tiny one stores exactly what the default does', () => {
    expect(open(METRICS_STORE_CACHE_KB).pageCacheKb).toBe(METRICS_STORE_CACHE_KB);
    const tiny = open(64);
    const dflt = open();
    expect(tiny.pageCacheKb).toBe(64);
    expect(dflt.pageCacheKb).toBe(16_000);
    for (const s of [tiny, dflt]) {
      s.createMany(names.map((name) => ({ name, def: DEF, start: T0 })));
      for (let r = 1; r <= 60; r++) s.updateMany(names.map((series, i) => ({ series, args: [`${T0 + r * 10}:${(i * r) % 97}`] })));
      s.checkpoint();
    }
    for (const name of [names[0]!, names[199]!, names[399]!]) {
      const a = tiny.fetch(name, 'AVERAGE', { start: T0, end: T0 + 600 });
      expect(a.rowCount).toBeGreaterThan(50);
      expect([...a.data].filter((v) => !Number.isNaN(v)).length).toBeGreaterThan(50);
      expect(a).toEqual(dflt.fetch(name, 'AVERAGE', { start: T0, end: T0 + 600 }));
      expect(tiny.fetch(name, 'MAX', { start: T0, end: T0 + 600 })).toEqual(dflt.fetch(name, 'MAX', { start: T0, end: T0 + 600 }));
    }
  });
});
