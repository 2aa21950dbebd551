// The log store contract against the SQLite store (the embedded default), through a thin async
// wrapper: the same answers the ClickHouse store must give.
import { afterAll } from 'vitest';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { tempDir } from '../helpers/proc.js';
import { logsContract } from './logs.contract.js';
import { asyncSqlite } from './sqlite-async.js';

const dirs: Array<{ cleanup(): void }> = [];
afterAll(() => dirs.forEach((d) => d.cleanup()));

logsContract('sqlite', async () => {
  const dir = tempDir('ringtail-contract-');
  dirs.push(dir);
  return asyncSqlite(openSqliteStorage(dir.path));
});
