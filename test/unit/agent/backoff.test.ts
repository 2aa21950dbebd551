// The retry policy shared by the log shipper and the metrics runner, and the reading of the
// collector's Retry-After header (both forms of RFC 9110 §10.2.3).
import { describe, expect, it } from 'vitest';
import { Backoff, parseRetryAfter } from '../../../agent/transport/backoff.js';

const NOW = Date.parse('2026-12-07T01:00:00.000Z');

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('5', NOW)).toBe(5000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfter(['7', '9'], NOW)).toBe(7000);
  });

  it('reads an HTTP date relative to now; a past date is no wait', () => {
    expect(parseRetryAfter('Mon, 07 Dec 2026 01:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Mon, 07 Dec 2026 00:59:00 GMT', NOW)).toBe(0);
  });

  it('ignores what is not a delay: absent, empty, negative, fractional, words', () => {
    for (const v of [undefined, '', '-5', '1.5', 'soon', '5s']) expect(parseRetryAfter(v, NOW), String(v)).toBeUndefined();
  });

  it('keeps an absurd number of seconds finite', () => {
    expect(Number.isFinite(parseRetryAfter('9'.repeat(400), NOW))).toBe(true);
  });
});

describe('Backoff', () => {
  it('grows per failure up to the cap and starts again after a success', () => {
    const b = new Backoff(2000, () => 1);
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000, 2000]);
    expect(b.attempts).toBe(4);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(500);
  });

  it('takes a Retry-After as the least wait, bounded by the cap', () => {
    const b = new Backoff(10_000, () => 0);
    expect(b.next(3000)).toBe(3000); // drawn 250
    expect(b.next(0)).toBe(500); // drawn 500: a collector cannot shorten the backoff
    expect(b.next(3_600_000)).toBe(10_000); // an hour asked, the cap given
  });
});
