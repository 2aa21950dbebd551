// The ClickHouse log store (--storage clickhouse): opens the client, creates or checks the
// schema, and puts every call behind `guarded` so an unreachable ClickHouse is a 503.
import { connectDatabase, guarded } from './connection.js';
import { clickhouseIngest } from './ingest.js';
import { clickhouseQuery } from './query.js';
import { clickhouseRetention } from './retention.js';
import { keyTailFeed } from './tail-feed.js';
import { checkDatabaseName, checkTtlDays, ensureSchema } from './schema.js';
import type { AsyncLogStore, ClickHouseLogOptions } from './types.js';

export type { AsyncLogStore, AsyncRetentionOps, ClickHouseLogOptions } from './types.js';
export { openClickHouseAuth, REVOCATION_DELAY_MS, type ClickHouseAuth } from './auth.js';

export async function openClickHouseLogStore(opts: ClickHouseLogOptions): Promise<AsyncLogStore> {
  const database = checkDatabaseName(opts.database);
  checkTtlDays(opts.ttlDays);
  const { client, layout, url } = await connectDatabase(opts, database);
  await guarded('set up the log tables', url, () => ensureSchema(client, database, { ttlDays: opts.ttlDays, url, upgrade: opts.upgradeSchema, layout }));
  const ingestMany = clickhouseIngest(client, layout);
  const ids = opts.lineIds ?? (layout ? 'key' : 'block');
  const q = clickhouseQuery(client, ids);
  // with 'key' ids nothing orders lines by id: the live tail takes tailFeed instead
  const noIdOrder = (what: string) => async (): Promise<never> => {
    throw new Error(`${what}: line ids are not in commit order here (ids.ts 'key'); the live tail uses tailFeed`);
  };
  const r = clickhouseRetention(client, layout);
  const g =
    <A extends unknown[], T>(what: string, fn: (...a: A) => Promise<T>) =>
    (...a: A) =>
      guarded(what, url, () => fn(...a));
  return {
    ingest: async (batch, receivedAt) => (await g('store lines', ingestMany)([{ batch, receivedAt }]))[0]!,
    ingestMany: g('store lines', ingestMany),
    query: g('read lines', q.query),
    histogram: g('count lines', q.histogram),
    cursorAfter: q.cursorAfter,
    ...(ids === 'block'
      ? {
          since: g('read new lines', q.since),
          latest: g('read recent lines', q.latest),
          matchIds: g('search new lines', q.matchIds),
          maxId: g('read the newest line id', q.maxId),
        }
      : {
          since: noIdOrder('since'),
          latest: noIdOrder('latest'),
          matchIds: noIdOrder('matchIds'),
          maxId: noIdOrder('maxId'),
          tailFeed: () => {
            const f = keyTailFeed(client, { lookbackMs: opts.tailLookbackMs });
            return { next: g('read new lines', f.next), matchIds: g('search new lines', f.matchIds) };
          },
        }),
    hosts: g('list hosts', q.hosts),
    retention: {
      deleteOlderThan: g('delete old lines', r.deleteOlderThan),
      deleteOldest: g('delete old lines', r.deleteOldest),
      usedBytes: g('measure the log tables', r.usedBytes),
    },
    close: () => client.close(),
  };
}
