// The log store contract against the ClickHouse store, over the real client protocol: an
// embedded ClickHouse engine (chdb) behind test/fixtures/chdb-server.mjs, @clickhouse/client
// talking HTTP to it.
import { afterAll, beforeAll } from 'vitest';
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import { tempDir } from '../helpers/proc.js';
import { startChdb, type ChdbServer } from './chdb-fixture.js';
import { logsContract } from './logs.contract.js';

const dir = tempDir('ringtail-chdb-');
let server: ChdbServer;
let n = 0;

beforeAll(async () => {
  server = await startChdb(dir.path);
});
afterAll(async () => {
  await server?.stop();
  dir.cleanup();
});

logsContract('clickhouse', () => openClickHouseLogStore({ url: server.url, database: `contract_${process.pid}_${n++}` }));
