import type { Storage } from '../types.js';
import { sqliteHostStateStore } from './hosts.js';
import { sqliteLogStore } from './logs.js';
import { openDatabase } from './open.js';
import { sqliteTokenStore } from './tokens.js';

export function openSqliteStorage(dataDir: string): Storage {
  const db = openDatabase(dataDir);
  return {
    logs: sqliteLogStore(db),
    tokens: sqliteTokenStore(db),
    hostStates: sqliteHostStateStore(db),
    close() {
      db.close();
    },
  };
}
