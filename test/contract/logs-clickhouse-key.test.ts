// The log store contract on ClickHouse with a cluster's line ids (ids.ts 'key'): pages and
// cursors by the line's identity, ids that are identity hashes. On a cluster `logs` is the
// Distributed table over the shards' replicated tables, and these statements are the same
// text there; chdb cannot run a cluster, so they run here on one server's tables.
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import { chdbForFile } from './chdb-fixture.js';
import { logsContract } from './logs.contract.js';

const chdb = chdbForFile('ringtail-chdb-key-');
let n = 0;

logsContract('clickhouse, cluster ids', () => openClickHouseLogStore({ url: chdb.server.url, database: `contract_key_${process.pid}_${n++}`, lineIds: 'key' }), { idTail: false });
