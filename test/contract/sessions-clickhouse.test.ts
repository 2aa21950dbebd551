// The dashboard session store contract on ClickHouse: two collectors' clients on one database of
// an embedded ClickHouse engine (chdb) behind test/fixtures/chdb-server.mjs.
import { chdbForFile } from './chdb-fixture.js';
import { clickhousePair } from './auth-pair.js';
import { sessionsContract } from './sessions.contract.js';

const chdb = chdbForFile('ringtail-chdb-sessions-');
sessionsContract('clickhouse', clickhousePair(() => chdb.server.url));
