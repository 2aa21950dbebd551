// Parsers and printers that must match rrdtool's C behaviour: rrd_strtod, rrd_diff, "%0.10e",
// DS/RRA definitions, at-style times, fetch archive selection.
import { describe, expect, it } from 'vitest';
import { parseAtTime, resolveStartEnd } from '../../collector/rrd/attime.js';
import { parseDefs, parseDs, parseRra } from '../../collector/rrd/defs.js';
import { planFetch } from '../../collector/rrd/fetch.js';
import { cExp10, rrdDiff, strtod } from '../../collector/rrd/numbers.js';
import { initialState } from '../../collector/rrd/pdp.js';

describe('rrd_strtod', () => {
  const cases: Array<[string, number | undefined, string]> = [
    ['12', 12, ''],
    ['  -1.5', -1.5, ''],
    ['+3', 3, ''],
    ['1e3', 1000, ''],
    ['1e', 1, ''], // the exponent marker is consumed even without digits
    ['.5', 0.5, ''],
    ['1x', 1, 'x'],
    ['abc', undefined, ''],
    ['nan', undefined, ''], // no nan/inf/hex forms
    ['0x10', 0, 'x10'],
    ['', undefined, ''],
  ];
  it.each(cases)('%j', (text, value, rest) => {
    const r = strtod(text);
    if (value === undefined) expect(r).toBeUndefined();
    else expect(r).toEqual({ value, rest });
  });
  it('accumulates digits in a double like rrdtool (not correctly rounded)', () => {
    expect(strtod('18446744073709549373')!.value).toBe(18446744073709547520);
    expect(Number('18446744073709549373')).toBe(18446744073709549568);
  });
});

describe('rrd_diff', () => {
  const cases: Array<[string, string, number]> = [
    ['200', '100', 100],
    ['5', '4294967290', -4294967285],
    ['-100', '0', NaN],
    ['-150', '-100', -50],
    ['9007199254740995', '9007199254740993', 2],
    ['x', '1', NaN],
  ];
  it.each(cases)('%s − %s', (a, b, want) => {
    const got = rrdDiff(a, b);
    if (Number.isNaN(want)) expect(got).toBeNaN();
    else expect(got).toBe(want);
  });
});

describe('printf %0.10e', () => {
  const cases: Array<[number, string]> = [
    [15, '1.5000000000e+01'],
    [-10, '-1.0000000000e+01'],
    [0, '0.0000000000e+00'],
    [20 / 3, '6.6666666667e+00'],
    [1e-300, '1.0000000000e-300'],
    [NaN, '-nan'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [2 ** -16, '1.5258789062e-05'], // an exact tie rounds half to even, as glibc does
  ];
  it.each(cases)('%d', (v, want) => expect(cExp10(v)).toBe(want));
});

describe('DS and RRA definitions', () => {
  it('parses the default host layout', () => {
    const def = parseDefs(['DS:value:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:8640', 'RRA:MAX:0.5:6:10080'], 10);
    expect(def.ds[0]).toMatchObject({ name: 'value', type: 'GAUGE', heartbeat: 20 });
    expect(def.ds[0]!.min).toBeNaN();
    expect(def.rra).toEqual([
      { cf: 'AVERAGE', xff: 0.5, pdpPerRow: 1, rows: 8640 },
      { cf: 'MAX', xff: 0.5, pdpPerRow: 6, rows: 10080 },
    ]);
  });
  it('accepts suffixed durations as rrdtool does', () => {
    expect(parseDs('DS:g:GAUGE:1m:0:100').heartbeat).toBe(60);
    expect(parseRra('RRA:AVERAGE:0.5:1m:1d', 10)).toEqual({ cf: 'AVERAGE', xff: 0.5, pdpPerRow: 6, rows: 1440 });
  });
  const bad: Array<[string, string]> = [
    ['DS:g', 'invalid DS format'],
    ['DS:g:GAUG:20:U:U', 'invalid DS type specified (GAUG)'],
    ['DS:g:GAUGE:20:5:1', 'failed to parse data source 20:5:1: min must be less than max in DS definition'],
    ['RRA:AVERAGE:1:1:10', 'Invalid xff: must be between 0 and 1'],
    ['RRA:AVERAGE:0.5:1m:10', 'Invalid step 1m: value would truncate when scaled'],
  ];
  it.each(bad)('%s → %s', (arg, msg) => {
    expect(() => (arg.startsWith('DS') ? parseDs(arg) : parseRra(arg, 7))).toThrow(msg);
  });
});

describe('at-style times', () => {
  const now = 1_700_000_000;
  const cases: Array<[string, string, { start: number; end: number }]> = [
    ['end-1day', 'now', { start: now - 86400, end: now }],
    ['now-10s', 'N', { start: now - 10, end: now }],
    ['1000000000', 'start+1h', { start: 1_000_000_000, end: 1_000_003_600 }],
    ['-2h', 'now-5min', { start: now - 7200, end: now - 300 }],
    ['e-1w', '1600000000', { start: 1_600_000_000 - 604800, end: 1_600_000_000 }],
  ];
  it.each(cases)('--start %s --end %s', (s, e, want) => {
    expect(resolveStartEnd(parseAtTime(s, 'start time', now), parseAtTime(e, 'end time', now))).toEqual(want);
  });
  it('rejects what it cannot parse, naming the option', () => {
    expect(() => parseAtTime('abc', 'start time', now)).toThrow('start time: unparsable time: abc');
    expect(() => resolveStartEnd(parseAtTime('end-1h', 'start time', now), parseAtTime('start+1h', 'end time', now))).toThrow(/relative to each other/);
  });
});

describe('fetch archive selection and alignment', () => {
  const def = parseDefs(['DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10', 'RRA:AVERAGE:0.5:6:10', 'RRA:MAX:0.5:6:100', 'RRA:MAX:0.5:60:100'], 10);
  const state = initialState(def, 1_000_000_000);
  state.lastUp = 1_000_100_000;
  const cases: Array<[string, string, number, number, number, number]> = [
    // what, cf, start, end, resolution, chosen RRA
    ['finest covering start', 'AVERAGE', 1_000_099_950, 1_000_100_000, 1, 0],
    ['the 1-PDP RRA is a candidate for any CF', 'MAX', 1_000_099_950, 1_000_100_000, 1, 0],
    ['nearest resolution among those covering start', 'MAX', 1_000_099_000, 1_000_100_000, 600, 3],
    ['none covers start: the one covering most', 'AVERAGE', 1_000_000_000, 1_000_100_000, 1, 1],
  ];
  it.each(cases)('%s', (_w, cf, start, end, res, rra) => {
    expect(planFetch(def, state, cf as 'AVERAGE', start, end, res).rra).toBe(rra);
  });
  it('aligns start down and end up by one step (even when aligned)', () => {
    const p = planFetch(def, state, 'AVERAGE', 1_000_099_955, 1_000_099_990, 1);
    expect([p.start, p.end, p.step]).toEqual([1_000_099_950, 1_000_100_000, 10]);
  });
});
