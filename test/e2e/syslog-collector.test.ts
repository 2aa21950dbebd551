// `ringtail collector` as a real process receives syslog on the ports it prints; a host that only
// sends syslog shows up in /api/v1/hosts and its lines in /api/v1/logs.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { allLogs, api, runRingtail, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';
import { hasTool } from '../helpers/tools.js';

const run = promisify(execFile);
const ADMIN = 'e2e-admin-token-0123456789';

describe.skipIf(!hasTool('logger', 'bsdutils'))('ringtail collector receives syslog', () => {
  const dir = tempDir('ringtail-e2e-syslog-');
  let proc: Proc | null = null;
  afterAll(async () => {
    await proc?.kill();
    dir.cleanup();
  });

  it('prints its syslog ports; lines from a syslog-only host are stored and listed', async () => {
    const c = await startCollectorProc(dir.path, ADMIN);
    proc = c.proc;
    const ports = await waitFor('syslog ports', () => {
      const udp = /syslog receiver on udp:\/\/127\.0\.0\.1:(\d+)/.exec(c.proc.stdout())?.[1];
      const tcp = /syslog receiver on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(c.proc.stdout())?.[1];
      return udp && tcp ? { udp, tcp } : undefined;
    });
    await run('logger', ['--server', '127.0.0.1', '--port', ports.udp, '--udp', '--rfc5424', '-t', 'e2e', 'via udp']);
    await run('logger', ['--server', '127.0.0.1', '--port', ports.tcp, '--tcp', '--octet-count', '--rfc5424', '-t', 'e2e', 'via tcp']);
    const lines = await waitFor('both lines', async () => {
      const l = await allLogs(c.url, ADMIN, '&program=e2e');
      return l.length >= 2 ? l : undefined;
    });
    expect(lines.map((l) => [l.source, l.message]).sort()).toEqual([['syslog:tcp', 'via tcp'], ['syslog:udp', 'via udp']]);
    const hosts = await api<{ items: Array<{ host: string }> }>(c.url, ADMIN, '/api/v1/hosts');
    expect(hosts.items.map((h) => h.host)).toContain(lines[0]!.host);
  });

  it('a syslog port already in use is a one-line error naming the flag, exit 2', async () => {
    const other = tempDir('ringtail-e2e-syslog2-');
    try {
      const busy = /syslog receiver on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(proc!.stdout())![1]!;
      const r = await runRingtail(['collector', '--data', other.path, '--listen', '127.0.0.1:0', '--syslog-tcp-port', busy, '--syslog-udp-port', '0', '--admin-token', ADMIN]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`RINGTAIL_ERR_CONFIG --syslog-tcp-port: syslog receiver cannot listen on 127\\.0\\.0\\.1:${busy}: EADDRINUSE`));
    } finally {
      other.cleanup();
    }
  });
});
