// The host state store contract on SQLite: two connections to one database file.
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { tempDir } from '../helpers/proc.js';
import { hostsContract } from './hosts.contract.js';

hostsContract(
  'sqlite',
  async () => {
    const dir = tempDir('ringtail-hosts-');
    const a = openSqliteStorage(dir.path);
    const b = openSqliteStorage(dir.path);
    return {
      a: { hosts: a.hostStates!, logs: a.logs },
      b: { hosts: b.hostStates!, logs: b.logs },
      async close() {
        a.close();
        b.close();
        dir.cleanup();
      },
    };
  },
  { shared: false },
);
