// The metric catalog at fleet scale: a month of 1,000 two-hour instances a day is 2.6 M series,
// nearly all of retired hosts. Held as a Map of names to entry objects it took ~156 B of heap and
// three heap objects per series (name, entry, boxed last update: ~400 MB and 8 M objects that
// every full collection of the event loop's heap marks again); held per host in columns
// (catalog.ts) ~103 B and no object per series, and it reads as the Map did.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { metricKey } from '../../collector/metrics/key.js';
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

  it('holds 166,000 series of 2,000 hosts in under 130 B of heap each (a Map of entries: ~155 B)', () => {
    const svc = new Probe(emptyStore(), createLayouts());
    const batch = summaries(2000);
    gc();
    const before = process.memoryUsage().heapUsed;
    svc.add(batch);
    gc();
    const perSeries = (process.memoryUsage().heapUsed - before) / (2000 * KEYS.length);
    expect(batch.length).toBe(2000 * KEYS.length); // held until measured: only the catalog's heap counts
    expect(svc.list().length).toBe(2000 * KEYS.length);
    expect(perSeries).toBeLessThan(130);
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
});
