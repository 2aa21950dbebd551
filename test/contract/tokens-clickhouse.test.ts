// The token store contract on ClickHouse: two collectors' clients on one database of an embedded
// ClickHouse engine (chdb) behind test/fixtures/chdb-server.mjs.
import { chdbForFile } from './chdb-fixture.js';
import { clickhousePair } from './auth-pair.js';
import { tokensContract } from './tokens.contract.js';

const chdb = chdbForFile('ringtail-chdb-tokens-');
tokensContract('clickhouse', clickhousePair(() => chdb.server.url));
