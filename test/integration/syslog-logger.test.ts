// Real senders: util-linux `logger` over UDP and TCP, RFC 3164 and RFC 5424, LF framing and
// octet counting, into the receiver on loopback.
import { execFile } from 'node:child_process';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool } from '../helpers/tools.js';
import { syslogApp, type SyslogApp } from '../helpers/syslog.js';

const run = promisify(execFile);
const HOST = hostname().split('.')[0]!;

describe.skipIf(!hasTool('logger', 'bsdutils'))('logger (util-linux) → ringtail', () => {
  let s: SyslogApp;
  beforeAll(async () => {
    // logger writes RFC 3164 stamps in its own local zone; the receiver is told the same zone.
    s = await syslogApp({ syslog: { time_zone: 'Europe/Berlin' } });
  });
  afterAll(async () => s?.close());

  const cases = [
    { name: 'udp rfc3164', args: ['--udp', '--rfc3164'], format: '3164' },
    { name: 'udp rfc5424', args: ['--udp', '--rfc5424'], format: '5424' },
    { name: 'tcp rfc3164 (LF framing)', args: ['--tcp', '--rfc3164'], format: '3164' },
    { name: 'tcp rfc5424 (LF framing)', args: ['--tcp', '--rfc5424'], format: '5424' },
    { name: 'tcp rfc5424 --octet-count', args: ['--tcp', '--rfc5424', '--octet-count'], format: '5424' },
    { name: 'tcp rfc3164 --octet-count', args: ['--tcp', '--rfc3164', '--octet-count'], format: '3164' },
  ];

  it.each(cases)('$name: host, program, pid, facility, severity, time', async ({ name, args, format }) => {
    const marker = `marker ${name} ${Math.random().toString(36).slice(2)}`;
    const before = Date.now();
    const port = args.includes('--udp') ? s.udpPort : s.tcpPort;
    await run('logger', ['--server', '127.0.0.1', '--port', String(port), ...args, '-t', 'myprog', '-p', 'local3.warning', '--id=4242', marker], {
      env: { ...process.env, TZ: 'Europe/Berlin' },
    });
    const [row] = await s.waitRows(1, 'message = ?', marker);
    expect(row).toMatchObject({ host: HOST, program: 'myprog', pid: 4242, facility: 19, severity: 4, source: args.includes('--udp') ? 'syslog:udp' : 'syslog:tcp' });
    // RFC 3164 has whole seconds in the sender's zone; a wrong zone would be an hour or two off.
    expect(row!.ts).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
    expect(row!.ts).toBeLessThanOrEqual(Date.now() + 1000);
    if (format === '5424') expect(JSON.parse(row!.fields!)).toMatchObject({ 'sd.timeQuality.tzKnown': '1' });
  });

  it('structured data and msgid from logger --sd-id/--sd-param/--msgid', async () => {
    const marker = `sd ${Math.random().toString(36).slice(2)}`;
    await run('logger', ['--server', '127.0.0.1', '--port', String(s.tcpPort), '--tcp', '--octet-count', '--rfc5424', '-t', 'zoo', '--msgid', 'FEED', '--sd-id', 'zoo@32473', '--sd-param', 'tiger="hungry"', marker]);
    const [row] = await s.waitRows(1, 'message = ?', marker);
    expect(JSON.parse(row!.fields!)).toMatchObject({ msgid: 'FEED', 'sd.zoo@32473.tiger': 'hungry' });
  });

  it('100 lines from a file through one TCP connection, in order', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `bulk ${i}`);
    const child = execFile('logger', ['--server', '127.0.0.1', '--port', String(s.tcpPort), '--tcp', '--rfc5424', '-t', 'bulk']);
    child.stdin!.end(lines.join('\n') + '\n');
    await new Promise((resolve) => child.on('exit', resolve));
    const rows = await s.waitRows(100, "program = 'bulk'");
    expect(rows.map((r) => r.message)).toEqual(lines);
  });
});
