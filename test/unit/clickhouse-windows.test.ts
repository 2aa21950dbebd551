// The day windows of a ClickHouse page (collector/storage/clickhouse/windows.ts): the newest
// day, the 7 before it, then the rest; only days that can hold the page's lines count.
import { describe, expect, it } from 'vitest';
import { DAY_MS, windowBounds } from '../../collector/storage/clickhouse/windows.js';

const days = (n: number, newest = 20_700) => Array.from({ length: n }, (_, i) => newest - i);

describe('windowBounds', () => {
  it('reads few days in one query', () => {
    expect(windowBounds([])).toEqual([]);
    expect(windowBounds(days(2))).toEqual([]);
  });

  it('splits off the newest day, then the 7 before it', () => {
    expect(windowBounds(days(3))).toEqual([20_700 * DAY_MS]);
    expect(windowBounds(days(8))).toEqual([20_700 * DAY_MS]);
    expect(windowBounds(days(30))).toEqual([20_700 * DAY_MS, 20_693 * DAY_MS]);
    // days with gaps: the 8th day that holds parts, not the 8th calendar day
    expect(windowBounds([20_700, 20_690, 20_680, 20_670, 20_660, 20_650, 20_640, 20_630, 20_620])).toEqual([20_700 * DAY_MS, 20_630 * DAY_MS]);
  });

  it('counts only the days inside the page limits', () => {
    // the newest ts a page can hold (end - 1, or a cursor's ts) is on day 20,690
    expect(windowBounds(days(30), 20_690 * DAY_MS + 5)).toEqual([20_690 * DAY_MS, 20_683 * DAY_MS]);
    // a start on day 20,698 leaves three days: 20,700, 20,699, 20,698
    expect(windowBounds(days(30), undefined, 20_698 * DAY_MS + 1)).toEqual([20_700 * DAY_MS]);
    expect(windowBounds(days(30), 20_699 * DAY_MS, 20_698 * DAY_MS)).toEqual([]);
  });
});
