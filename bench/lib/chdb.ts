// One chdb server (test/fixtures/chdb-server.mjs: ClickHouse's HTTP interface over one embedded
// chdb engine, in a child process of its own) for the benchmarks and the tests alike: started on
// a data directory, killed, restarted on the same directory and port, stopped. Here rather than
// under test/ because the benchmarks are built to dist/ and the tests are not; nothing in it
// needs vitest (test/contract/chdb-fixture.ts adds the per-file lifecycle on top).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/fixtures/chdb-server.mjs, found upwards from here (bench/lib/ in the source, dist/bench/lib/ built) */
function serverScript(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const p = join(dir, 'test', 'fixtures', 'chdb-server.mjs');
    if (existsSync(p)) return p;
    if (dirname(dir) === dir) throw new Error('test/fixtures/chdb-server.mjs not found above ' + fileURLToPath(import.meta.url));
  }
}

export interface ChdbServer {
  url: string;
  port: number;
  pid(): number;
  /** kills the engine (SIGKILL: no shutdown of its own) and waits for it to be gone */
  kill(): Promise<void>;
  /** starts it again on the same directory and port */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function launch(dir: string, port: number, config?: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [serverScript(), '--dir', dir, '--port', String(port), ...(config ? ['--config', config] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /listening 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', (code, signal) => reject(new Error(`chdb fixture exited (${code ?? signal}) before listening: ${err}`)));
  });
}

const gone = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once('exit', () => r()));

/** `config`: a configuration file for the engine (clickhouse local's --config-file) */
export async function startChdb(dir: string, opts: { config?: string } = {}): Promise<ChdbServer> {
  let { child, port } = await launch(dir, 0, opts.config);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: () => child.pid!,
    async kill() {
      child.kill('SIGKILL');
      await gone(child);
    },
    async restart() {
      child = (await launch(dir, port, opts.config)).child;
    },
    async stop() {
      child.kill('SIGTERM');
      await gone(child);
    },
  };
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** CPU seconds (user + system) of a process, from /proc: the engine's, for CPU per line */
export function procCpu(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** CPU seconds of this process */
export function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
