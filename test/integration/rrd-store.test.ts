// The store's contract through its SQLite backend: many series in one file, updateMany with
// per-item errors (items before and after a bad one still apply), reopening applies a pending
// journal, a series grows with its rows up to its bound and no further, delete frees the series; reads
// apply only their own series' pending updates and the journal is applied in slices, without
// ever applying an update twice.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { boundBytes } from '../../collector/rrd/chunks.js';
import { parseDefs } from '../../collector/rrd/defs.js';
import { MemorySeries } from '../../collector/rrd/memory.js';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import { tempDir } from '../helpers/proc.js';

const T0 = 1_000_000_000;
const LAYOUT = ['DS:v:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:100', 'RRA:MAX:0.5:6:50', 'RRA:AVERAGE:0.5:60:20'];

describe('SQLite round-robin store', () => {
  const dir = tempDir('ringtail-rrd-store-');
  afterAll(() => dir.cleanup());
  const def = parseDefs(LAYOUT, 10);

  it('updateMany: one bad item does not stop the others; a bad argument keeps those before it', () => {
    const store = openRrdStore(join(dir.path, 'many.db'), { create: true });
    try {
      for (const n of ['a', 'b', 'c']) store.create(n, def, { start: T0 });
      const res = store.updateMany([
        { series: 'a', args: [`${T0 + 10}:1`, `${T0 + 20}:2`] },
        { series: 'b', args: [`${T0 + 10}:1`, `${T0 + 10}:2`, `${T0 + 30}:3`] },
        { series: 'nope', args: [`${T0 + 10}:1`] },
        { series: 'c', args: [`${T0 + 10}:x`] },
        { series: 'a', args: [`${T0 + 30}:3`] },
      ]);
      expect(res.accepted).toEqual([2, 1, 0, 0, 1]);
      expect([...res.errors.keys()]).toEqual([1, 2, 3]);
      expect(res.errors.get(1)!.message).toBe(`illegal attempt to update using time ${T0 + 10} when last update time is ${T0 + 10} (minimum one second step)`);
      expect(res.errors.get(2)!.message).toContain("no series 'nope'");
      expect(store.info('a').state.lastUp).toBe(T0 + 30);
      expect(store.info('b').state.lastUp).toBe(T0 + 10);
      expect(store.info('c').state.lastUp).toBe(T0);
    } finally {
      store.close();
    }
  });

  it('matches the in-memory series row for row, across reopen with a pending journal', () => {
    const path = join(dir.path, 'reopen.db');
    let store = openRrdStore(path, { create: true, checkpointUpdates: 1_000_000 });
    const mem = new MemorySeries(def, T0);
    store.create('s', def, { start: T0 });
    const args: string[] = [];
    for (let i = 1; i <= 500; i++) args.push(`${T0 + i * 7}:${(i * 37) % 101}`);
    store.updateMany([{ series: 's', args: args.slice(0, 250) }]);
    // simulate a crash: the journal is committed but never applied by this handle
    (store as unknown as { db: { close(): void } }).db.close();
    store = openRrdStore(path);
    store.update('s', args.slice(250));
    mem.update(...args);
    for (const cf of ['AVERAGE', 'MAX'] as const) {
      const a = store.fetch('s', cf, { start: T0, end: T0 + 3600 });
      const b = mem.fetch(cf, T0, T0 + 3600);
      expect(a.step).toBe(b.step);
      expect(Array.from(a.data)).toEqual(Array.from(b.data));
    }
    store.close();
  });

  it('a series grows with the rows it writes, up to the bound set at creation and no further', () => {
    const sizes: number[] = [];
    const chunkBytes: number[] = [];
    // two minutes, a day and a week of 10 s values: the day already wraps every ring of LAYOUT
    for (const seconds of [120, 86_400, 7 * 86_400]) {
      const path = join(dir.path, `grow-${seconds}.db`);
      // direct mode, so that no journal pages (reused between checkpoints) are counted
      const store = openRrdStore(path, { create: true, journal: false });
      store.create('s', def, { start: T0 });
      const args: string[] = [];
      for (let t = T0 + 10; t <= T0 + seconds; t += 10) args.push(`${t}:1`);
      store.update('s', args);
      sizes.push(store.compactSize());
      chunkBytes.push((store as unknown as { db: { prepare(sql: string): { pluck(): { get(): number } } } }).db.prepare('SELECT sum(length(data)) FROM rrd_chunk').pluck().get());
      store.close();
      expect(statSync(path).size).toBe(sizes[sizes.length - 1]);
    }
    // two minutes take their rows, not the archives' bound
    expect(chunkBytes[0]).toBeLessThan(boundBytes(def) / 4);
    expect(sizes[0]).toBeLessThanOrEqual(sizes[1]!);
    // wrapped: every row of every archive, known, at full extent — and no more a week later
    expect(chunkBytes[1]).toBe(boundBytes(def));
    expect(chunkBytes[2]).toBe(chunkBytes[1]);
    expect(sizes[2]).toBe(sizes[1]);
  });

  it('a slice files a long journal by series a step at a time before applying; the archives end as if it had been filed at once', () => {
    const ahead = openRrdStore(join(dir.path, 'ahead.db'), { create: true, autoApply: false });
    const lazy = openRrdStore(join(dir.path, 'lazy.db'), { create: true, autoApply: false });
    try {
      const names = Array.from({ length: 300 }, (_, k) => `s${k}`);
      for (const s of [ahead, lazy]) s.createMany(names.map((name) => ({ name, def, start: T0 })));
      // 30 rounds of 300 series: 9,000 updates in 30 journal rows, more than one step of 4,096
      for (let r = 1; r <= 30; r++) {
        const items = names.map((series, k) => ({ series, args: [`${T0 + 10 * r}:${(r * 7 + k) % 13}`] }));
        ahead.updateMany(items);
        lazy.updateMany(items);
      }
      expect(ahead.unsortedUpdates).toBe(9_000);
      // a slice whose time is already up: one step of filing, nothing applied
      expect(ahead.applyUntil(performance.now() - 1)).toBe(0);
      expect(ahead.unsortedUpdates).toBe(9_000 - 4_096);
      expect(ahead.pendingUpdates).toBe(9_000);
      // the next slices file the rest (less than a step is filed by the applying itself)
      expect(ahead.applyUntil(performance.now() - 1)).toBe(0);
      expect(ahead.unsortedUpdates).toBe(9_000 - 2 * 4_096);
      expect(ahead.applyUntil(performance.now() - 1)).toBeGreaterThan(0);
      expect(ahead.unsortedUpdates).toBe(0);
      // the other store's journal filed whole by its first slice (a whole checkpoint)
      lazy.checkpoint();
      expect(lazy.pendingUpdates).toBe(0);
      while (ahead.pendingUpdates > 0) ahead.applyUntil(performance.now() + 2);
      for (const name of names) {
        const a = ahead.fetch(name, 'AVERAGE', { start: T0, end: T0 + 300 });
        const b = lazy.fetch(name, 'AVERAGE', { start: T0, end: T0 + 300 });
        expect(Array.from(a.data)).toEqual(Array.from(b.data));
        expect(ahead.info(name).state.lastUp).toBe(T0 + 300);
      }
    } finally {
      ahead.close();
      lazy.close();
    }
  });

  it('delete removes a series and its archives', () => {
    const store = openRrdStore(join(dir.path, 'del.db'), { create: true });
    try {
      store.create('x', def, { start: T0 });
      store.create('y', def, { start: T0 });
      expect(store.delete('x')).toBe(true);
      expect(store.delete('x')).toBe(false);
      expect(store.list()).toEqual(['y']);
      expect(() => store.info('x')).toThrow(/no series 'x'/);
    } finally {
      store.close();
    }
  });

  it("deleteMany: the existing ones in one commit; a deleted series' journal lines never reach the series that takes its id", () => {
    const path = join(dir.path, 'del-many.db');
    const store = openRrdStore(path, { create: true });
    let after: ReturnType<typeof openRrdStore> | undefined;
    try {
      for (const n of ['a', 'b', 'c']) store.create(n, def, { start: T0 });
      store.updateMany(['a', 'b', 'c'].map((n) => ({ series: n, args: [`${T0 + 10}:7`] })));
      expect(store.pendingUpdates).toBe(3);
      // not the highest id: no new series takes it, its journal line stays (no checkpoint)
      expect(store.deleteMany(['b', 'nope'])).toBe(1);
      expect(store.pendingUpdates).toBe(2);
      // the highest: the journal is applied first, so no line of it is left for the next id
      expect(store.deleteMany(['c'])).toBe(1);
      expect(store.pendingUpdates).toBe(0);
      expect(store.deleteMany(['c'])).toBe(0);
      store.create('d', def, { start: T0 });
      store.updateMany([{ series: 'd', args: [`${T0 + 20}:9`] }]);
      // a crash now: another handle opens the file and replays the journal
      after = openRrdStore(path);
      expect(after.list()).toEqual(['a', 'd']);
      expect(after.info('a').state.lastUp).toBe(T0 + 10);
      const d = after.fetch('d', 'AVERAGE', { start: T0, end: T0 + 20 });
      expect(Array.from(d.data).filter((v) => !Number.isNaN(v))).toEqual([9, 9]);
    } finally {
      after?.close();
      store.close();
    }
  });

  it('createMany: all series in one commit, the same as one create each; all or nothing', () => {
    const path = join(dir.path, 'create-many.db');
    let store = openRrdStore(path, { create: true });
    try {
      store.create('one', def, { start: T0 });
      store.createMany([
        { name: 'm1', def, start: T0 },
        { name: 'm2', def, start: T0 + 5 },
      ]);
      // an existing name, a duplicate in the list, a bad definition: nothing of the call is written
      expect(() => store.createMany([{ name: 'm3', def }, { name: 'one', def }])).toThrow(/creating 'one': File exists/);
      expect(() => store.createMany([{ name: 'm4', def }, { name: 'm4', def }])).toThrow(/creating 'm4': File exists/);
      const tooMany = { ...def, rra: Array.from({ length: 100 }, () => def.rra[0]!) };
      expect(() => store.createMany([{ name: 'm5', def }, { name: 'm6', def: tooMany }])).toThrow(/RRAs per series/);
      expect(store.list()).toEqual(['m1', 'm2', 'one']);
    } finally {
      store.close();
    }
    store = openRrdStore(path);
    try {
      expect(store.info('m2').state.lastUp).toBe(T0 + 5);
      const args = Array.from({ length: 30 }, (_, i) => `${T0 + 10 * (i + 1)}:${i}`);
      for (const n of ['one', 'm1']) store.update(n, args);
      const one = store.fetch('one', 'AVERAGE', { start: T0, end: T0 + 300 });
      expect(store.fetch('m1', 'AVERAGE', { start: T0, end: T0 + 300 })).toEqual(one);
      expect([...one.data].filter((v) => !Number.isNaN(v)).length).toBeGreaterThan(20);
    } finally {
      store.close();
    }
  });

  it('createMany with deferSync: the handle goes back to fsync per commit; the series and the updates after it survive reopening', () => {
    const path = join(dir.path, 'defer.db');
    let store = openRrdStore(path, { create: true });
    const sync = (): number => (store as unknown as { db: { pragma(p: string, o: { simple: true }): number } }).db.pragma('synchronous', { simple: true });
    expect(sync()).toBe(2); // FULL
    store.createMany([{ name: 'd1', def, start: T0 }], { deferSync: true });
    expect(sync()).toBe(2);
    expect(() => store.createMany([{ name: 'd1', def }], { deferSync: true })).toThrow(/File exists/);
    expect(sync()).toBe(2);
    store.update('d1', [`${T0 + 10}:4`, `${T0 + 20}:5`]);
    store.close();
    store = openRrdStore(path);
    try {
      expect(store.info('d1').state.lastUp).toBe(T0 + 20);
    } finally {
      store.close();
    }
  });

  it('reads and sliced checkpoints interleave without applying an update twice', () => {
    const path = join(dir.path, 'sliced.db');
    // a slice every call once 300 updates are pending, at least 250 updates per slice
    let store = openRrdStore(path, { create: true, checkpointUpdates: 300, checkpointSlice: 250 });
    const names = ['a', 'b', 'c', 'd'];
    const mems = new Map(names.map((n) => [n, new MemorySeries(def, T0)]));
    for (const n of names) store.create(n, def, { start: T0 });
    const journalRows = () => (store as unknown as { db: { prepare(sql: string): { pluck(): { get(): number } } } }).db.prepare('SELECT count(*) FROM rrd_journal').pluck().get();
    let maxRows = 0;
    for (let r = 1; r <= 400; r++) {
      const t = T0 + r * 7;
      const items = names.map((n, i) => ({ series: n, args: [`${t}:${(r * (i + 3)) % 97}`] }));
      const res = store.updateMany(items);
      expect(res.errors.size).toBe(0);
      for (const it of items) mems.get(it.series)!.update(...it.args);
      maxRows = Math.max(maxRows, journalRows());
      // reads of one series in between: they apply that series' pending arguments early
      if (r % 37 === 0) store.fetch(names[r % 4]!, 'AVERAGE', { start: T0, end: t });
      if (r === 250) {
        // a crash after reads applied some updates ahead of the journal: reopening replays it
        (store as unknown as { db: { close(): void } }).db.close();
        store = openRrdStore(path, { checkpointUpdates: 300, checkpointSlice: 250 });
      }
    }
    // the journal stays within the threshold plus a slice instead of growing with the calls
    // (each journal row holds one update of every series)
    expect(maxRows).toBeLessThanOrEqual((300 + 250) / names.length);
    const end = T0 + 400 * 7;
    for (const n of names) {
      for (const cf of ['AVERAGE', 'MAX'] as const) {
        const a = store.fetch(n, cf, { start: T0, end });
        const b = mems.get(n)!.fetch(cf, T0, end);
        expect(Array.from(a.data), `${n} ${cf}`).toEqual(Array.from(b.data));
      }
    }
    store.close();
    store = openRrdStore(path);
    expect(Array.from(store.fetch('a', 'AVERAGE', { start: T0, end }).data)).toEqual(Array.from(mems.get('a')!.fetch('AVERAGE', T0, end).data));
    store.close();
  });

  it('a series created again over an old one with pending updates gets none of them', () => {
    const store = openRrdStore(join(dir.path, 'overwrite.db'), { create: true, checkpointUpdates: 1_000_000 });
    try {
      store.create('x', def, { start: T0 });
      store.update('x', [`${T0 + 10}:5`, `${T0 + 20}:6`, `${T0 + 30}:7`]);
      store.create('x', def, { start: T0, overwrite: true });
      expect(store.info('x').state.lastUp).toBe(T0);
      const rows = Array.from(store.fetch('x', 'AVERAGE', { start: T0, end: T0 + 40 }).data);
      expect(rows.every((v) => Number.isNaN(v))).toBe(true);
    } finally {
      store.close();
    }
  });

  it("a checkpoint applies journal rows another handle wrote, not only its own pending arguments", () => {
    // checkpoint() takes its own pending arguments instead of re-reading the journal only when
    // every journal row is its own; a row from a second handle must still reach the archives.
    const path = join(dir.path, 'two-handles.db');
    const a = openRrdStore(path, { create: true, checkpointUpdates: 1_000_000 });
    a.create('x', def, { start: T0 });
    a.create('y', def, { start: T0 });
    const b = openRrdStore(path, { checkpointUpdates: 1_000_000 });
    try {
      a.update('x', [`${T0 + 10}:1`, `${T0 + 20}:2`]);
      b.update('y', [`${T0 + 10}:3`, `${T0 + 20}:4`]);
      a.update('x', [`${T0 + 30}:5`]);
      a.checkpoint();
      const c = openRrdStore(path);
      try {
        expect(c.info('x').state.lastUp).toBe(T0 + 30);
        expect(c.info('y').state.lastUp).toBe(T0 + 20);
        expect(Array.from(c.fetch('y', 'AVERAGE', { start: T0, end: T0 + 10 }).data)).toEqual([3, 4]);
      } finally {
        c.close();
      }
    } finally {
      b.close();
      a.close();
    }
  });
});
