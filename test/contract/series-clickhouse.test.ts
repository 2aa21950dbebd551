// The series store contract against the ClickHouse store, over the real client protocol: an
// embedded ClickHouse engine (chdb) behind test/fixtures/chdb-server.mjs.
import { afterAll, beforeAll } from 'vitest';
import { openClickHouseSeriesStore } from '../../collector/storage/clickhouse/metrics-store.js';
import { tempDir } from '../helpers/proc.js';
import { startChdb, type ChdbServer } from './chdb-fixture.js';
import { seriesContract } from './series.contract.js';

const dir = tempDir('ringtail-chdb-series-');
let server: ChdbServer;
let n = 0;

beforeAll(async () => {
  server = await startChdb(dir.path);
});
afterAll(async () => {
  await server?.stop();
  dir.cleanup();
});

seriesContract('clickhouse', () => openClickHouseSeriesStore({ url: server.url, database: `series_${process.pid}_${n++}`, collectorId: 'c1' }));
