// The round-robin store's database file (sqlite-store.ts): its format marker and version, its
// tables, the options it is opened with, the statements the store runs, and the companions of
// the file: removing it with its WAL, and the checkpointer's second connection.
import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ErrorCodes } from '../../shared/errors.js';
import { newerSchemaError } from '../storage/sqlite/schema-guard.js';
import { RrdError } from './errors.js';

const FORMAT = 'ringtail-rrd';
export const FORMAT_VERSION = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rrd_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rrd_series (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  def TEXT NOT NULL,
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rrd_chunk (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS rrd_journal (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
`;

export interface OpenRrdOptions {
  /** create the database file when missing (rrd create); otherwise a missing file is an error */
  create?: boolean;
  /** seconds since the epoch, for `N` and defaults */
  now?: () => number;
  /** journaled updates past which each update call also applies a slice of the journal */
  checkpointUpdates?: number;
  /** the least number of pending updates one slice applies (default 20,000) */
  checkpointSlice?: number;
  /**
   * false: each update call applies its arguments to the archives in its own transaction
   * (one commit, best for a one-shot CLI update); true (default): journal, apply later.
   */
  journal?: boolean;
  /**
   * FULL (default): a returned update survives power loss (fsync per commit). NORMAL: it
   * survives a crash of the process but not of the machine — rrdcached's journal guarantee.
   */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * true (default): past `checkpointUpdates`, each update call also applies a journal slice.
   * false: update calls only journal; the owner applies it with applyUntil() when it chooses
   * (the collector's metric store thread does, between writes, so that no acknowledgement
   * waits for a slice).
   */
  autoApply?: boolean;
  /**
   * series whose journal fields (last update, definition) are kept in memory, at most (default
   * 200,000); beyond, those with nothing pending are dropped, oldest first, and read again
   * when they are next updated
   */
  metaCache?: number;
  /** the connection's SQLite page cache in KiB (absent: SQLite's default, 16 MB in this build) */
  cacheKb?: number;
}

/**
 * Opens (or with `create`, creates) a store's database: WAL, the durability asked for, and the
 * format checked; a file that is not a ringtail store, or one from a newer ringtail, is refused.
 */
export function openStoreDb(path: string, create: boolean, synchronous: 'FULL' | 'NORMAL', cacheKb?: number): Database.Database {
  const existed = existsSync(path);
  if (!existed && !create) throw new RrdError(`opening '${path}': No such file or directory`, ErrorCodes.NOT_FOUND, 404);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: !create });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('busy_timeout = 5000');
    // SQLite's own WAL checkpoints would land inside update calls (a latency spike every
    // ~140 rounds); they run after each journal checkpoint instead, with a high safety limit.
    db.pragma('wal_autocheckpoint = 16384');
    if (cacheKb !== undefined) db.pragma(`cache_size = -${Math.max(64, Math.round(cacheKb))}`);
    if (!existed) {
      db.exec(SCHEMA);
      db.prepare('INSERT INTO rrd_meta (key, value) VALUES (?, ?), (?, ?)').run('format', FORMAT, 'version', FORMAT_VERSION);
    }
    const fmt = db.prepare("SELECT value FROM rrd_meta WHERE key = 'format'").pluck().get();
    if (fmt !== FORMAT) throw new Error('no ringtail format marker');
    // a store from a newer ringtail is refused before anything is applied to it (docs/upgrades.md)
    const version = Number(db.prepare("SELECT value FROM rrd_meta WHERE key = 'version'").pluck().get());
    if (version > Number(FORMAT_VERSION)) throw new RrdError(newerSchemaError(db, path, 'round-robin store format', version, FORMAT_VERSION).message, ErrorCodes.STORAGE, 400);
  } catch (err) {
    try {
      db?.close();
    } catch {
      // already failing
    }
    if (err instanceof RrdError) throw err;
    throw new RrdError(`'${path}' is not a ringtail store (${(err as Error).message})`, ErrorCodes.STORAGE, 400);
  }
  return db!;
}

/** The statements a store runs, prepared once on its connection. */
export function storeStatements(db: Database.Database) {
  return {
    seriesByName: db.prepare('SELECT id, def, state FROM rrd_series WHERE name = ?'),
    seriesById: db.prepare('SELECT def, state FROM rrd_series WHERE id = ?'),
    names: db.prepare('SELECT name FROM rrd_series ORDER BY name').pluck(),
    describe: db.prepare('SELECT id, name, def, state FROM rrd_series WHERE id > ? ORDER BY id LIMIT ?'),
    insertSeries: db.prepare('INSERT INTO rrd_series (name, def, state) VALUES (?, ?, ?)'),
    deleteSeries: db.prepare('DELETE FROM rrd_series WHERE id = ?'),
    maxSeriesId: db.prepare('SELECT max(id) FROM rrd_series').pluck(),
    saveState: db.prepare('UPDATE rrd_series SET state = ? WHERE id = ?'),
    insertChunk: db.prepare('INSERT INTO rrd_chunk (id, data) VALUES (?, ?)'),
    getChunk: db.prepare('SELECT data FROM rrd_chunk WHERE id = ?').pluck(),
    getChunks: db.prepare('SELECT id, data FROM rrd_chunk WHERE id BETWEEN ? AND ?'),
    putChunk: db.prepare('UPDATE rrd_chunk SET data = ? WHERE id = ?'),
    deleteChunk: db.prepare('DELETE FROM rrd_chunk WHERE id = ?'),
    deleteChunks: db.prepare('DELETE FROM rrd_chunk WHERE id BETWEEN ? AND ?'),
    journal: db.prepare('INSERT INTO rrd_journal (body) VALUES (?)'),
    journalAll: db.prepare('SELECT id, body FROM rrd_journal ORDER BY id'),
    journalAny: db.prepare('SELECT 1 FROM rrd_journal LIMIT 1').pluck(),
    journalCount: db.prepare('SELECT count(*) FROM rrd_journal').pluck(),
    journalClear: db.prepare('DELETE FROM rrd_journal WHERE id <= ?'),
  };
}

export type StoreStatements = ReturnType<typeof storeStatements>;

/** A store's connection, for the store's parts that run its transactions (the driver stays here). */
export type StoreDb = Database.Database;

/** Removes a store file and its WAL companions (a failed create leaves nothing behind). */
export function removeStoreFiles(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) rmSync(p, { force: true });
}

/** What one checkpoint of the WAL checkpointer did. */
export interface WalCheckpointResult {
  /** frames the WAL held when it began */
  frames: number;
  /** whether the WAL starts again from its beginning with the next commit */
  restarted: boolean;
}

/**
 * A second connection to a store's database that copies its WAL back, for the metric store's
 * checkpointer thread (collector/metrics/wal-checkpointer.ts), so that the driver stays in this
 * file. First PASSIVE: the bulk, never waiting for the writer. Then, when that copied everything
 * it saw, RESTART, without waiting either (busy_timeout 0: a writer in a transaction makes it
 * give up): it takes the write lock only while the writer is between transactions, copies the
 * few frames committed during the PASSIVE one, and starts the WAL again from its beginning.
 * PASSIVE alone left that to the writer's next transaction, which restarts the WAL only if it
 * began after a complete copy; at a month of a fleet the writer nearly always began one during
 * the copy, so the WAL grew until the writer's own safety limit (16,384 frames) made it
 * checkpoint 64 MB itself, 80-366 ms with every write waiting (`npm run bench -- fleet`,
 * strace of the store thread, session 9). A reader or another checkpoint in the way: the next
 * one does it.
 */
export function openWalCheckpointer(path: string): { checkpoint(): WalCheckpointResult; close(): void } {
  const db = new Database(path, { fileMustExist: true });
  db.pragma('busy_timeout = 0');
  type Row = { busy: number; log: number; checkpointed: number };
  return {
    checkpoint: () => {
      const p = (db.pragma('wal_checkpoint(PASSIVE)') as Row[])[0]!;
      if (p.busy !== 0 || p.log <= 0 || p.checkpointed !== p.log) return { frames: p.log, restarted: false };
      const r = (db.pragma('wal_checkpoint(RESTART)') as Row[])[0]!;
      return { frames: p.log, restarted: r.busy === 0 };
    },
    close: () => db.close(),
  };
}
