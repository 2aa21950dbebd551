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

  it('rows added whole (addLines) are filed under their series in journal order, as one add each', () => {
    // the same journal through add() one argument at a time and through addLines() per row
    const rows: Array<[row: number, text: string, lines: Array<[series: number, start: number, end: number]>]> = [
      [1, 'a1\nb1', [[7, 0, 2], [3, 3, 5]]],
      [2, 'a2', [[7, 0, 2]]],
      [3, 'c1\nb2\na3', [[5, 0, 2], [3, 3, 5], [7, 6, 8]]],
    ];
    const one = new PendingUpdates();
    const whole = new PendingUpdates();
    for (const [row, text, lines] of rows) {
      for (const [series, start, end] of lines) one.add(series, row, text.slice(start, end));
      const b = whole.addBody(text);
      whole.addLines(row, b, lines.map((l) => l[0]), lines.map((l) => l[1]), lines.map((l) => l[2]), lines.length);
    }
    expect(whole.size).toBe(6);
    expect(whole.releasedUpTo(9)).toBe(one.releasedUpTo(9));
    expect(whole.take(3)).toEqual(one.take(3));
    expect(whole.size).toBe(one.size);
    // a row added after a query is filed behind the earlier ones
    whole.addLines(4, whole.addBody('b3'), [3], [0], [2], 1);
    one.add(3, 4, 'b3');
    expect([...whole.takeOldest(Infinity)]).toEqual([...one.takeOldest(Infinity)]);
    expect(whole.size).toBe(0);
    expect(whole.releasedUpTo(9)).toBe(9);
    // clear() drops rows not yet filed
    whole.addLines(5, whole.addBody('z'), [1], [0], [1], 1);
    whole.clear();
    expect(whole.size).toBe(0);
    expect([...whole.takeOldest(Infinity)]).toEqual([]);
  });

  it('rows filed ahead in parts (sortSome) give the same series, order and released rows as filing at the first query', () => {
    const rows: Array<[row: number, text: string, lines: Array<[series: number, start: number, end: number]>]> = [
      [1, 'a1\nb1\nc1', [[7, 0, 2], [3, 3, 5], [5, 6, 8]]],
      [2, 'a2\nd1', [[7, 0, 2], [9, 3, 5]]],
      [3, 'b2\na3\nc2\nd2', [[3, 0, 2], [7, 3, 5], [5, 6, 8], [9, 9, 11]]],
    ];
    const fill = (p: PendingUpdates) => {
      for (const [row, text, lines] of rows) p.addLines(row, p.addBody(text), lines.map((l) => l[0]), lines.map((l) => l[1]), lines.map((l) => l[2]), lines.length);
    };
    const lazy = new PendingUpdates();
    const ahead = new PendingUpdates();
    fill(lazy);
    fill(ahead);
    expect(ahead.unsortedLines).toBe(9);
    // two lines at a time: row 1 is filed in two parts, row 3 in two
    const left: number[] = [];
    while (ahead.unsortedLines > 0) left.push(ahead.sortSome(2));
    expect(left).toEqual([7, 5, 3, 1, 0]);
    expect(ahead.size).toBe(9);
    expect(ahead.releasedUpTo(9)).toBe(lazy.releasedUpTo(9));
    // a row that comes after a part was filed goes behind it
    for (const p of [lazy, ahead]) p.addLines(4, p.addBody('e1\na4'), [11, 7], [0, 3], [2, 5], 2);
    expect(ahead.sortSome(1)).toBe(1);
    expect([...ahead.takeOldest(5)]).toEqual([...lazy.takeOldest(5)]);
    expect(ahead.releasedUpTo(9)).toBe(lazy.releasedUpTo(9));
    expect([...ahead.takeOldest(Infinity)]).toEqual([...lazy.takeOldest(Infinity)]);
    expect(ahead.size).toBe(0);
    expect(ahead.unsortedLines).toBe(0);
  });
});
