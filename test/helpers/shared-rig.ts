// The fixture of the end-to-end tests where several ringtail processes share one ClickHouse: a
// temporary directory, one chdb server in it (the real client protocol), the processes a test
// starts (SIGKILLed after the file) and, when asked, a webhook receiver on 127.0.0.1.
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { startChdb, type ChdbServer } from '../contract/chdb-fixture.js';
import { hookReceiver, type Hook } from './alerts.js';
import { tempDir, type Proc } from './proc.js';

export interface SharedRig {
  dir: { path: string; cleanup(): void };
  procs: Proc[];
  /** set once the file's beforeAll has run */
  readonly chdb: ChdbServer;
  /** with `{ hook: true }` only */
  readonly hook: Hook;
}

/** KEEP=1 keeps the directory (the processes' logs and data) for a look after a failure */
export function sharedRig(prefix: string, opts: { hook?: boolean } = {}): SharedRig {
  const dir = tempDir(prefix);
  const procs: Proc[] = [];
  let chdb: ChdbServer | undefined;
  let hook: Hook | undefined;
  beforeAll(async () => {
    chdb = await startChdb(join(dir.path, 'chdb'));
    if (opts.hook) hook = await hookReceiver();
  });
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await hook?.close();
    await chdb?.stop();
    if (!process.env.KEEP) dir.cleanup();
  });
  const set = <T>(what: string, v: T | undefined): T => {
    if (v === undefined) throw new Error(`sharedRig: no ${what} (before beforeAll, or not asked for)`);
    return v;
  };
  return {
    dir,
    procs,
    get chdb() {
      return set('chdb server', chdb);
    },
    get hook() {
      return set('webhook receiver', hook);
    },
  };
}
