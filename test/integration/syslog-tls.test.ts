// Syslog over TLS (RFC 5425, octet counting) into the collector's syslog.tls_port, from a real
// syslog-ng 3.38 (Debian syslog-ng-core) with the README's destination:
// syslog(transport(tls) tls(ca-file(...) peer-verify(required-trusted))), trusting a private CA
// made by openssl. The lines must be stored and searchable through the (https) API; a sender
// speaking plain TCP to the TLS port is refused and logged, and stores nothing.
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { tempDir, waitFor } from '../helpers/proc.js';
import { makeCa, tlsRequest, type PrivateCa } from '../helpers/tls-ca.js';
import { startSyslogNg, NG_HEADER, type SyslogNg } from '../helpers/syslog-ng.js';
import { hasTool } from '../helpers/tools.js';

const run = promisify(execFile);
const ADMIN = 'rt_admin_syslog_tls_0123456789ab';

describe.skipIf(!hasTool('syslog-ng', 'syslog-ng-core') || !hasTool('logger', 'bsdutils') || !hasTool('openssl'))('syslog-ng → TLS → ringtail', () => {
  const dir = tempDir('ringtail-syslog-tls-');
  const sock = join(dir.path, 'in.sock');
  const log: string[] = [];
  let ca: PrivateCa;
  let c: RunningCollector;
  let tlsPort = 0;
  let ng: SyslogNg;

  beforeAll(async () => {
    ca = makeCa(dir.path, 'syslog');
    const srv = ca.server('collector');
    c = await startCollector(
      {
        data: join(dir.path, 'data'),
        listen: '127.0.0.1:0',
        admin_token: ADMIN,
        body_limit: 1 << 24,
        log_level: 'info',
        syslog: { enabled: true, host: '127.0.0.1', udp_port: 0, tcp_port: 0, tls_port: 0, time_zone: 'UTC', max_message_bytes: 65536, max_connections: 10, idle_timeout_ms: 60_000 },
        tls: { cert: srv.cert, key: srv.key, http2: true },
      },
      { write: (s: string) => (log.push(s), true) } as unknown as NodeJS.WritableStream,
    );
    tlsPort = c.app.syslog.addresses().find((a) => a.transport === 'tls')!.port;
    ng = await startSyslogNg(
      dir.path,
      `${NG_HEADER}source s_in { unix-dgram("${sock}" flags(expect-hostname)); };
rewrite r_host { set("ng-tls-host" value("HOST")); };
destination d_tls { syslog("localhost" transport(tls) port(${tlsPort}) tls(ca-file("${ca.ca}") peer-verify(required-trusted)) persist-name("ng-tls")); };
log { source(s_in); rewrite(r_host); destination(d_tls); };
`,
      [sock],
    );
  });

  afterAll(async () => {
    await ng?.stop();
    await c?.close();
    dir.cleanup();
  });

  const search = async (q: string) => {
    const res = await tlsRequest(c.url, `/api/v1/logs?limit=1000&q=${encodeURIComponent(q)}`, { ca: ca.ca, token: ADMIN });
    expect(res.status, res.body).toBe(200);
    return (JSON.parse(res.body) as { items: Array<{ host: string; source: string; program: string; message: string }> }).items;
  };

  it('stores what syslog-ng sends over TLS, searchable, none lost or duplicated', async () => {
    await run('logger', ['--socket', sock, '--rfc3164', '-p', 'auth.warning', '-t', 'sshd', '--id=4242', 'tlsprobe single line']);
    const [one] = await waitFor('the first line searchable', async () => {
      const items = await search('tlsprobe');
      return items.length >= 1 && items;
    }, 20_000, 100);
    expect(one).toMatchObject({ host: 'ng-tls-host', program: 'sshd', source: 'syslog:tls', message: 'tlsprobe single line' });

    await new Promise<void>((resolve, reject) => {
      const child = execFile('logger', ['--socket', sock, '--rfc3164', '-p', 'user.info', '-t', 'bulk'], (err) => (err ? reject(err) : resolve()));
      child.stdin!.end(Array.from({ length: 300 }, (_, i) => `tlsbulk ${i}`).join('\n') + '\n');
    });
    const rows = await waitFor('300 bulk lines', async () => {
      const items = await search('tlsbulk');
      return items.length >= 300 && items;
    }, 30_000, 200);
    expect(rows.map((r) => r.message).sort()).toEqual(Array.from({ length: 300 }, (_, i) => `tlsbulk ${i}`).sort());
    expect(ng.output()).not.toMatch(/error/i);
  });

  it('refuses a plain-TCP sender on the TLS port and logs it; nothing is stored', async () => {
    const s = connect({ host: '127.0.0.1', port: tlsPort });
    await new Promise<void>((resolve) => s.once('connect', () => resolve()));
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    s.on('error', () => undefined);
    s.end('<13>Oct  1 12:00:00 plainhost app: plainprobe over tcp\n');
    await closed;
    await waitFor('the refusal logged', () => log.some((l) => l.includes('"tls.handshake_refused"') && l.includes('"port":"syslog-tls"')), 10_000);
    expect(await search('plainprobe')).toEqual([]);
  });
});
