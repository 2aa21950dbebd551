// The metric catalog at start is read in pages of one scan of the series table
// (SqliteRrdStore.describe): the same summaries a name list and an info() per series give, which
// at a month of a fleet (2.5 M series) took longer than the store thread's synchronous limit.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import type { SeriesDef } from '../../collector/rrd/types.js';
import { tempDir } from '../helpers/proc.js';

const def = (type: 'GAUGE' | 'DERIVE', step: number): SeriesDef => ({ step, ds: [{ name: 'value', type, heartbeat: 2 * step, min: NaN, max: NaN }], rra: [{ cf: 'AVERAGE', xff: 0.5, pdpPerRow: 1, rows: 50 }] });
const T0 = 1_790_000_000;

describe('store describe', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it('pages every series in id order with its type, step and last update (journaled ones too), as info() says', () => {
    const dir = tempDir();
    const store = openRrdStore(join(dir.path, 'm.db'), { create: true, now: () => T0 + 10_000 });
    cleanups.push(() => {
      store.close();
      dir.cleanup();
    });
    store.createMany(Array.from({ length: 123 }, (_, i) => ({ name: `h${i % 7}/m${i}`, def: def(i % 3 ? 'GAUGE' : 'DERIVE', i % 2 ? 10 : 60), start: T0 + i })));
    store.updateMany(Array.from({ length: 40 }, (_, i) => ({ series: `h${i % 7}/m${i}`, args: [`${T0 + 500 + i}:${i}`] })));
    store.delete('h3/m10');
    const paged: Array<{ name: string; type: string | null; step: number; lastUp: number }> = [];
    for (let after = 0; ; ) {
      const page = store.describe(after, 50);
      paged.push(...page.items);
      if (page.items.length < 50) break;
      after = page.last;
    }
    const expected = store.list().map((name) => {
      const info = store.info(name);
      return { name, type: info.def.ds[0]!.type, step: info.def.step, lastUp: info.state.lastUp };
    });
    expect(paged).toHaveLength(122);
    expect([...paged].sort((a, b) => a.name.localeCompare(b.name))).toEqual(expected);
    expect(paged.find((p) => p.name === 'h5/m5')).toEqual({ name: 'h5/m5', type: 'GAUGE', step: 10, lastUp: T0 + 505 });
  });
});
