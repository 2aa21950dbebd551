// The store's series memos are bounded (metaCache): a collector that had created every series of
// a month of a fleet kept a memo for each (2.6 M), on the store thread's heap for good. Dropped
// memos are read again from the stored state, so a sample already stored is still refused and
// the archives hold exactly what a store that keeps every memo holds.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRrdStore, type SqliteRrdStore } from '../../collector/rrd/sqlite-store.js';
import type { SeriesDef } from '../../collector/rrd/types.js';
import { tempDir } from '../helpers/proc.js';

const DEF: SeriesDef = {
  step: 10,
  ds: [{ name: 'value', type: 'GAUGE', heartbeat: 20, min: NaN, max: NaN }],
  rra: [
    { cf: 'AVERAGE', xff: 0.5, pdpPerRow: 1, rows: 100 },
    { cf: 'MAX', xff: 0.5, pdpPerRow: 6, rows: 50 },
  ],
};
const T0 = 1_790_000_000;
const names = Array.from({ length: 60 }, (_, i) => `host-${i}/m`);

describe('series memo cache', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  const open = (metaCache?: number): SqliteRrdStore => {
    const dir = tempDir();
    const store = openRrdStore(join(dir.path, 'm.db'), { create: true, now: () => T0 + 10_000, checkpointUpdates: 50, ...(metaCache ? { metaCache } : {}) });
    cleanups.push(() => {
      store.close();
      dir.cleanup();
    });
    return store;
  };

  it('keeps at most metaCache memos, refuses stored samples again after a drop, and stores exactly what an unbounded store does', () => {
    const small = open(10);
    const big = open();
    for (const s of [small, big]) s.createMany(names.map((name) => ({ name, def: DEF, start: T0 })));
    for (let round = 1; round <= 20; round++) {
      const items = names.map((series, i) => ({ series, args: [`${T0 + round * 10}:${(round * 7 + i) % 13}`] }));
      const a = small.updateMany(items);
      const b = big.updateMany(items);
      expect(a.accepted).toEqual(b.accepted);
      expect(a.accepted.every((n) => n === 1)).toBe(true);
      expect(small.cachedSeries).toBeLessThanOrEqual(10 + names.length);
    }
    expect(small.cachedSeries).toBeLessThanOrEqual(10);
    // every sample sent again: refused by both, its memo dropped or not
    const again = small.updateMany(names.map((series) => ({ series, args: [`${T0 + 200}:1`] })));
    expect(again.accepted.every((n) => n === 0)).toBe(true);
    expect(again.errors.size).toBe(names.length);
    for (const name of names) {
      const opts = { start: T0, end: T0 + 300 };
      expect(small.fetch(name, 'AVERAGE', opts)).toEqual(big.fetch(name, 'AVERAGE', opts));
      expect(small.info(name).state).toEqual(big.info(name).state);
    }
  });
});
