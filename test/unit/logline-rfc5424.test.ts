// RFC 5424, RFC 3339-stamped BSD lines (Debian 12's /var/log/syslog) and plain lines,
// table-driven: the input line and the fields expected, with an injected time of reading.
import syslogParse from 'syslog-parse';
import { describe, expect, it } from 'vitest';
import { parseLine, parseSyslogFrame, type ParsedLine } from '../../shared/logline/index.js';

const NOW = Date.UTC(2026, 10, 23, 17, 53, 0);
const BOM = '\uFEFF';

interface Case {
  name: string;
  line: string;
  zone?: string;
  network?: boolean;
  want: Partial<ParsedLine>;
}

const rfc5424: Case[] = [
  {
    name: 'trailing CR and LF are not part of the message; inner ones and other trailing space are',
    line: '<13>1 2026-11-23T17:00:00Z h app - - - line one\r\nline two \n\r\n',
    want: { message: 'line one\r\nline two ', format: 'rfc5424' },
  },
  {
    name: 'a message of nothing but line ends is empty',
    line: '<13>1 2026-11-23T17:00:00Z h app - - - \r\n',
    want: { message: '', format: 'rfc5424' },
  },
  {
    name: 'RFC 5424 §6.5 example 1: BOM, no SD, msgid',
    line: `<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ${BOM}'su root' failed for lonvick on /dev/pts/8`,
    want: { ts: Date.UTC(2003, 9, 11, 22, 14, 15, 3), facility: 4, severity: 2, hostname: 'mymachine.example.com', program: 'su', pid: undefined, fields: { msgid: 'ID47' }, message: "'su root' failed for lonvick on /dev/pts/8", format: 'rfc5424' },
  },
  {
    name: 'example 2: zone offset, numeric PROCID, no MSGID',
    line: "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
    want: { ts: Date.UTC(2003, 7, 24, 12, 14, 15, 0), facility: 20, severity: 5, hostname: '192.0.2.1', program: 'myproc', pid: 8710, fields: undefined, message: "%% It's time to make the do-nuts." },
  },
  {
    name: 'example 3: structured data kept as fields',
    line: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] ${BOM}An application event log entry...`,
    want: {
      program: 'evntslog',
      fields: { msgid: 'ID47', 'sd.exampleSDID@32473.iut': '3', 'sd.exampleSDID@32473.eventSource': 'Application', 'sd.exampleSDID@32473.eventID': '1011' },
      message: 'An application event log entry...',
    },
  },
  {
    name: 'example 4: two SD elements and no MSG',
    line: '<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]',
    want: {
      fields: { msgid: 'ID47', 'sd.exampleSDID@32473.iut': '3', 'sd.exampleSDID@32473.eventSource': 'Application', 'sd.exampleSDID@32473.eventID': '1011', 'sd.examplePriority@32473.class': 'high' },
      message: '',
    },
  },
  {
    name: 'escapes in PARAM-VALUE and a repeated PARAM',
    line: '<13>1 2026-01-01T00:00:00Z h app - - [x@1 a="q\\"uo\\\\te\\]d" a="again" b="back\\slash"] m',
    want: { fields: { 'sd.x@1.a': 'q"uo\\te]d', 'sd.x@1.a[1]': 'again', 'sd.x@1.b': 'back\\slash' }, message: 'm' },
  },
  {
    name: 'all NILVALUE: stamped at reading time',
    line: '<13>1 - - - - - -',
    want: { ts: NOW, facility: 1, severity: 5, hostname: undefined, program: undefined, pid: undefined, fields: undefined, message: '', format: 'rfc5424' },
  },
  {
    name: 'non-numeric PROCID kept as a field',
    line: '<13>1 2026-01-01T00:00:00Z h app worker-3 - - m',
    want: { pid: undefined, fields: { procid: 'worker-3' }, message: 'm' },
  },
  {
    name: 'logger --rfc5424 (timeQuality SD)',
    line: '<13>1 2026-11-23T17:53:00.123456+00:00 box alice - - [timeQuality tzKnown="1" isSynced="1" syncAccuracy="123"] hello',
    want: { ts: Date.UTC(2026, 10, 23, 17, 53, 0, 123), hostname: 'box', program: 'alice', fields: { 'sd.timeQuality.tzKnown': '1', 'sd.timeQuality.isSynced': '1', 'sd.timeQuality.syncAccuracy': '123' }, message: 'hello' },
  },
  {
    name: 'malformed SD: the rest is the message, nothing lost',
    line: '<13>1 2026-01-01T00:00:00Z h app - ID1 [bad msg',
    want: { fields: { msgid: 'ID1' }, message: '[bad msg', format: 'rfc5424' },
  },
  {
    name: 'invalid timestamp (month 13): not RFC 5424, kept whole with its PRI',
    line: '<13>1 2026-13-01T00:00:00Z h app - - - x',
    want: { ts: NOW, facility: 1, severity: 5, message: '1 2026-13-01T00:00:00Z h app - - - x', format: 'plain' },
  },
  {
    name: 'APP-NAME longer than 48: not RFC 5424',
    line: `<13>1 2026-01-01T00:00:00Z h ${'a'.repeat(49)} - - - x`,
    want: { format: 'plain' },
  },
  {
    name: 'leap second',
    line: '<13>1 2026-12-31T23:59:60Z h app - - - x',
    want: { ts: Date.UTC(2026, 11, 31, 23, 59, 59, 999) },
  },
];

const rfc3339: Case[] = [
  {
    name: 'Debian 12 /var/log/syslog line',
    line: '2026-01-12T11:15:58.792703+00:00 nas1 sshd[1581943]: Accepted publickey for backup from 192.0.2.7 port 50022',
    want: { ts: Date.UTC(2026, 0, 12, 11, 15, 58, 792), hostname: 'nas1', program: 'sshd', pid: 1581943, facility: undefined, severity: 6, message: 'Accepted publickey for backup from 192.0.2.7 port 50022', format: 'rfc3339' },
  },
  {
    name: 'Debian line with an offset and an error word',
    line: '2026-07-01T12:00:00.000001+02:00 nas1 kernel: EXT4-fs error (device sda1): bad block',
    want: { ts: Date.UTC(2026, 6, 1, 10), program: 'kernel', severity: 3 },
  },
  {
    name: 'Debian line whose tag has no colon',
    line: '2026-01-12T11:15:58+00:00 nas1 hello world',
    want: { hostname: 'nas1', program: undefined, message: 'hello world' },
  },
  {
    name: 'RSYSLOG_ForwardFormat (PRI + RFC 3339)',
    network: true,
    line: '<30>2026-01-12T11:15:58.5+01:00 nas1 systemd[1]: Started Session 4.',
    want: { ts: Date.UTC(2026, 0, 12, 10, 15, 58, 500), facility: 3, severity: 6, hostname: 'nas1', program: 'systemd', pid: 1, message: 'Started Session 4.', format: 'rfc3339' },
  },
  {
    name: 'stamp without zone is read in the configured zone',
    zone: 'Asia/Tokyo',
    line: '2026-01-12T09:00:00 h app: x',
    want: { ts: Date.UTC(2026, 0, 12, 0) },
  },
];

const plain: Case[] = [
  { name: 'plain line: read time, info', line: 'server started on :8080', want: { ts: NOW, severity: 6, message: 'server started on :8080', format: 'plain' } },
  // Since parser `auto` (issue 13) the leading stamp is read; `parser: syslog` keeps the time of reading.
  { name: 'ERROR word', line: '2026-01-12 11:15:58,123 ERROR [main] db down', want: { ts: Date.UTC(2026, 0, 12, 11, 15, 58, 123), severity: 3 } },
  { name: 'WARN word', line: '[WARN] slow query', want: { severity: 4 } },
  { name: 'FATAL word', line: 'FATAL: out of memory', want: { severity: 0 } },
  { name: 'empty line', line: '', want: { ts: NOW, severity: 6, message: '' } },
  { name: 'network garbage is user.notice, stamped now', network: true, line: '\u0000\u0001binary\uFFFD', want: { ts: NOW, facility: 1, severity: 5, message: '\u0000\u0001binary\uFFFD' } },
];

describe.each([
  ['RFC 5424', rfc5424],
  ['RFC 3339-stamped lines', rfc3339],
  ['plain lines', plain],
])('%s', (_name, cases) => {
  it.each(cases)('$name', (c) => {
    const got = (c.network ? parseSyslogFrame : parseLine)(c.line, { now: NOW, timeZone: c.zone });
    for (const [k, v] of Object.entries(c.want)) expect({ [k]: got[k as keyof ParsedLine] }).toEqual({ [k]: v });
  });
});

describe('syslog-parse 2.0.0 returns undefined where these parsers take over', () => {
  it.each([rfc5424[0]!, rfc3339[0]!])('$name', (c) => {
    expect(syslogParse(c.line)).toBeUndefined();
  });
});
