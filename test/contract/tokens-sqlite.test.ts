// The token store contract on SQLite: two connections to one database file.
import { sqlitePair } from './auth-pair.js';
import { tokensContract } from './tokens.contract.js';

tokensContract('sqlite', sqlitePair());
