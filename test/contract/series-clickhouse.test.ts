// The series store contract against the ClickHouse store, over the real client protocol: an
// embedded ClickHouse engine (chdb) behind test/fixtures/chdb-server.mjs.
import { openClickHouseSeriesStore } from '../../collector/storage/clickhouse/metrics-store.js';
import { chdbForFile } from './chdb-fixture.js';
import { seriesContract } from './series.contract.js';

const chdb = chdbForFile('ringtail-chdb-series-');
let n = 0;

seriesContract('clickhouse', () => openClickHouseSeriesStore({ url: chdb.server.url, database: `series_${process.pid}_${n++}`, collectorId: 'c1' }));
