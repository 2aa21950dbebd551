// A chdb server per test file (the launch itself, shared with the benchmarks, is bench/lib/chdb.ts:
// test/fixtures/chdb-server.mjs as a child process, stopped or restarted on the same directory and port).
import { afterAll, beforeAll } from 'vitest';
import { startChdb, type ChdbServer } from '../../bench/lib/chdb.js';
import { tempDir } from '../helpers/proc.js';

export { startChdb, type ChdbServer };

/**
 * One chdb server for a test file, in a temporary directory: started before its tests, stopped
 * (and the directory removed) after them. `server` is set once the file's beforeAll has run.
 */
export function chdbForFile(prefix: string, opts: { config?: string } = {}): { readonly server: ChdbServer } {
  const dir = tempDir(prefix);
  const file = { server: undefined as unknown as ChdbServer };
  beforeAll(async () => {
    file.server = await startChdb(dir.path, opts);
  });
  afterAll(async () => {
    await file.server?.stop();
    dir.cleanup();
  });
  return file;
}
