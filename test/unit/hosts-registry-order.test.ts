// The host registry keeps its records in name order as hosts come and go: listings are in order
// after any mix of new hosts, adopted ones and removals, and a new host no longer costs a sort
// of every known host at the next listing (31,000 known hosts while 1,000 appear: each listing
// and alert cycle sorted them all).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HostRegistry } from '../../collector/hosts/registry.js';
import { hostsTiming } from '../../collector/hosts/config.js';
import { createEvents } from '../../shared/events.js';
import { rng as makeRng } from '../helpers/rng.js';

function registry(now = { t: 1_000_000 }) {
  return new HostRegistry({ clock: () => now.t, events: createEvents(), timing: hostsTiming({ retire_after: '1h' }) });
}

const names = (r: HostRegistry, includeRetired = true) => r.list({ includeRetired }).map((h) => h.host);
const sortedCopy = (a: string[]) => [...a].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));

describe('host registry order', () => {
  afterEach(() => vi.restoreAllMocks());

  it('lists in name order after random arrivals, adoptions, retirements and removals; the default view leaves out exactly the retired', () => {
    const rand = makeRng(7);
    const r = registry();
    const known = new Map<string, boolean>(); // host → retired
    const check = () => {
      expect(names(r)).toEqual(sortedCopy([...known.keys()]));
      expect(names(r, false)).toEqual(sortedCopy([...known].filter(([, retired]) => !retired).map(([h]) => h)));
      expect(r.list({ states: new Set(['retired']) }).map((h) => h.host)).toEqual(sortedCopy([...known].filter(([, retired]) => retired).map(([h]) => h)));
    };
    for (let i = 0; i < 3000; i++) {
      const name = `h-${Math.floor(rand() * 500).toString(36)}-${i % 3}`;
      const op = rand();
      if (op < 0.45) {
        r.heard(name, 1_000_000 + i, { source: 'metrics', agentId: `agt_${name}` });
        known.set(name, false);
      } else if (op < 0.6) {
        r.adopt(name, 1, 2, 'logs');
        if (!known.has(name)) known.set(name, false);
      } else if (op < 0.8) {
        if (r.retire(name)) known.set(name, true);
      } else {
        r.remove(name);
        known.delete(name);
      }
      if (i % 97 === 0) check();
    }
    check();
    expect(r.size).toBe(known.size);
  });

  it('a new host among 30,000 known is placed, not sorted in: listing after each of 200 new hosts sorts once', () => {
    const r = registry();
    for (let i = 0; i < 30_000; i++) r.adopt(`old-${String(i).padStart(5, '0')}`, 1, 2, 'logs');
    const original = Array.prototype.sort;
    let big = 0;
    vi.spyOn(Array.prototype, 'sort').mockImplementation(function (this: unknown[], compare?: (a: unknown, b: unknown) => number) {
      if (this.length >= 30_000) big++;
      return original.call(this, compare) as unknown[];
    });
    for (let j = 0; j < 200; j++) {
      r.heard(`new-${String((j * 7919) % 200).padStart(4, '0')}`, 1_000_000 + j, { source: 'metrics', agentId: `agt_${j}` });
      expect(r.list().length).toBe(30_000 + j + 1);
    }
    vi.restoreAllMocks();
    expect(big).toBeLessThanOrEqual(1);
    const all = names(r);
    expect(all).toEqual(sortedCopy(all));
    expect(all.length).toBe(30_200);
  });
});
