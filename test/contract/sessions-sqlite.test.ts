// The dashboard session store contract on SQLite: two connections to one database file.
import { sqlitePair } from './auth-pair.js';
import { sessionsContract } from './sessions.contract.js';

sessionsContract('sqlite', sqlitePair());
