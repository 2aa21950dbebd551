// PDP and consolidation arithmetic, table-driven. Expected values are rrdtool 1.7.2's own
// outputs for the same commands (REFERENCE.md §1 and runs of the real binary noted per case).
import { describe, expect, it } from 'vitest';
import { formatFetch } from '../../collector/rrd/format.js';
import { MemorySeries } from '../../collector/rrd/memory.js';
import { fetchRow } from '../../collector/rrd/types.js';
import { RRD_EXAMPLE, RRD_EXAMPLE_ARGS } from '../fixtures/rrd-example.js';

const T = 1_000_000_000;

function rowsOf(s: MemorySeries, cf: 'AVERAGE' | 'MIN' | 'MAX' | 'LAST', start: number, end: number): Array<[number, number[]]> {
  const r = s.fetch(cf, start, end);
  return Array.from({ length: r.rowCount }, (_, i) => {
    const row = fetchRow(r, i);
    return [row.time, row.values];
  });
}

function near(actual: number, expected: number): boolean {
  if (Number.isNaN(expected)) return Number.isNaN(actual);
  return Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected));
}

describe('PDPs: values over (previous update, t], time-weighted, half-step unknown rule', () => {
  // [what, step, DS, start, updates, first PDP end, expected PDP values from there]
  const cases: Array<[string, number, string, number, string[], number, number[]]> = [
    ['0 for 40 s then 30 for 20 s (step 60)', 60, 'DS:g:GAUGE:120:U:U', 1_000_000_020, ['1000000060:0', '1000000080:30'], 1_000_000_080, [10]],
    ['30 for 10 s, U for 20 s, 60 for 30 s', 60, 'DS:g:GAUGE:120:U:U', 1_000_000_020, ['1000000030:30', '1000000050:U', '1000000080:60'], 1_000_000_080, [52.5]],
    ['one update spanning two steps: first closed on its own, then the rate', 10, 'DS:g:GAUGE:30:U:U', T, [`${T + 5}:10`, `${T + 25}:20`], T + 10, [15, 20]],
    ['U inside the first step', 10, 'DS:g:GAUGE:30:U:U', T, [`${T + 5}:10`, `${T + 6}:U`, `${T + 25}:20`], T + 10, [130 / 9, 20]],
    ['more than half a step unknown', 10, 'DS:g:GAUGE:30:U:U', T, [`${T + 6}:U`, `${T + 25}:3`], T + 10, [NaN, 3]],
    ['exactly half a step unknown is still known', 10, 'DS:g:GAUGE:30:U:U', T, [`${T + 5}:U`, `${T + 25}:20`], T + 10, [20, 20]],
    ['gap beyond the heartbeat over several steps keeps the filled part', 10, 'DS:g:GAUGE:30:U:U', T, [`${T + 3}:10`, `${T + 50}:U`], T + 10, [10, NaN, NaN, NaN]],
    ['gap beyond the heartbeat across one boundary loses the step', 10, 'DS:g:GAUGE:12:U:U', T, [`${T + 3}:10`, `${T + 16}:U`], T + 10, [NaN]],
    ['heartbeat not exceeded across one boundary', 10, 'DS:g:GAUGE:12:U:U', T, [`${T + 3}:10`, `${T + 15}:5`], T + 10, [6.5]],
    ['ABSOLUTE is value / interval', 10, 'DS:a:ABSOLUTE:30:U:U', T, [`${T + 3}:10`, `${T + 50}:U`], T + 10, [10 / 3, NaN]],
    ['COUNTER wraps with 2^32-1 (rrdtool issues #545, #546)', 10, 'DS:c:COUNTER:20:U:U', T, [`${T + 10}:4294967290`, `${T + 20}:5`], T + 20, [1]],
    ['64-bit COUNTER wrap through rrd_strtod rounding', 1, 'DS:c:COUNTER:10:U:U', T, [`${T + 1}:18446744073709551604`, `${T + 2}:2231`], T + 2, [4096]],
    ['COUNTER exact on huge integers (string difference)', 1, 'DS:c:COUNTER:10:U:U', T, [`${T + 1}:9007199254740993`, `${T + 2}:9007199254740995`], T + 2, [2]],
    ['DERIVE: different signs are unknown', 10, 'DS:d:DERIVE:20:U:U', T, [`${T + 10}:0`, `${T + 20}:-100`, `${T + 30}:-150`], T + 20, [NaN, -5]],
    ['min/max: a rate outside is unknown', 10, 'DS:g:GAUGE:20:0:100', T, [`${T + 10}:50`, `${T + 20}:101`, `${T + 30}:-1`, `${T + 40}:100`], T + 10, [50, NaN, NaN, 100]],
    ['first PDP after create: start % step seconds unknown', 10, 'DS:g:GAUGE:20:U:U', T + 4, [`${T + 10}:7`], T + 10, [7]],
    ['first PDP after create: too much unknown', 10, 'DS:g:GAUGE:20:U:U', T + 6, [`${T + 10}:7`, `${T + 20}:8`], T + 10, [NaN, 8]],
  ];
  it.each(cases)('%s', (_what, step, ds, start, updates, first, expected) => {
    const s = MemorySeries.fromArgs([ds, 'RRA:AVERAGE:0.5:1:100'], step, start);
    s.update(...updates);
    const got = rowsOf(s, 'AVERAGE', first - step, first + step * (expected.length - 1)).slice(0, expected.length);
    expect(got.map((r) => r[0])).toEqual(expected.map((_, i) => first + i * step));
    got.forEach(([time, v], i) => expect(near(v[0]!, expected[i]!), `${time}: got ${v[0]}, want ${expected[i]}`).toBe(true));
  });
});

describe('consolidation into rows', () => {
  // 4 PDPs per row, PDPs [1, U, U, 4] → AVERAGE 2.5 when xff allows 2 unknown of 4
  const cases: Array<[string, string, number]> = [
    ['xff 0.5: 2 unknown of 4 ≤ 2 → value', 'RRA:AVERAGE:0.5:4:10', 2.5],
    ['xff 0.24: 2 unknown of 4 > 0.96 → unknown', 'RRA:AVERAGE:0.24:4:10', NaN],
    ['MIN skips unknown PDPs', 'RRA:MIN:0.5:4:10', 1],
    ['MAX skips unknown PDPs', 'RRA:MAX:0.5:4:10', 4],
    ['LAST takes the last PDP', 'RRA:LAST:0.5:4:10', 4],
  ];
  it.each(cases)('%s', (_what, rra, expected) => {
    const s = MemorySeries.fromArgs(['DS:g:GAUGE:100:U:U', rra], 10, T);
    s.update(`${T + 10}:1`, `${T + 20}:U`, `${T + 30}:U`, `${T + 40}:4`);
    const [row] = rowsOf(s, rra.split(':')[1] as 'AVERAGE', T + 1, T + 39);
    expect(row![0]).toBe(T + 40);
    expect(near(row![1][0]!, expected)).toBe(true);
  });

  it('LAST keeps an unknown last PDP', () => {
    const s = MemorySeries.fromArgs(['DS:g:GAUGE:100:U:U', 'RRA:LAST:0.5:4:10'], 10, T);
    s.update(`${T + 10}:1`, `${T + 20}:2`, `${T + 30}:3`, `${T + 40}:U`, `${T + 50}:5`);
    expect(Number.isNaN(rowsOf(s, 'LAST', T + 1, T + 39)[0]![1][0])).toBe(true);
  });

  it('rows align to multiples of steps × pdp_per_row in epoch seconds, not to --start', () => {
    const s = MemorySeries.fromArgs(['DS:g:GAUGE:100:U:U', 'RRA:AVERAGE:0.5:3:10'], 10, T + 10);
    for (let t = T + 20; t <= T + 100; t += 10) s.update(`${t}:${t - T}`);
    // T is a multiple of 30 s? T % 30 = 10, so rows end at T+20, T+50, T+80
    const rows = rowsOf(s, 'AVERAGE', T + 20, T + 80);
    expect(rows.map((r) => r[0])).toEqual([T + 50, T + 80, T + 110]);
    expect(rows[0]![1][0]).toBeCloseTo(40, 9); // PDPs 30, 40, 50
    expect(rows[1]![1][0]).toBeCloseTo(70, 9);
    expect(Number.isNaN(rows[2]![1][0])).toBe(true);
  });

  it('a gap longer than an archive writes at most its rows and leaves them unknown', () => {
    const s = MemorySeries.fromArgs(['DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:5'], 10, T);
    s.update(`${T + 10}:1`, `${T + 20}:2`, `${T + 10_000_000}:3`);
    const r = s.fetch('AVERAGE', T + 10_000_000 - 50, T + 10_000_000 - 1);
    expect(Array.from(r.data).every(Number.isNaN)).toBe(true);
  });
});

describe("REFERENCE.md's full example", () => {
  it('fetch prints exactly what rrdtool prints', () => {
    const s = MemorySeries.fromArgs(RRD_EXAMPLE_ARGS, 10, T);
    s.update(...RRD_EXAMPLE.updates);
    expect(formatFetch(s.fetch('AVERAGE', T, T + 50))).toBe(RRD_EXAMPLE.average);
  });
});
