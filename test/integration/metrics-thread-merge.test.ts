// Writes waiting together on the metric store's thread are committed together
// (collector/metrics/store-worker.ts runWrites): each is still answered with its own share of the
// result (its accepted counts, its items' errors), and a write whose new series cannot be created
// fails alone while the writes merged with it are stored.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreWriteError, ThreadedRrdStore } from '../../collector/metrics/store-thread.js';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import type { SeriesDef, UpdateManyItem } from '../../collector/rrd/types.js';
import { tempDir } from '../helpers/proc.js';

const T0 = 1_700_000_000;
const DEF: SeriesDef = {
  step: 10,
  ds: [{ name: 'value', type: 'GAUGE', heartbeat: 25, min: NaN, max: NaN }],
  rra: [{ cf: 'AVERAGE', xff: 0.5, pdpPerRow: 1, rows: 100 }],
};

describe('metric store thread: writes merged into one commit', () => {
  const dirs: Array<{ cleanup(): void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });

  it('each of several writes sent at once gets its own answer; a bad item fails in its own write; a failed creation fails its write alone', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'm.db');
    const store = await ThreadedRrdStore.open(path, { create: true });
    try {
      await store.write([{ name: 'h0\u0000taken', def: DEF, start: T0 - 1 }], [{ series: 'h0\u0000taken', args: [`${T0}:1`] }]);
      // a first write heavy enough that the next ones arrive while it runs
      const big = Array.from({ length: 3000 }, (_, k) => `big\u0000m.${k}`);
      const writes: Array<Promise<unknown>> = [
        store.write(
          big.map((name) => ({ name, def: DEF, start: T0 - 1 })),
          big.map((series) => ({ series, args: [`${T0}:1`] })),
        ),
      ];
      const hosts = Array.from({ length: 6 }, (_, h) => `h${h + 1}`);
      for (const h of hosts) {
        const creates = [{ name: `${h}\u0000a`, def: DEF, start: T0 - 1 }];
        const items: UpdateManyItem[] = [{ series: `${h}\u0000a`, args: [`${T0}:1`, `${T0 + 10}:2`] }];
        // h3 also sends a value older than the series' last update: that item's error is h3's
        if (h === 'h3') items.push({ series: 'h0\u0000taken', args: [`${T0 - 5}:9`] });
        // h5 creates a series that exists: its write fails, the others are stored
        if (h === 'h5') creates.push({ name: 'h0\u0000taken', def: DEF, start: T0 - 1 });
        writes.push(store.write(creates, items));
      }
      const answers = await Promise.allSettled(writes);
      expect(answers[0]).toMatchObject({ status: 'fulfilled', value: { accepted: big.map(() => 1) } });
      hosts.forEach((h, i) => {
        const a = answers[i + 1]!;
        if (h === 'h5') {
          expect(a.status).toBe('rejected');
          expect((a as PromiseRejectedResult).reason).toBeInstanceOf(StoreWriteError);
          expect(((a as PromiseRejectedResult).reason as StoreWriteError).stage).toBe('create');
          return;
        }
        expect(a.status).toBe('fulfilled');
        const v = (a as PromiseFulfilledResult<{ accepted: number[]; errors: Map<number, Error> }>).value;
        if (h === 'h3') {
          expect(v.accepted).toEqual([2, 0]);
          expect([...v.errors.keys()]).toEqual([1]);
          expect(v.errors.get(1)!.message).toMatch(/minimum one second step|last update/);
        } else {
          expect(v.accepted).toEqual([2]);
          expect(v.errors.size).toBe(0);
        }
      });
    } finally {
      await store.closeAsync();
    }
    const reopened = openRrdStore(path);
    try {
      const names = new Set(reopened.list());
      for (const h of ['h1', 'h2', 'h3', 'h4', 'h6']) {
        expect(names.has(`${h}\u0000a`)).toBe(true);
        expect(reopened.info(`${h}\u0000a`).state.lastUp).toBe(T0 + 10);
      }
      expect(names.has('h5\u0000a')).toBe(false);
      expect(reopened.info('h0\u0000taken').state.lastUp).toBe(T0);
      expect(names.size).toBe(1 + 3000 + 5);
    } finally {
      reopened.close();
    }
  });

  it('a write that creates no series is committed between the slices of a creating write and before creating writes that waited with it, each with its own answer', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const store = await ThreadedRrdStore.open(join(dir.path, 'm.db'), { create: true });
    try {
      await store.write([{ name: 'old\u0000a', def: DEF, start: T0 - 1 }], [{ series: 'old\u0000a', args: [`${T0}:1`] }]);
      const many = (host: string, n: number) => Array.from({ length: n }, (_, k) => `${host}\u0000m.${k}`);
      const order: string[] = [];
      const creating = (host: string) => {
        const names = many(host, 2000);
        return store.write(names.map((name) => ({ name, def: DEF, start: T0 - 1 })), names.map((series) => ({ series, args: [`${T0}:1`] }))).then((r) => {
          order.push(host);
          return r;
        });
      };
      // the first keeps the thread busy (four slices of creations) while the others arrive; the
      // ordinary one is committed after its first slice, the second creating one after it
      const first = creating('new1');
      const second = creating('new2');
      const plain = store.write([], [{ series: 'old\u0000a', args: [`${T0 + 10}:2`] }]).then((r) => {
        order.push('old');
        return r;
      });
      const answers = await Promise.all([first, second, plain]);
      expect(order).toEqual(['old', 'new1', 'new2']);
      expect(answers[2].accepted).toEqual([1]);
      expect(answers[1].accepted.every((n) => n === 1)).toBe(true);
      // where the write's time went on the thread, for the request's Server-Timing
      for (const a of answers) for (const k of ['wait', 'create', 'commit'] as const) expect(a.phases[k]).toBeGreaterThanOrEqual(0);
    } finally {
      await store.closeAsync();
    }
  });
});
