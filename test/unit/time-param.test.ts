// The one parser of time parameters (collector/query/time.ts): every accepted form and what it
// means, and refusals that name the parameter.
import { describe, expect, it } from 'vitest';
import { MAX_TIME_MS, parseTimeParam } from '../../collector/query/time.js';

const NOW = Date.UTC(2026, 11, 7, 1, 0, 0, 500);
const T = Date.UTC(2026, 11, 6, 23, 40, 46);

describe('time parameters', () => {
  it.each([
    ['1796600446000', T],
    ['1796600446', T], // seconds: below 10^11
    ['1796600446.25', T + 250],
    ['99999999999', 99_999_999_999_000], // the largest seconds value
    ['100000000000', 100_000_000_000], // from 10^11 on, ms
    ['0', 0],
    ['2026-12-06T23:40:46Z', T],
    ['2026-12-06T23:40:46.123Z', T + 123],
    ['2026-12-06T23:40:46.123456789Z', T + 123],
    ['2026-12-07T00:40:46+01:00', T],
    ['2026-12-06T22:40:46-0100', T],
    ['2026-12-06 23:40:46Z', T],
    ['2026-12-06T23:40:46', T], // no zone: UTC
    ['2026-12-06T23:40', T - 46_000],
    ['2026-12-06', Date.UTC(2026, 11, 6)],
    ['now', NOW],
    [' now ', NOW],
    ['now-15m', NOW - 15 * 60_000],
    ['now+1h', NOW + 3_600_000],
    ['-1h', NOW - 3_600_000],
    ['-7d', NOW - 7 * 86_400_000],
    ['-2w', NOW - 14 * 86_400_000],
    ['now-1h30m', NOW - 90 * 60_000],
    ['-500ms', NOW - 500],
    ['-90s', NOW - 90_000],
    ['9999-12-31T23:59:59.999Z', MAX_TIME_MS],
  ])('%s', (raw, want) => {
    expect(parseTimeParam('start', raw, NOW)).toBe(want);
  });

  it('absent or empty: undefined', () => {
    expect(parseTimeParam('end', undefined, NOW)).toBeUndefined();
    expect(parseTimeParam('end', '', NOW)).toBeUndefined();
  });

  it.each([
    ['yesterday', /expected an RFC 3339 time/],
    ['-5', /expected/],
    ['1h', /expected/],
    ['now-', /expected/],
    ['now-1y', /expected/],
    ['now - 1h', /expected/],
    ['2026-12-06T23:40:46Zjunk', /expected/],
    ['2026-02-30', /not a valid date/],
    ['2026-13-01T00:00:00Z', /not a valid date/],
    ['-99999999999999999999', /expected/],
    ['99999999999999999999', /out of range/],
    ['-999999999w', /out of range/],
    ['now+999999999w', /out of range/],
    ['1e12', /expected/],
    ['NaN', /expected/],
  ])('%s is refused, naming the parameter', (raw, why) => {
    let err: unknown;
    try {
      parseTimeParam('end', raw, NOW);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'RINGTAIL_ERR_BAD_QUERY', status: 400, details: { parameter: 'end' } });
    expect((err as Error).message).toMatch(/^end: /);
    expect((err as Error).message).toMatch(why);
  });
});
