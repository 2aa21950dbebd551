// A `ringtail collector --storage clickhouse` process for the multi-collector end-to-end tests:
// its own --data, an agent token made on the shared store (tokens are shared there,
// docs/scale-out.md), and the same port when restarted after a SIGKILL, so that its agents
// reconnect to it.
import { join } from 'node:path';
import { ADMIN, freePort } from './agent-run.js';
import { createToken, startCollectorProc, type Proc } from './proc.js';

export class SharedCollector {
  readonly data: string;
  port = 0;
  url = '';
  token = '';
  proc: Proc | null = null;
  /** `procs` collects every process started, for the test's afterAll to kill */
  constructor(
    readonly name: string,
    baseDir: string,
    private readonly ch: { url: string; database: string },
    private readonly procs: Proc[],
    /** more `ringtail collector` options (e.g. host timings) */
    private readonly extra: string[] = [],
  ) {
    this.data = join(baseDir, name);
  }

  async start(): Promise<void> {
    if (!this.token) {
      this.token = await createToken(['--storage', 'clickhouse', '--clickhouse-url', this.ch.url, '--clickhouse-database', this.ch.database]);
      this.port = await freePort();
    }
    const c = await startCollectorProc(this.data, ADMIN, ['--listen', `127.0.0.1:${this.port}`, '--storage', 'clickhouse', '--clickhouse-url', this.ch.url, '--clickhouse-database', this.ch.database, ...this.extra]);
    this.procs.push(c.proc);
    this.proc = c.proc;
    this.url = c.url;
  }
}
