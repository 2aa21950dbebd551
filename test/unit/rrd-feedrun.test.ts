// collector/rrd/consolidate.ts feedRun writes the rows a run of PDPs completes; only the last
// `rows` of them survive in the ring. The loop once counted row indexes (`r <= full; r++`), which
// never ends once `full` passes 2^53: one metric sample at ts 1e20 spun the collector for good
// (test/security/collector-dos.test.ts). The sink below refuses more puts than an archive can
// hold, so a loop that does not end fails here instead of hanging the worker.
import { describe, expect, it } from 'vitest';
import { feedRun, type RowSink } from '../../collector/rrd/consolidate.js';
import type { SeriesDef, SeriesState } from '../../collector/rrd/types.js';

function setup(pdpPerRow: number, rows: number): { def: SeriesDef; state: SeriesState } {
  const def: SeriesDef = { step: 10, ds: [{ name: 'g', type: 'GAUGE', heartbeat: 20, min: NaN, max: NaN }] as SeriesDef['ds'], rra: [{ cf: 'AVERAGE', xff: 0.5, pdpPerRow, rows }] };
  const state: SeriesState = { lastUp: 0, ds: [{ lastDs: 'U', scratch: 0, unknSec: 0 }], cdp: [[{ val: NaN, unkn: 0, primary: NaN, secondary: NaN }]] };
  return { def, state };
}

function boundedSink(limit: number): RowSink & { puts: number[] } {
  const puts: number[] = [];
  return {
    puts,
    put(_rra, rowIndex) {
      puts.push(rowIndex);
      if (puts.length > limit) throw new Error(`more than ${limit} rows put: the loop does not end`);
    },
  };
}

describe('feedRun', () => {
  it('writes the row it closes and the newest `rows` full rows, in order', () => {
    const { def, state } = setup(1, 5);
    const sink = boundedSink(6);
    feedRun(def, state, 0, 7, 100, [3], sink);
    expect(sink.puts).toEqual([7, 102, 103, 104, 105, 106]);
  });

  it('with several PDPs per row: one closing row, then at most `rows` rows', () => {
    const { def, state } = setup(6, 4);
    const sink = boundedSink(5);
    feedRun(def, state, 0, 5, 6 * 50, [3], sink);
    // k = 5: the first row closes at PDP 6 (index 1); 300 PDPs end at 304: rows up to 50, the rest pending
    expect(sink.puts).toEqual([1, 47, 48, 49, 50]);
    expect(state.cdp[0]![0]!.val).toBe(3 * 4); // 4 PDPs of row 51 accumulated
  });

  it.each([
    ['a run ending past 2^53 rows', 1e16, 1e17],
    ['a run starting and ending past 2^53', 1e18, 1e17],
    ['a gap of 1e19 PDPs', 10, 1e19],
  ])('%s ends after at most rows + 1 puts', (_what, k, count) => {
    for (const [n, rows] of [[1, 8640], [6, 1440], [360, 24]] as const) {
      const { def, state } = setup(n, rows);
      const sink = boundedSink(rows + 1);
      feedRun(def, state, 0, k, count, [1], sink);
      expect(sink.puts.length).toBeGreaterThan(1);
      expect(sink.puts.length).toBeLessThanOrEqual(rows + 1);
    }
  });
});
