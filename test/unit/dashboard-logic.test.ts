// The dashboard's pure pieces, table-driven: search terms for highlighting, the URL's range,
// MIN/MAX folding onto the AVERAGE grid, metric families and headline picks.
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain browser ES modules, no type declarations
import { termsOf } from '../../dashboard/public/js/highlight.js';
// @ts-expect-error plain browser ES modules, no type declarations
import { familyOf, foldOnto, headlineMetrics } from '../../dashboard/public/js/metrics.js';
// @ts-expect-error plain browser ES modules, no type declarations
import { rangeFromParams } from '../../dashboard/public/js/ranges.js';

describe('termsOf', () => {
  it.each([
    ['timeout', ['timeout']],
    ['Timeout OR refused', ['timeout', 'refused']],
    ['"connection reset" AND NOT debug', ['connection', 'reset', 'debug']],
    ['time*', ['time']],
    ['NEAR(a b)', ['a', 'b']],
    ['(<script> OR img)', ['script', 'img']],
    ['', []],
  ])('%j → %j', (q, want) => expect(termsOf(q)).toEqual(want));
});

describe('rangeFromParams', () => {
  const now = 1_700_000_000_000;
  it.each([
    ['range=1h', { start: now - 3600_000, end: now, key: '1h' }],
    ['range=1y', { start: now - 366 * 86400_000, end: now, key: '1y' }],
    ['', { start: now - 86400_000, end: now, key: '1d' }],
    ['range=bogus', { start: now - 86400_000, end: now, key: '1d' }],
    ['range=1w&from=1000&to=5000', { start: 1000, end: 5000, key: 'custom' }],
    ['from=5000&to=1000', { start: now - 86400_000, end: now, key: '1d' }],
  ])('%s', (q, want) => expect(rangeFromParams(new URLSearchParams(q), now)).toEqual(want));
});

describe('foldOnto', () => {
  const grid = [10, 20, 30].map((x) => ({ x, y: 0 }));
  it('takes the least of the finer rows inside each interval, skipping unknowns', () => {
    const rows = [2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30].map((x) => ({ x, y: x === 14 ? null : 100 - x }));
    expect(foldOnto(grid, 10, rows, 2, Math.min).map((p: { y: number }) => p.y)).toEqual([90, 80, 70]);
    expect(foldOnto(grid, 10, rows, 2, Math.max).map((p: { y: number }) => p.y)).toEqual([98, 88, 78]);
  });
  it('repeats a coarser row over the intervals it covers, and leaves gaps unknown', () => {
    const rows = [{ x: 20, y: 5 }];
    expect(foldOnto(grid, 10, rows, 20, Math.min).map((p: { y: number | null }) => p.y)).toEqual([5, 5, null]);
  });
});

describe('metric families and headline picks', () => {
  it.each([
    ['cpu.user', 'cpu'],
    ['memory.used', 'memory'],
    ['df.used_pct{mount=/}', 'df (%)'],
    ['df.free_bytes{mount=/}', 'df (B)'],
    ['load.1', 'load'],
    ['net.rx_bytes{iface=eth0}', 'net (B)'],
  ])('%s → %s', (m, f) => expect(familyOf(m)).toBe(f));
  it('picks CPU, memory and the root disk', () => {
    const names = ['cpu.idle', 'cpu.system', 'cpu.user', 'df.used_pct{mount=/boot}', 'df.used_pct{mount=/}', 'memory.free', 'memory.used'];
    expect(headlineMetrics(names)).toEqual({ cpu: 'cpu.user', memory: 'memory.used', disk: 'df.used_pct{mount=/}' });
    expect(headlineMetrics(['load.1'])).toEqual({ cpu: 'load.1', memory: null, disk: null });
  });
});
