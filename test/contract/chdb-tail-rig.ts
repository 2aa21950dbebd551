// A collector on ClickHouse (the chdb fixture) listening on a real socket, with "another
// collector" beside it (its own log store on the same database), for the live-tail tests:
// lines stored here go through the ingest API, lines stored elsewhere through the other store.
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import type { AsyncLogStore } from '../../collector/storage/clickhouse/types.js';
import { openStorageAsync } from '../../collector/storage/factory.js';
import type { Storage } from '../../collector/storage/types.js';
import type { AppOptions } from '../../collector/app.js';
import { expect } from 'vitest';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';
import { subscribeSse, type Sse } from '../helpers/sse.js';
import { startChdb, type ChdbServer } from './chdb-fixture.js';

export interface TailRig {
  c: TestCollector;
  other: AsyncLogStore;
  base: string;
  /** one batch through this collector's ingest API, in a stream of its own */
  ingestHere(messages: string[], host: string): Promise<void>;
  subscribe(query: string, headers?: Record<string, string>): Promise<Sse>;
  close(): Promise<void>;
}

/** `lineIds: 'key'`: this collector's and the other's log stores use a cluster's line ids */
export async function chdbTailRig(database: string, o: { lineIds?: 'key'; tail: NonNullable<AppOptions['tail']> }): Promise<TailRig> {
  const dir = tempDir(`ringtail-chdb-${database}-`);
  const server: ChdbServer = await startChdb(`${dir.path}/chdb`);
  const clickhouse = { url: server.url, database };
  const storage: Storage = await openStorageAsync({ backend: 'clickhouse', data: `${dir.path}/data`, clickhouse });
  if (o.lineIds) {
    const replaced = storage.logs as AsyncLogStore;
    storage.logs = await openClickHouseLogStore({ ...clickhouse, lineIds: o.lineIds });
    await replaced.close();
  }
  const other = await openClickHouseLogStore({ ...clickhouse, ...(o.lineIds ? { lineIds: o.lineIds } : {}) });
  const c = await testCollector(undefined, { storage, dataDir: `${dir.path}/data`, tail: o.tail });
  const base = await c.app.listen({ host: '127.0.0.1', port: 0 });
  let seq = 0;
  return {
    c,
    other,
    base,
    async ingestHere(messages, host) {
      const res = await fetch(`${base}/api/v1/ingest`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json' },
        body: JSON.stringify(batchOf(messages, { stream: `here-${seq++}`, host })),
      });
      expect(res.status, await res.text()).toBe(200);
    },
    subscribe: (query, headers = {}) => subscribeSse(base, c.token('viewer'), query, headers),
    async close() {
      await c.close();
      await other.close();
      storage.close();
      await server.stop();
      dir.cleanup();
    },
  };
}

export const tailLogs = (s: Sse) => s.events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data) as { id: number; message: string });
