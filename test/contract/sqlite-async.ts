// The SQLite storage's log store (asynchronous since the seam: collector/storage/types.ts
// asyncLogStore) with a close, as the contract suites open and close a store.
import type { AsyncLogStore } from '../../collector/storage/clickhouse/types.js';
import type { Storage } from '../../collector/storage/types.js';

export function asyncSqlite(storage: Storage): AsyncLogStore {
  return { ...storage.logs, close: async () => storage.close() };
}
