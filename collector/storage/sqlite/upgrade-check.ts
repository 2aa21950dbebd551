// Before the collector opens anything for writing: is every store in the data directory one this
// ringtail knows? The log store (user_version), the alert tables (alerts_schema) and the
// round-robin store (rrd_meta) each carry a version; one from a newer ringtail is refused here,
// read-only, so the refusal leaves every file as it was (each store's own open checks again).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS as ALERT_MIGRATIONS } from './alerts.js';
import { METRICS_DB } from '../../metrics/files.js';
import { FORMAT_VERSION } from '../../rrd/sqlite-file.js';
import { dbPath, LOG_SCHEMA_VERSION } from './open.js';
import { newerSchemaError } from './schema-guard.js';

function readOnly<T>(file: string, read: (db: Database.Database) => T): T | undefined {
  if (!existsSync(file)) return undefined;
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch {
    return undefined; // not readable as a database: the store's own open says why
  }
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const has = (db: Database.Database, table: string) => db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;

export function refuseNewerData(dataDir: string): void {
  const logs = dbPath(dataDir);
  readOnly(logs, (db) => {
    const v = db.pragma('user_version', { simple: true }) as number;
    if (v > LOG_SCHEMA_VERSION) throw newerSchemaError(db, logs, 'log store schema', v, LOG_SCHEMA_VERSION);
    const a = has(db, 'alerts_schema') ? (db.prepare('SELECT max(version) FROM alerts_schema').pluck().get() as number | null) : null;
    if (a !== null && a > ALERT_MIGRATIONS.length) throw newerSchemaError(db, logs, 'alerts schema', a, ALERT_MIGRATIONS.length);
  });
  const rrd = join(dataDir, METRICS_DB);
  readOnly(rrd, (db) => {
    const v = has(db, 'rrd_meta') ? Number(db.prepare("SELECT value FROM rrd_meta WHERE key = 'version'").pluck().get()) : 0;
    if (v > Number(FORMAT_VERSION)) throw newerSchemaError(db, rrd, 'round-robin store format', v, FORMAT_VERSION);
  });
}
