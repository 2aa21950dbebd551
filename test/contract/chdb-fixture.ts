// Starts test/fixtures/chdb-server.mjs (ClickHouse's HTTP interface over one embedded chdb
// engine) as a child process, and stops or restarts it on the same data directory and port.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { tempDir } from '../helpers/proc.js';

const SERVER = fileURLToPath(new URL('../fixtures/chdb-server.mjs', import.meta.url));

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

function launch(dir: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [SERVER, '--dir', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
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

export async function startChdb(dir: string): Promise<ChdbServer> {
  let { child, port } = await launch(dir, 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: () => child.pid!,
    async kill() {
      child.kill('SIGKILL');
      await gone(child);
    },
    async restart() {
      child = (await launch(dir, port)).child;
    },
    async stop() {
      child.kill('SIGTERM');
      await gone(child);
    },
  };
}

/**
 * One chdb server for a test file, in a temporary directory: started before its tests, stopped
 * (and the directory removed) after them. `server` is set once the file's beforeAll has run.
 */
export function chdbForFile(prefix: string): { readonly server: ChdbServer } {
  const dir = tempDir(prefix);
  const file = { server: undefined as unknown as ChdbServer };
  beforeAll(async () => {
    file.server = await startChdb(dir.path);
  });
  afterAll(async () => {
    await file.server?.stop();
    dir.cleanup();
  });
  return file;
}
