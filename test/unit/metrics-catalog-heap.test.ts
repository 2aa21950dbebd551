// The metric catalog at fleet scale: a month of 1,000 two-hour instances a day is 2.6 M series,
// nearly all of retired hosts. Held as a Map of names to entry objects it took ~156 B of heap and
// three heap objects per series (name, entry, boxed last update: ~400 MB and 8 M objects that
// every full collection of the event loop's heap marks again); per host in JS columns ~83-103 B;
// now per host as rows of numbers in one typed array (catalog.ts): a few bytes of heap and ~34 B
// off the heap per series, and it reads as the Map did.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { metricKey, seriesName } from '../../collector/metrics/key.js';
import { SeriesCatalog } from '../../collector/metrics/catalog.js';
import { createLayouts } from '../../collector/metrics/layout.js';
import { MetricService } from '../../collector/metrics/service.js';
import { join } from 'node:path';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import { tempDir } from '../helpers/proc.js';
import type { SeriesOverview } from '../../collector/rrd/series-store.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** the protected catalog, filled as the store's summaries fill it at start */
class Probe extends MetricService {
  add(s: SeriesOverview[]): void {
    this.addToCatalog(s);
  }
}

const KEYS = Array.from({ length: 83 }, (_, k) => metricKey(`metric_${k}`, { cpu: String(k % 4), mode: 'user' }));
const summaries = (hosts: number, from = 0): SeriesOverview[] =>
  Array.from({ length: hosts * KEYS.length }, (_, i) => ({
    // as a store's rows arrive: every name its own string
    name: `eph-d${String(Math.floor(i / KEYS.length) % 30).padStart(2, '0')}-${String(from + Math.floor(i / KEYS.length)).padStart(6, '0')}/${KEYS[i % KEYS.length]}`.split('').join(''),
    type: 'GAUGE',
    step: 10,
    lastUp: 1_790_000_000 + i,
  }));

const stores: Array<{ cleanup(): void; close(): void }> = [];
const emptyStore = () => {
  const dir = tempDir();
  const store = openRrdStore(join(dir.path, 'm.db'), { create: true });
  stores.push({ cleanup: () => dir.cleanup(), close: () => store.close() });
  return store;
};

describe('metric catalog heap', () => {
  afterEach(() => {
    for (const s of stores.splice(0)) {
      s.close();
      s.cleanup();
    }
  });

  it('holds 166,000 series of 2,000 hosts in under 16 B of heap and 64 B in all each (a Map of entries: ~155 B of heap; JS columns ~103)', () => {
    const svc = new Probe(emptyStore(), createLayouts());
    const batch = summaries(2000);
    gc();
    const before = process.memoryUsage();
    svc.add(batch);
    gc();
    const after = process.memoryUsage();
    const heap = (after.heapUsed - before.heapUsed) / (2000 * KEYS.length);
    const buffers = (after.arrayBuffers - before.arrayBuffers) / (2000 * KEYS.length);
    expect(batch.length).toBe(2000 * KEYS.length); // held until measured: only the catalog's heap counts
    expect(svc.list().length).toBe(2000 * KEYS.length);
    expect(heap).toBeLessThan(16);
    expect(heap + buffers).toBeLessThan(64);
  });

  it('answers as the Map did: list, per host, last updates, withdraw', () => {
    const svc = new Probe(emptyStore(), createLayouts());
    const s = summaries(3);
    svc.add(s);
    const host = s[0]!.name.slice(0, s[0]!.name.indexOf('/'));
    const mine = svc.list(host);
    expect(mine.map((e) => e.metric)).toEqual([...KEYS].sort((a, b) => a.localeCompare(b)));
    expect(mine.find((e) => e.metric === KEYS[5])).toMatchObject({ host, name: 'metric_5', labels: { cpu: '1', mode: 'user' }, type: 'GAUGE', step: 10, last_update: (1_790_000_000 + 5) * 1000 });
    expect(svc.hosts(1_790_000_100_000).map((h) => [h.host, h.series])).toEqual(
      [...new Set(s.map((x) => x.name.slice(0, x.name.indexOf('/'))))].sort((a, b) => a.localeCompare(b)).map((h) => [h, KEYS.length]),
    );
    expect(svc.withdraw(host, KEYS[0])).toBe(1);
    expect(svc.list(host)).toHaveLength(KEYS.length - 1);
    expect(svc.withdraw(host)).toBe(KEYS.length - 1);
    expect(svc.list(host)).toHaveLength(0);
    expect(svc.list()).toHaveLength(2 * KEYS.length);
    // a withdrawn host's series come back as new ones
    svc.add(summaries(1));
    expect(svc.list(host)).toHaveLength(KEYS.length);
  });

  it('finds every series after adds and deletes in any order, and lets go of keys no series has', () => {
    const cat = new SeriesCatalog((metric, name, labels) => ({ metric, name, labels }));
    const keys = Array.from({ length: 300 }, (_, k) => `m_${(k * 7919) % 300}`);
    const want = new Map<string, number>();
    let seed = 7;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let step = 0; step < 20_000; step++) {
      const host = `h${rnd(5)}`;
      const key = keys[rnd(keys.length)]!;
      const name = seriesName(host, key);
      if (rnd(3) === 0) {
        expect(cat.delete(name)).toBe(want.delete(name));
      } else {
        cat.set(name, { host, metric: key, name: key, labels: {}, type: step % 2 ? 'GAUGE' : 'COUNTER', step: 10, last_update: step });
        want.set(name, step);
      }
    }
    expect(cat.size).toBe(want.size);
    for (const [name, t] of want) expect(cat.get(name)).toMatchObject({ last_update: t, type: t % 2 ? 'GAUGE' : 'COUNTER', step: 10 });
    expect(new Set([...cat.entries()].map(([n]) => n))).toEqual(new Set(want.keys()));
    for (const name of want.keys()) cat.delete(name);
    expect(cat.size).toBe(0);
    expect(cat.seriesOf('h0')).toBe(0);
    // after every series is gone, a new key on a new host is found as any other
    expect(cat.has(seriesName('h0', keys[0]!))).toBe(false);
    cat.set(seriesName('h9', 'new'), { host: 'h9', metric: 'new', name: 'new', labels: {}, type: 'GAUGE', step: 1, last_update: 5 });
    expect(cat.get(seriesName('h9', 'new'))).toMatchObject({ host: 'h9', metric: 'new', last_update: 5 });
  });
});
