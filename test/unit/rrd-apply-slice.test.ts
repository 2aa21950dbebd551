// A journal slice of the metric store thread has a time (APPLY_SLICE_MS) for applying and for
// its commit together: it stops applying when what its commit will take, as the last slices
// measured, still fits.
import { describe, expect, it } from 'vitest';
import { applyDeadline, nextCommitPerApply } from '../../collector/rrd/sqlite-journal.js';

describe('journal slices: applying and committing within the slice time', () => {
  it.each([
    // start, until, commit ms per ms of applying → stop applying at
    [100, 108, 0, 108],
    [100, 108, 1, 104],
    [100, 108, 3, 102],
    // a commit far slower than applying still leaves a tenth of the slice to apply
    [100, 108, 50, 100.8],
  ])('a slice from %d to %d with %d ms of commit per ms applied stops applying at %d', (start, until, ratio, stop) => {
    expect(applyDeadline(start, until, ratio)).toBeCloseTo(stop, 9);
  });

  it('the ratio follows the slices measured, bounded, and ignores slices that applied almost nothing', () => {
    let r = 1;
    // commits 4x the applying, slice after slice: the estimate converges on 4
    for (let i = 0; i < 30; i++) r = nextCommitPerApply(r, 2, 8);
    expect(r).toBeCloseTo(4, 3);
    expect(nextCommitPerApply(r, 0.1, 50)).toBe(r);
    // one commit stalled 1 s on the disk moves it, bounded
    const stalled = nextCommitPerApply(r, 1, 1000);
    expect(stalled).toBeCloseTo(0.7 * r + 0.3 * 20, 9);
    // and it comes back down as commits are quick again
    let back = stalled;
    for (let i = 0; i < 30; i++) back = nextCommitPerApply(back, 4, 2);
    expect(back).toBeCloseTo(0.5, 3);
  });
});
