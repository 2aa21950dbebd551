// The alert store contract against ClickHouse, over the real client protocol: an embedded
// ClickHouse engine (chdb) behind test/fixtures/chdb-server.mjs. A name is a database, so two
// opens of one name are two collectors sharing it.
import { openClickHouseAlertStore } from '../../collector/storage/clickhouse/alerts.js';
import { chdbForFile } from './chdb-fixture.js';
import { alertStoreContract } from './alerts.contract.js';

const chdb = chdbForFile('ringtail-chdb-alert-store-');

alertStoreContract('clickhouse', (name) => openClickHouseAlertStore({ url: chdb.server.url, database: `alerts_${process.pid}_${name}` }));
