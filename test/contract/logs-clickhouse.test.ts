// The log store contract against the ClickHouse store, over the real client protocol: an
// embedded ClickHouse engine (chdb) behind test/fixtures/chdb-server.mjs, @clickhouse/client
// talking HTTP to it.
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import { chdbForFile } from './chdb-fixture.js';
import { logsContract } from './logs.contract.js';

const chdb = chdbForFile('ringtail-chdb-');
let n = 0;

logsContract('clickhouse', () => openClickHouseLogStore({ url: chdb.server.url, database: `contract_${process.pid}_${n++}` }));
