// RFC 3164 and traditional file lines, table-driven: each case is the input line, the time of
// reading and zone, and the fields expected. The `raw` cases pin syslog-parse's defects so that
// the wrapper's reason to exist stays visible.
import syslogParse from 'syslog-parse';
import { describe, expect, it } from 'vitest';
import { parseLine, parseSyslogFrame, type ParsedLine } from '../../shared/logline/index.js';

const NOW = Date.UTC(2026, 10, 23, 17, 53, 0); // Mon 23 Nov 2026 17:53 UTC
const utc = (y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0) => Date.UTC(y, mo - 1, d, h, mi, s, ms);

interface Case {
  name: string;
  line: string;
  now?: number;
  zone?: string;
  network?: boolean;
  want: Partial<ParsedLine> & { ts: number };
}

const cases: Case[] = [
  {
    name: 'RFC 3164 §5.4 example',
    line: "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
    want: { ts: utc(2026, 10, 11, 22, 14, 15), facility: 4, severity: 2, hostname: 'mymachine', program: 'su', message: "'su root' failed for lonvick on /dev/pts/8", format: 'rfc3164' },
  },
  {
    name: 'rsyslog omfwd default template',
    line: '<30>Nov 23 17:00:00 web-1 systemd[1]: Started Daily apt upgrade.',
    want: { ts: utc(2026, 11, 23, 17), facility: 3, severity: 6, hostname: 'web-1', program: 'systemd', pid: 1, message: 'Started Daily apt upgrade.' },
  },
  {
    name: 'traditional file line, no PRI: not kern.emerg, severity from words',
    line: 'Oct  1 12:34:56 myhost sshd[123]: Accepted password for root',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), severity: 6, facility: undefined, hostname: 'myhost', program: 'sshd', pid: 123, message: 'Accepted password for root' },
  },
  {
    name: 'file line without PRI with an error word',
    line: 'Oct  1 12:34:56 myhost app[9]: ERROR disk full',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), severity: 3, facility: undefined, program: 'app', message: 'ERROR disk full' },
  },
  {
    name: 'network frame without PRI is user.notice (RFC 3164 §4.3.3)',
    network: true,
    line: 'Oct  1 12:34:56 myhost sshd[123]: ERROR words do not matter here',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), severity: 5, facility: 1, hostname: 'myhost', program: 'sshd' },
  },
  {
    name: 'Dec 31 line read on Jan 1 is last year',
    now: utc(2027, 1, 1, 0, 0, 10),
    line: '<13>Dec 31 23:59:59 h p: x',
    want: { ts: utc(2026, 12, 31, 23, 59, 59) },
  },
  {
    name: 'Jan 1 line read on Dec 31 (sender clock ahead) is next year',
    now: utc(2026, 12, 31, 23, 59, 50),
    line: '<13>Jan  1 00:00:05 h p: x',
    want: { ts: utc(2027, 1, 1, 0, 0, 5) },
  },
  {
    name: 'a line 5 weeks "ahead" is from last year',
    now: utc(2026, 1, 10),
    line: '<13>Feb 15 08:00:00 h p: x',
    want: { ts: utc(2025, 2, 15, 8) },
  },
  {
    name: 'Jan 31 rollover: "Feb  5" read on Jan 31 is Feb 5, not Mar 5',
    now: utc(2026, 1, 31, 12),
    line: '<13>Feb  5 10:00:00 h p: x',
    want: { ts: utc(2026, 2, 5, 10) },
  },
  {
    name: '"Jan 31" read on Feb 1',
    now: utc(2026, 2, 1, 0, 5),
    line: '<13>Jan 31 23:59:00 h p: x',
    want: { ts: utc(2026, 1, 31, 23, 59) },
  },
  {
    name: '"Feb 29" read in a non-leap year is the last Feb 29, not Mar 1',
    now: utc(2027, 3, 1),
    line: '<13>Feb 29 12:00:00 h p: x',
    want: { ts: utc(2024, 2, 29, 12) },
  },
  {
    name: '"Feb 29" read on Feb 10 of a leap year is this year',
    now: utc(2028, 2, 10),
    line: '<13>Feb 29 12:00:00 h p: x',
    want: { ts: utc(2028, 2, 29, 12) },
  },
  {
    name: 'upper-case month',
    line: '<13>OCT  1 12:34:56 h p: x',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), message: 'x' },
  },
  {
    name: 'lower-case month, zero-padded day',
    line: '<13>oct 01 12:34:56 h p: x',
    want: { ts: utc(2026, 10, 1, 12, 34, 56) },
  },
  {
    name: 'zone from configuration: summer in Berlin is UTC+2',
    zone: 'Europe/Berlin',
    line: '<13>Jul  1 12:00:00 h p: x',
    want: { ts: utc(2026, 7, 1, 10) },
  },
  {
    name: 'zone from configuration: winter in Berlin is UTC+1',
    zone: 'Europe/Berlin',
    line: '<13>Jan 15 12:00:00 h p: x',
    want: { ts: utc(2026, 1, 15, 11) },
  },
  {
    name: 'DST gap (02:30 does not exist in Berlin on Mar 29 2026): moved forward',
    zone: 'Europe/Berlin',
    line: '<13>Mar 29 02:30:00 h p: x',
    want: { ts: utc(2026, 3, 29, 1, 30) },
  },
  {
    name: 'DST overlap (02:30 twice on Oct 25 2026): the earlier',
    zone: 'Europe/Berlin',
    line: '<13>Oct 25 02:30:00 h p: x',
    want: { ts: utc(2026, 10, 25, 0, 30) },
  },
  {
    name: 'year taken in the configured zone: Dec 31 19:00 in New York read at 00:30 UTC Jan 1',
    zone: 'America/New_York',
    now: utc(2027, 1, 1, 0, 30),
    line: '<13>Dec 31 19:00:00 h p: x',
    want: { ts: utc(2027, 1, 1, 0, 0) },
  },
  {
    name: 'no milliseconds left over from the clock; fraction kept when written',
    line: '<13>Oct  1 12:34:56.123 h p: x',
    want: { ts: utc(2026, 10, 1, 12, 34, 56, 123) },
  },
  {
    name: 'tag without colon: host, then the message',
    line: '<13>Oct  1 12:34:56 myhost hello world',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), hostname: 'myhost', program: undefined, message: 'hello world' },
  },
  {
    name: 'empty message',
    line: '<13>Oct  1 12:34:56 myhost sshd[1]:',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), hostname: 'myhost', program: 'sshd', pid: 1, message: '' },
  },
  {
    name: 'no HOSTNAME (local socket form)',
    line: '<13>Oct  1 12:34:56 sshd[5]: x',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), hostname: undefined, program: 'sshd', pid: 5, message: 'x' },
  },
  {
    name: 'IPv6 host name',
    line: '<13>Oct  1 12:34:56 fe80::1 sshd[5]: x',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), hostname: 'fe80::1', program: 'sshd', pid: 5, message: 'x' },
  },
  {
    name: 'tag characters syslog-parse rejects',
    line: '<13>Oct  1 12:34:56 host foo@bar[12]: x',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), hostname: 'host', program: 'foo@bar', pid: 12, message: 'x' },
  },
  {
    name: 'non-numeric PROCID kept as a field',
    line: '<13>Oct  1 12:34:56 host app[abc]: x',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), program: 'app', pid: undefined, fields: { procid: 'abc' } },
  },
  {
    name: 'postfix-style tag with slash',
    line: '<22>Oct  1 12:34:56 mx postfix/smtpd[4242]: connect from unknown[192.0.2.1]',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), facility: 2, severity: 6, program: 'postfix/smtpd', pid: 4242, message: 'connect from unknown[192.0.2.1]' },
  },
  {
    name: 'a timestamp later in the message does not move the header',
    line: '<13>Oct  1 12:34:56 host app: next run Oct  2 01:02:03 host2 cron: x',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), hostname: 'host', program: 'app', message: 'next run Oct  2 01:02:03 host2 cron: x' },
  },
  {
    name: 'joined multi-line message kept whole',
    line: '<11>Oct  1 12:34:56 host java[7]: Exception in thread "main"\n\tat Foo.bar(Foo.java:1)\n\tat Foo.main(Foo.java:2)',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), severity: 3, program: 'java', message: 'Exception in thread "main"\n\tat Foo.bar(Foo.java:1)\n\tat Foo.main(Foo.java:2)' },
  },
  {
    name: 'PRI 0 is honoured when written',
    line: '<0>Oct  1 12:34:56 host kernel: panic',
    want: { ts: utc(2026, 10, 1, 12, 34, 56), facility: 0, severity: 0, program: 'kernel' },
  },
  {
    name: 'PRI out of range (192) is not a PRI: the whole line is the message',
    network: true,
    line: '<192>Oct  1 12:34:56 host app: x',
    want: { ts: NOW, facility: 1, severity: 5, message: '<192>Oct  1 12:34:56 host app: x', format: 'plain' },
  },
  {
    name: 'impossible date (Apr 31) is not a header',
    line: '<13>Apr 31 12:00:00 host app: x',
    want: { ts: NOW, facility: 1, severity: 5, message: 'Apr 31 12:00:00 host app: x', format: 'plain' },
  },
  {
    name: 'PRI with no header: stamped at reading time (RFC 3164 §4.3.2)',
    line: '<12>hello there',
    want: { ts: NOW, facility: 1, severity: 4, message: 'hello there', format: 'plain' },
  },
];

describe('RFC 3164 and traditional lines', () => {
  it.each(cases)('$name', (c) => {
    const opts = { now: c.now ?? NOW, timeZone: c.zone };
    const got = (c.network ? parseSyslogFrame : parseLine)(c.line, opts);
    for (const [k, v] of Object.entries(c.want)) expect({ [k]: got[k as keyof ParsedLine] }).toEqual({ [k]: v });
  });
});

describe('syslog-parse 2.0.0 defects the wrapper exists for', () => {
  it('a line without PRI becomes kern.emerg', () => {
    const raw = syslogParse('Oct  1 12:34:56 myhost sshd[123]: hi')!;
    expect([raw.facility, raw.severity]).toEqual(['kern', 'emerg']);
    expect(parseLine('Oct  1 12:34:56 myhost sshd[123]: hi', { now: NOW }).severity).toBe(6);
  });
  it('its regex is unanchored: a stamp inside text makes a header', () => {
    const line = 'garbage before Oct  1 12:34:56 host prog: msg';
    expect(syslogParse(line)).toBeDefined();
    expect(parseLine(line, { now: NOW })).toMatchObject({ ts: NOW, message: line, format: 'plain' });
  });
  it('it reads upper-case months as December', () => {
    expect(syslogParse('<13>OCT  1 12:34:56 h p: x')!.time.getMonth()).toBe(11);
  });
  it('it returns undefined for a tag without colon and for an empty message', () => {
    expect(syslogParse('<13>Oct  1 12:34:56 myhost hello world')).toBeUndefined();
    expect(syslogParse('<13>Oct  1 12:34:56 myhost sshd[1]:')).toBeUndefined();
  });
  it('its message stops at the first line break', () => {
    expect(syslogParse('<13>Oct  1 12:34:56 h p: a\nb')!.message).toBe('a');
  });
});
