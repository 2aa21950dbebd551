// The host state store contract on ClickHouse: two collectors' clients on one database of an
// embedded ClickHouse engine (chdb) behind test/fixtures/chdb-server.mjs.
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import { openClickHouseHostStore } from '../../collector/storage/clickhouse/hosts.js';
import { chdbForFile } from './chdb-fixture.js';
import { hostsContract } from './hosts.contract.js';

const chdb = chdbForFile('ringtail-chdb-hosts-');
let n = 0;

hostsContract(
  'clickhouse',
  async () => {
    const ch = { url: chdb.server.url, database: `hosts_${process.pid}_${n++}` };
    const logs = await Promise.all([openClickHouseLogStore(ch), openClickHouseLogStore(ch)]);
    const hosts = await Promise.all([openClickHouseHostStore(ch), openClickHouseHostStore(ch)]);
    return {
      a: { hosts: hosts[0], logs: logs[0] },
      b: { hosts: hosts[1], logs: logs[1] },
      async close() {
        await Promise.all([...logs, ...hosts].map((s) => s.close()));
      },
    };
  },
  { shared: true },
);
