// A real syslog-ng (Debian syslog-ng-core) in the foreground with the caller's config and its
// own persist, pid and control files in `dir`, so tests never touch the system instance.
// Messages enter it through unix-dgram sockets the config declares; start waits until they exist.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from './proc.js';

/** Header every test config starts with: hostnames as sent, no DNS, no stats, quick reconnects. */
export const NG_HEADER = `@version: 3.38
options { keep-hostname(yes); chain-hostnames(no); use-dns(no); dns-cache(no); use-fqdn(no); stats-freq(0); time-reopen(1); };
`;

export interface SyslogNg {
  child: ChildProcess;
  /** everything syslog-ng wrote to stdout and stderr so far */
  output(): string;
  /** SIGTERM and wait for the exit (no-op when it already exited) */
  stop(): Promise<void>;
}

export async function startSyslogNg(dir: string, conf: string, sockets: string[]): Promise<SyslogNg> {
  writeFileSync(join(dir, 'ng.conf'), conf);
  const child = spawn(
    'syslog-ng',
    ['-F', '--no-caps', '-f', join(dir, 'ng.conf'), '-R', join(dir, 'persist'), '-p', join(dir, 'pid'), '-c', join(dir, 'ctl')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const ng: SyslogNg = {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    await waitFor(`syslog-ng socket${sockets.length === 1 ? '' : 's'}`, () => {
      if (child.exitCode !== null) throw new Error(`syslog-ng exited ${child.exitCode}: ${out}`);
      return sockets.every((s) => existsSync(s));
    });
  } catch (err) {
    await ng.stop();
    throw err;
  }
  return ng;
}
