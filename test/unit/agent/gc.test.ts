// The agent's own full collections: fullGc() really collects, and the schedule runs one after
// GC_LINES sealed lines or GC_INTERVAL_MS, whichever comes first, and not more often.
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { fullGc, GC_INTERVAL_MS, GC_LINES, GcSchedule } from '../../../agent/gc.js';

describe('fullGc', () => {
  it('frees an object no longer referenced', async () => {
    let target: object | undefined = { big: new Array(1000).fill(7) };
    const ref = new WeakRef(target);
    target = undefined;
    // A WeakRef's target is kept until the end of the job that created or read it.
    await tick();
    fullGc();
    expect(ref.deref()).toBeUndefined();
  });
});

describe('GcSchedule', () => {
  it('collects after GC_LINES sealed lines, or after GC_INTERVAL_MS without one', () => {
    let now = 0;
    let runs = 0;
    const s = new GcSchedule(() => now, () => runs++);
    s.sealed(GC_LINES - 1);
    s.tick();
    expect(runs).toBe(0);
    s.sealed(1);
    expect(runs).toBe(1);
    s.sealed(GC_LINES - 1);
    expect(runs).toBe(1);
    now += GC_INTERVAL_MS - 1;
    s.tick();
    expect(runs).toBe(1);
    now += 1;
    s.tick();
    expect(runs).toBe(2);
    // The timer's collection restarted the line count.
    s.sealed(1);
    expect(runs).toBe(2);
    s.tick();
    expect(runs).toBe(2);
  });
});
