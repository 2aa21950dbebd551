// Dashboard sessions in SQLite (SessionStore). A browser holds only a random session id in an
// HttpOnly cookie; the database keeps its SHA-256, so a copy of the database cannot be replayed
// as a session. The table is this module's own (CREATE TABLE IF NOT EXISTS on its own
// connection), so it needs no slot in the log store's numbered migrations. Sessions join the
// tokens table on every lookup, so revoking the token a person signed in with ends their
// sessions at once.
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { hashSessionId } from '../../sessions/ids.js';
import type { SessionLimits, SessionRecord, SessionStore, Synchronous } from '../types.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS dashboard_sessions (
    id_hash TEXT PRIMARY KEY,
    token_id TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS dashboard_sessions_expires ON dashboard_sessions (expires_at);
`;

/** Opens the session table in the collector's database file (`ringtail.db`). */
export function openSqliteSessionStore(dbFile: string, limits: SessionLimits): SessionStore {
  const s = syncSessionStore(dbFile, limits);
  return {
    create: async (tokenId, now) => s.create(tokenId, now),
    get: async (id, now) => s.get(id, now),
    destroy: async (id) => s.destroy(id),
    sweep: async (now) => s.sweep(now),
    storedHashes: async () => s.storedHashes(),
    close: () => s.close(),
  };
}

function syncSessionStore(dbFile: string, limits: SessionLimits): Synchronous<SessionStore> {
  const db = new Database(dbFile);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  const insert = db.prepare(
    'INSERT INTO dashboard_sessions (id_hash, token_id, csrf, created_at, last_used, expires_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const lookup = db.prepare(
    `SELECT s.token_id, t.name, t.role, s.csrf, s.created_at, s.expires_at, s.last_used
       FROM dashboard_sessions s JOIN tokens t ON t.id = s.token_id
      WHERE s.id_hash = ? AND t.revoked_at IS NULL AND t.role IN ('viewer', 'admin')
        AND s.expires_at > ? AND s.last_used > ?`,
  );
  const touch = db.prepare('UPDATE dashboard_sessions SET last_used = ? WHERE id_hash = ?');
  const del = db.prepare('DELETE FROM dashboard_sessions WHERE id_hash = ?');
  const sweep = db.prepare('DELETE FROM dashboard_sessions WHERE expires_at <= ? OR last_used <= ?');
  const hashes = db.prepare('SELECT id_hash FROM dashboard_sessions').pluck();

  return {
    create(tokenId, now) {
      const id = randomBytes(32).toString('base64url');
      const csrf = randomBytes(32).toString('base64url');
      const expires = now + limits.ttlMs;
      insert.run(hashSessionId(id), tokenId, csrf, now, now, expires);
      const row = lookup.get(hashSessionId(id), now, now - limits.idleMs) as (SessionRecord & { last_used: number }) | undefined;
      if (!row) throw new Error('session vanished right after creation (token revoked meanwhile?)');
      const { last_used: _ignored, ...record } = row;
      return { id, record };
    },
    get(id, now) {
      const h = hashSessionId(id);
      const row = lookup.get(h, now, now - limits.idleMs) as (SessionRecord & { last_used: number }) | undefined;
      if (!row) return null;
      // Writing on every request would contend with ingest for the write lock; a minute of
      // slack in the idle clock is harmless.
      if (now - row.last_used > 60_000) touch.run(now, h);
      const { last_used: _ignored, ...record } = row;
      return record;
    },
    destroy(id) {
      del.run(hashSessionId(id));
    },
    sweep(now) {
      return sweep.run(now, now - limits.idleMs).changes;
    },
    storedHashes() {
      return hashes.all() as string[];
    },
    close() {
      db.close();
    },
  };
}
