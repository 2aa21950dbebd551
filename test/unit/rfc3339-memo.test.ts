// parseRfc3339 remembers the second of the last stamp and reads only the fraction of the next
// one in the same second (shared/logline/time.ts): it must answer exactly what the full parse
// answers, for every stamp, in any order: fractions of 0–10 digits, zone suffixes that differ
// from the remembered one, stamps without zone in a zone with DST, leap seconds, junk after a
// remembered prefix.
import { describe, expect, it } from 'vitest';
import { parseRfc3339, parseRfc3339Uncached } from '../../shared/logline/time.js';

/** deterministic (a failure can be replayed) */
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);

function stamps(): string[] {
  const out: string[] = [];
  const heads = ['2026-11-23T17:00:00', '2026-11-23t17:00:00', '2026-11-23 17:00:00', '2026-03-29T02:30:00', '2026-10-25T02:30:59', '2026-12-31T23:59:60', '2026-02-29T10:00:00', '2026-11-23T17:00:01'];
  const tails = ['Z', 'z', '', '+01:00', '-05:30', '+00:00', '+24:00', 'Zx', ' ', '+0100'];
  const fracs = ['', '.', '.0', '.5', '.05', '.057', '.29', '.57', '.999', '.123456', '.999999999', '.1234567890', '.x'];
  for (let k = 0; k < 200; k++) fracs.push('.' + String(Math.floor(rand() * 1e9)).padStart(1 + (k % 9), '0').slice(0, 1 + (k % 9)));
  for (const h of heads) for (const t of tails) for (const f of fracs) out.push(h + f + t);
  return out;
}

describe('parseRfc3339 memo', () => {
  it('answers what the full parse answers, stamp after stamp, in UTC and in a zone with DST', () => {
    const all = stamps();
    for (const zone of ['UTC', 'Europe/Berlin']) {
      // in order (the memo hits within a head) and shuffled (it misses and is replaced)
      const shuffled = [...all].sort(() => rand() - 0.5);
      for (const list of [all, shuffled]) {
        for (const s of list) {
          const want = parseRfc3339Uncached(s, zone);
          const got = parseRfc3339(s, zone);
          if (got !== want) expect({ s, zone, got }).toEqual({ s, zone, got: want });
        }
      }
    }
    // the same stamp read in another zone is not answered from the memo of the first
    expect(parseRfc3339('2026-11-23T17:00:00.250', 'UTC')).toBe(Date.UTC(2026, 10, 23, 17, 0, 0, 250));
    expect(parseRfc3339('2026-11-23T17:00:00.500', 'Europe/Berlin')).toBe(Date.UTC(2026, 10, 23, 16, 0, 0, 500));
  });
});
