// The SQLite store (synchronous LogStore) behind the asynchronous interface the contract
// tests, as the reshaped storage seam will put it.
import type { AsyncLogStore } from '../../collector/storage/clickhouse/types.js';
import type { Storage } from '../../collector/storage/types.js';

/** The synchronous LogStore as an AsyncLogStore (what the reshaped seam will do for SQLite). */
export function asyncSqlite(storage: Storage): AsyncLogStore {
  const l = storage.logs;
  const a =
    <A extends unknown[], T>(fn: (...args: A) => T) =>
    async (...args: A) =>
      fn(...args);
  return {
    ingest: a(l.ingest.bind(l)),
    ingestMany: a(l.ingestMany.bind(l)),
    query: a(l.query.bind(l)),
    histogram: a(l.histogram.bind(l)),
    cursorAfter: l.cursorAfter.bind(l),
    since: a(l.since.bind(l)),
    matchIds: a(l.matchIds.bind(l)),
    maxId: a(l.maxId.bind(l)),
    hosts: a(l.hosts.bind(l)),
    retention: {
      deleteOlderThan: a(l.retention.deleteOlderThan.bind(l.retention)),
      deleteOldest: a(l.retention.deleteOldest.bind(l.retention)),
      usedBytes: a(l.retention.usedBytes.bind(l.retention)),
    },
    close: async () => storage.close(),
  };
}

