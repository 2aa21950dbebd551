import { asyncHostStateStore, asyncLogStore, type Storage } from '../types.js';
import { openSqliteAlertStore } from './alerts.js';
import { sqliteHostStateStore } from './hosts.js';
import { sqliteLogStore } from './logs.js';
import { dbPath, openDatabase } from './open.js';
import { openSqliteSessionStore } from './sessions.js';
import { sqliteTokenStore } from './tokens.js';
import { warmDatabase } from './warm.js';

export function openSqliteStorage(dataDir: string): Storage {
  const db = openDatabase(dataDir);
  return {
    config: { backend: 'sqlite', data: dataDir },
    // synchronous underneath: every answer is a resolved promise
    logs: asyncLogStore(sqliteLogStore(db)),
    tokens: sqliteTokenStore(db),
    hostStates: asyncHostStateStore(sqliteHostStateStore(db)),
    // connections of their own, as before the seam: their transactions never nest in the log store's
    openAlerts: () => openSqliteAlertStore(dataDir),
    openSessions: (limits) => openSqliteSessionStore(dbPath(dataDir), limits),
    warm: (opts) => warmDatabase(db, dbPath(dataDir), opts),
    close() {
      db.close();
    },
  };
}
