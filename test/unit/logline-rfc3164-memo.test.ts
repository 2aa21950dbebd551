// The RFC 3164 caches (header memo in front of syslog-parse, last stamp's time, year of `now`)
// change no result: seeded random lines, built from syslog-parse's character classes and from
// the characters that trip it (':' '[' ']' white space, IPv6 hosts, line breaks, empty tails),
// parsed through the cached path and the per-line path. Headers repeat with tails that can and
// cannot use the memo, in both orders, so a wrong memo entry shows up on a later line.
import { describe, expect, it } from 'vitest';
import { readPri } from '../../shared/logline/pri.js';
import { parseRfc3164, parseRfc3164Uncached } from '../../shared/logline/rfc3164.js';
import { headerMemoStats, MEMO_MAX, splitDirect, splitRest } from '../../shared/logline/rfc3164-split.js';
import { rng } from '../helpers/rng.js';

type R = () => number;
const pick = <T>(r: R, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;

// syslog-parse's classes: host [\w.-], process [\w\-().\d/], pid [a-z\d-.] (flag i), plus others.
const CLASS_CHARS = 'abcXYZ019_.-()/';
const ODD_CHARS = ['@', '[', ']', ':', '\t', ' ', 'é', '\u00a0', '\0', '"', '=', 'K'];
function word(r: R, odd: number): string {
  if (r() < 0.05) return 'w'.repeat(300 + Math.floor(r() * 100)); // longer than the memo's header bound
  let s = '';
  const n = 1 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) s += r() < odd ? pick(r, ODD_CHARS) : pick(r, [...CLASS_CHARS]);
  return r() < 0.3 ? s.toUpperCase() : s;
}

const HOSTS = ['web-1', 'fe80::1', '::1', '192.0.2.1', 'Host.Example.ORG', 'h', 'a_b', 'x:y', '[::1]', ''];
const TAGS = ['sshd', 'postfix/smtpd', 'foo@bar', 'a(b)', 'CRON', 'kernel', 'systemd-logind', 'p', 'App.Name'];
const PIDS = ['', '', '[123]', '[1]', '[0]', '[abc]', '[a_b]', '[]', '[a:b]', '[12 3]', '[-1]', '[99999999999999999999]', '[a-b.c]', '[ABC]', '[12'];
const SEPS = [' ', ' ', '  ', '\t', ' \t '];
const TAILS = [
  '', ' ', '  ', '\t', ' x', 'x', ' hello world', '\nfoo', '\r\n', ' a\nb', ' a\r\nb', '\n', ' \u2028x', '\u2029y', '\u2028',
  ' trailing  ', '\u00a0', ' \u00a0x', ':', '::', ' [1]: y', '\0', '\0z', ' Jan  1 00:00:00 h p[7]: m', ' next Oct  2 01:02:03 h2 cron: x',
  'Jan  1 00:00:00 h p: m', ' x: y: z', '\tTAB', ' ' + 'm'.repeat(2000), ' é ü', ' \ufeffbom',
];

function header(r: R): string {
  const k = r();
  if (k < 0.5) {
    const host = r() < 0.3 ? '' : r() < 0.6 ? pick(r, HOSTS) : word(r, 0.1);
    const tag = r() < 0.6 ? pick(r, TAGS) : word(r, 0.15);
    return (host ? host + pick(r, SEPS) : '') + tag + pick(r, PIDS);
  }
  if (k < 0.8) return word(r, 0.3) + (r() < 0.5 ? pick(r, SEPS) + word(r, 0.3) : '');
  return [word(r, 0.2), word(r, 0.2), word(r, 0.2)].join(pick(r, SEPS)); // a message, not a header
}

const STAMPS = ['Oct  1 12:34:56', 'Nov 23 18:00:01', 'nov 23 18:00:01', 'DEC 31 23:59:59', 'Jan  1 00:00:05', 'Feb 29 12:00:00', 'Mar 29 02:30:00', 'Oct 25 02:30:00.250'];
const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Pacific/Kiritimati'];
const NOWS = [Date.UTC(2026, 10, 23, 17, 53), Date.UTC(2027, 0, 1, 0, 0, 10), Date.UTC(2026, 11, 31, 23, 59, 50), Date.UTC(2028, 1, 10), Date.UTC(2027, 2, 1)];

describe('RFC 3164 caches change no result', () => {
  it.each([1, 2, 3, 4, 5, 6])('seed %i: memoized split equals the per-line split', (seed) => {
    const r = rng(seed);
    const headers = Array.from({ length: 150 }, () => header(r));
    for (let i = 0; i < 3000; i++) {
      const h = pick(r, headers);
      const colon = r() < 0.9 ? ':' : '';
      const rest = h + colon + pick(r, TAILS) + (r() < 0.2 ? pick(r, TAILS) : '');
      const pri = r() < 0.5 ? readPri(`<${Math.floor(r() * 192)}>`) : null;
      expect(splitRest(rest, pri), JSON.stringify(rest)).toStrictEqual(splitDirect(rest, pri));
    }
  });

  it.each([7, 8, 9])('seed %i: whole lines, stamps, zones and reading times', (seed) => {
    const r = rng(seed);
    const headers = Array.from({ length: 60 }, () => header(r));
    let zone = 'UTC';
    let now = NOWS[0]!;
    for (let i = 0; i < 3000; i++) {
      // runs of lines with one reading time and zone, as the agent parses a chunk
      if (r() < 0.1) zone = pick(r, ZONES);
      if (r() < 0.1) now = pick(r, NOWS) + Math.floor(r() * 3) * 1000;
      const text = (r() < 0.5 ? `<${Math.floor(r() * 192)}>` : '') + pick(r, STAMPS) + pick(r, [' ', '  ', '']) + pick(r, headers) + ':' + pick(r, TAILS);
      const pri = readPri(text);
      const body = pri ? text.slice(pri.length) : text;
      expect(parseRfc3164(body, pri, zone, now), JSON.stringify([text, zone, now])).toStrictEqual(parseRfc3164Uncached(body, pri, zone, now));
    }
  });

  it('a header seen first with a tail the memo cannot take, then one it can, and the reverse', () => {
    const seqs = [
      ['h p[a_b]: Jan  1 00:00:00 h p[7]: m', 'h p[a_b]: hello', 'h p[a_b]: Jan  1 00:00:00 h p[7]: m'],
      ['sshd:x', 'sshd: x', 'sshd:x', 'sshd: x'],
      ['web-1 sshd[9]:', 'web-1 sshd[9]:\nx', 'web-1 sshd[9]: x', 'web-1 sshd[9]:   ', 'web-1 sshd[9]:\u2028y', 'web-1 sshd[9]: a\nb'],
      ['fe80::1 sshd[5]: x', 'fe80::1 sshd[5]: y'],
      ['a b c: Jan  1 00:00:00 h p: m', 'a b c: m', 'a b c: Jan  1 00:00:00 a b: m'],
    ];
    for (const seq of seqs) {
      for (const order of [seq, [...seq].reverse()]) {
        for (const rest of order) for (const pri of [null, readPri('<13>')]) expect(splitRest(rest, pri), rest).toStrictEqual(splitDirect(rest, pri));
      }
    }
  });

  it('a line that starts with the last stamp but has more white space after it is read by the regex', () => {
    const now = NOWS[0]!;
    // after each first line the stamp is cached; the second starts with it and continues with white space
    const pairs = [
      ['Nov 23 18:00:01 h app: a', 'Nov 23 18:00:01  h app: b'],
      ['Nov 23 18:00:01 h app: a', 'Nov 23 18:00:01 \th app: b'],
      ['Nov 23 18:00:01 h app: a', 'Nov 23 18:00:01 \u00a0h app: b'],
      ['Nov 23 18:00:01 h app: a', 'Nov 23 18:00:01 \u2028h app: b'],
      ['Nov 23 18:00:01 h app: a', 'Nov 23 18:00:01 '],
      ['Nov 23 18:00:01', 'Nov 23 18:00:01 h app: b'],
      ['Nov 23 18:00:01 h app: a', 'Nov 23 18:00:01 h2 app: b'],
      ['Nov 23 18:00:01.5 h app: a', 'Nov 23 18:00:01.5 h app: b'],
    ];
    for (const [a, b] of pairs) {
      for (const zone of ['UTC', 'Europe/Berlin']) {
        expect(parseRfc3164(a!, null, zone, now), a).toStrictEqual(parseRfc3164Uncached(a!, null, zone, now));
        expect(parseRfc3164(b!, null, zone, now), b).toStrictEqual(parseRfc3164Uncached(b!, null, zone, now));
      }
    }
  });

  it("a relay's headers (300 hosts × 7 daemons) stay in the memo: asked again, none is added", () => {
    const headers = Array.from({ length: 2100 }, (_, i) => `relay-${i % 300} d${Math.floor(i / 300)}[${100 + i}]`);
    for (const h of headers) splitRest(`${h}: x`, null);
    const before = headerMemoStats();
    for (const h of headers) splitRest(`${h}: y`, null);
    expect(headerMemoStats()).toStrictEqual(before);
    expect(before.split).toBeGreaterThanOrEqual(2100);
  });

  it('the memo is used and stays bounded', () => {
    for (let i = 0; i < MEMO_MAX + 1000; i++) splitRest(`host-${i} app[${i}]: x`, null);
    const s = headerMemoStats();
    expect(s.split + s.rejected + s.direct).toBeLessThanOrEqual(MEMO_MAX);
    expect(s.split).toBeGreaterThan(0);
    // a header seen before answers from the memo with syslog-parse's split
    const last = MEMO_MAX + 999;
    expect(splitRest(`host-${last} app[${last}]: again`, null)).toStrictEqual({ hostname: `host-${last}`, program: 'app', pid: last, message: 'again' });
  });
});
