// The journal's pending updates: oldest series first, whole series per take, and the journal
// rows that can go are those before the oldest pending argument.
import { describe, expect, it } from 'vitest';
import { PendingUpdates } from '../../collector/rrd/pending.js';

describe('pending journal updates', () => {
  it('gives out the longest-waiting series first, whole, until the budget is spent', () => {
    const p = new PendingUpdates();
    p.add(7, 1, 'a1');
    p.add(3, 1, 'b1');
    p.add(7, 2, 'a2');
    p.add(5, 3, 'c1');
    p.add(3, 3, 'b2');
    expect(p.size).toBe(5);
    expect([...p.takeOldest(3)]).toEqual([
      [7, ['a1', 'a2']],
      [3, ['b1', 'b2']],
    ]);
    expect(p.size).toBe(1);
    // series 5 waits since row 3: rows 1 and 2 are no longer needed
    expect(p.releasedUpTo(9)).toBe(2);
    // a series taken and journaled again goes to the back of the line
    p.add(7, 4, 'a3');
    expect(p.take(5)).toEqual(['c1']);
    expect(p.take(5)).toBeUndefined();
    expect(p.releasedUpTo(9)).toBe(3);
    expect([...p.takeOldest(100)]).toEqual([[7, ['a3']]]);
    expect(p.size).toBe(0);
    expect(p.releasedUpTo(9)).toBe(9);
  });
});
