// A real syslog-ng 3.38 (Debian syslog-ng-core, run in the foreground with its own config,
// persist, pid and control files in a temp dir) forwarding to the receiver over TCP with its
// network() destination (RFC 3164, LF framing) and its syslog() destination (RFC 5424, octet
// counting). Messages enter syslog-ng through a unix-dgram socket from `logger`.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../helpers/proc.js';
import { hasTool } from '../helpers/tools.js';
import { syslogApp, type SyslogApp } from '../helpers/syslog.js';
import { startSyslogNg, NG_HEADER, type SyslogNg } from '../helpers/syslog-ng.js';

const run = promisify(execFile);

describe.skipIf(!hasTool('syslog-ng', 'syslog-ng-core') || !hasTool('logger', 'bsdutils'))('syslog-ng → ringtail', () => {
  let s: SyslogApp;
  let ng: SyslogNg;
  const dir = tempDir('ringtail-syslog-ng-');
  const sock = (name: string) => join(dir.path, `${name}.sock`);

  beforeAll(async () => {
    s = await syslogApp();
    ng = await startSyslogNg(
      dir.path,
      `${NG_HEADER}source s_bsd { unix-dgram("${sock('bsd')}" flags(expect-hostname)); };
source s_ietf { unix-dgram("${sock('ietf')}" flags(expect-hostname)); };
rewrite r_bsd { set("ng-bsd-host" value("HOST")); };
rewrite r_ietf { set("ng-ietf-host" value("HOST")); };
destination d_network { network("127.0.0.1" transport(tcp) port(${s.tcpPort}) persist-name("ng-network")); };
destination d_syslog { syslog("127.0.0.1" transport(tcp) port(${s.tcpPort}) persist-name("ng-syslog")); };
log { source(s_bsd); rewrite(r_bsd); destination(d_network); };
log { source(s_ietf); rewrite(r_ietf); destination(d_syslog); };
`,
      [sock('bsd'), sock('ietf')],
    );
  });

  afterAll(async () => {
    await ng?.stop();
    await s?.close();
    dir.cleanup();
  });

  async function log(socket: string, priority: string, tag: string, msg: string) {
    await run('logger', ['--socket', sock(socket), '--rfc3164', '-p', priority, '-t', tag, '--id=31337', msg]);
  }

  it('network() destination: RFC 3164 over TCP with LF framing', async () => {
    await log('bsd', 'local4.err', 'bsdapp', 'from network destination');
    const [row] = await s.waitRows(1, "message = 'from network destination'");
    expect(row).toMatchObject({ host: 'ng-bsd-host', program: 'bsdapp', pid: 31337, facility: 20, severity: 3, source: 'syslog:tcp' });
  });

  it('syslog() destination: RFC 5424 over TCP with octet counting', async () => {
    await log('ietf', 'mail.warning', 'ietfapp', 'from syslog destination');
    const [row] = await s.waitRows(1, "message = 'from syslog destination'");
    expect(row).toMatchObject({ host: 'ng-ietf-host', program: 'ietfapp', pid: 31337, facility: 2, severity: 4, source: 'syslog:tcp' });
  });

  it('500 messages through each destination, none lost, none duplicated, in order', async () => {
    const feed = (socket: string, prefix: string) =>
      new Promise<void>((resolve, reject) => {
        const child = execFile('logger', ['--socket', sock(socket), '--rfc3164', '-p', 'user.info', '-t', 'many'], (err) => (err ? reject(err) : resolve()));
        child.stdin!.end(Array.from({ length: 500 }, (_, i) => `${prefix} ${i}`).join('\n') + '\n');
      });
    await Promise.all([feed('bsd', 'bsd'), feed('ietf', 'ietf')]);
    const rows = await s.waitRows(1000, "program = 'many'");
    const bsd = rows.filter((r) => r.host === 'ng-bsd-host').map((r) => r.message);
    const ietf = rows.filter((r) => r.host === 'ng-ietf-host').map((r) => r.message);
    expect(bsd).toEqual(Array.from({ length: 500 }, (_, i) => `bsd ${i}`));
    expect(ietf).toEqual(Array.from({ length: 500 }, (_, i) => `ietf ${i}`));
    expect(rows.every((r) => r.facility === 1 && r.severity === 6)).toBe(true);
  });
});
