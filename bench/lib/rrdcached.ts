// rrdcached as a benchmark peer: started on a unix socket with a -j journal (-B: files only under
// its base directory, -F: flush on exit), BATCH of update lines, FLUSH of files, and its CPU time.
// Used by bench/rrd.ts and bench/clickhouse-metrics.ts.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_RRA } from '../../collector/metrics/layout.js';

/**
 * The collector's default host layout (collector/metrics/layout.ts) with one GAUGE DS, in rrdtool's
 * create syntax: what each peer creates for every series of the rrd benchmarks.
 */
export const HOST_LAYOUT = ['DS:value:GAUGE:20:U:U', ...DEFAULT_RRA.map((r) => `RRA:${r.cf}:${r.xff}:${r.pdpPerRow}:${r.rows}`)];

export class Cached {
  private sock!: Socket;
  private buf = '';
  private waiter: (() => void) | undefined;
  readonly proc: ChildProcessWithoutNullStreams;
  constructor(
    readonly dir: string,
    readonly base: string,
  ) {
    mkdirSync(join(dir, 'journal'), { recursive: true });
    this.proc = spawn('rrdcached', ['-g', '-l', `unix:${join(dir, 'sock')}`, '-j', join(dir, 'journal'), '-b', base, '-B', '-F', '-p', join(dir, 'pid')]);
    this.proc.stderr.resume();
    this.proc.stdout.resume();
  }
  async connect(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        this.sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(join(this.dir, 'sock'), () => resolve(s));
          s.once('error', reject);
        });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50)); // the socket appears when rrdcached is up
      }
    }
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => {
      this.buf += d;
      this.waiter?.();
    });
  }
  private async until(re: RegExp): Promise<string> {
    for (;;) {
      const m = re.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m.index + m[0].length);
        return m[0];
      }
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
  async batch(lines: string[]): Promise<string> {
    this.sock.write('BATCH\n');
    await this.until(/^0 Go ahead[^\n]*\n/m);
    this.sock.write(lines.join('\n') + '\n.\n');
    return this.until(/^-?\d+ errors\n/m);
  }
  async flushEach(files: string[]): Promise<void> {
    this.sock.write(files.map((f) => `FLUSH ${f}\n`).join(''));
    for (let i = 0; i < files.length; i++) await this.until(/^-?\d+ [^\n]*\n/m);
  }
  /** CPU seconds rrdcached's threads have run (schedstat: nanoseconds on a CPU). */
  cpuSeconds(): number {
    const dir = `/proc/${this.proc.pid}/task`;
    let ns = 0;
    for (const t of readdirSync(dir)) {
      try {
        ns += Number(readFileSync(join(dir, t, 'schedstat'), 'utf8').split(' ')[0]);
      } catch {
        // a thread that ended between the listing and the read
      }
    }
    return ns / 1e9;
  }
  async stop(): Promise<void> {
    this.sock.end();
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }
}
