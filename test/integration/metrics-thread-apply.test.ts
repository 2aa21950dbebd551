// The metric store thread applies its journal between writes (collector/metrics/store-worker.ts):
// a write only journals and is answered; once `checkpointUpdates` updates are pending the thread
// applies them in short slices between writes, and a WAL checkpointer thread copies the WAL
// back. What it applies in the background must be what rrdtool's order of updates gives: the
// archives end exactly as a store that applied every update directly, before and after a
// reopen, and the journal shrinks below the threshold without any read asking for it.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ThreadedRrdStore } from '../../collector/metrics/store-thread.js';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import { decodeState } from '../../collector/rrd/state-codec.js';
import type { SeriesDef, UpdateManyItem } from '../../collector/rrd/types.js';
import { tempDir, waitFor } from '../helpers/proc.js';

const T0 = 1_700_000_000;
const DEF: SeriesDef = {
  step: 10,
  ds: [{ name: 'value', type: 'GAUGE', heartbeat: 25, min: NaN, max: NaN }],
  rra: [
    { cf: 'AVERAGE', xff: 0.5, pdpPerRow: 1, rows: 600 },
    { cf: 'AVERAGE', xff: 0.5, pdpPerRow: 6, rows: 100 },
    { cf: 'MAX', xff: 0.5, pdpPerRow: 6, rows: 100 },
  ],
};
const SERIES = 20;
const ROUNDS = 90;
const THRESHOLD = 300;

describe('metric store thread: the journal applied between writes', () => {
  const dirs: Array<{ cleanup(): void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });

  it('writes past the threshold are answered; the thread applies the journal below it on its own; archives equal a direct store, also after reopening', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = join(dir.path, 'threaded.db');
    const store = await ThreadedRrdStore.open(path, { create: true, checkpointUpdates: THRESHOLD });
    const direct = openRrdStore(join(dir.path, 'direct.db'), { create: true, journal: false });
    const names = Array.from({ length: SERIES }, (_, k) => `host\u0000m.${k}`);
    direct.createMany(names.map((name) => ({ name, def: DEF, start: T0 - 1 })));
    // a gap now and then: unknown rows, heartbeat breaches
    const times = Array.from({ length: ROUNDS }, (_, r) => T0 + 10 * r + 40 * Math.floor(r / 17) + 3 * (r % 3));
    for (let r = 0; r < ROUNDS; r++) {
      const t = times[r]!;
      const items: UpdateManyItem[] = names.map((series, k) => ({ series, args: [`${t}:${(r * 7 + k * 3) % 23}.${k}`] }));
      const creates = r === 0 ? names.map((name) => ({ name, def: DEF, start: T0 - 1 })) : [];
      const res = await store.write(creates, items);
      expect(res.errors.size).toBe(0);
      expect(res.accepted).toEqual(names.map(() => 1));
      direct.updateMany(items);
    }
    // Only the thread's own loop applies here (no read has asked): read from the database file,
    // fewer than THRESHOLD updates stay unapplied (rounds newer than a series' stored last
    // update). The journal's row count says nothing here: a row goes only once every series has
    // applied it, and the thread applies whole series, oldest first, until below the threshold.
    const db = new Database(path, { readonly: true });
    try {
      await waitFor('the journal applied below the threshold', () => {
        const states = db.prepare('SELECT state FROM rrd_series').pluck().all() as string[];
        const unapplied = states.reduce((n, s) => n + times.filter((t) => t > decodeState(s).lastUp).length, 0);
        return states.length === SERIES && unapplied < THRESHOLD;
      }, 20_000);
    } finally {
      db.close();
    }
    const last = T0 + 10 * ROUNDS + 40 * Math.floor(ROUNDS / 17) + 10;
    const fetchAll = (s: { fetch: ThreadedRrdStore['fetch'] }) =>
      names.flatMap((n) => (['AVERAGE', 'MAX'] as const).flatMap((cf) => [60, 10].map((resolution) => s.fetch(n, cf, { start: T0 - 600, end: last, resolution }))));
    const want = fetchAll(direct);
    expect(fetchAll(store)).toEqual(want);
    expect(names.map((n) => store.info(n).state)).toEqual(names.map((n) => direct.info(n).state));
    await store.closeAsync();
    const reopened = openRrdStore(path);
    try {
      expect(fetchAll(reopened)).toEqual(want);
    } finally {
      reopened.close();
      direct.close();
    }
  });
});
