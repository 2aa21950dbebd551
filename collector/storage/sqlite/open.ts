// Opens (and migrates) the collector's SQLite database. WAL lets readers run beside the single
// writer, and synchronous=FULL makes a committed ingest survive power loss, which is what
// acknowledging a batch promises the agent.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCodes, RingtailError } from '../../../shared/errors.js';
import { fieldTokens } from './field-tokens.js';
import { numTokens } from './num-tokens.js';
import { newerSchemaError, recordSchemaWriter } from './schema-guard.js';

export type Db = Database.Database;

/** bytes of new terms FTS5 buffers per table before it writes a segment (migration 10) */
export const FTS_HASH_BYTES = 8 * 1024 * 1024;

const MIGRATIONS: string[] = [
  `
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent','viewer','admin')),
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE hosts (
    host TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE streams (
    agent_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    committed_end INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, stream)
  ) WITHOUT ROWID;
  CREATE TABLE logs (
    id INTEGER PRIMARY KEY,
    ts INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    host TEXT NOT NULL,
    source TEXT NOT NULL,
    program TEXT,
    pid INTEGER,
    facility INTEGER,
    severity INTEGER NOT NULL,
    message TEXT NOT NULL,
    fields TEXT
  );
  CREATE INDEX logs_ts ON logs (ts);
  CREATE INDEX logs_host_ts ON logs (host, ts);
  CREATE VIRTUAL TABLE logs_fts USING fts5 (message, content='', contentless_delete=1, tokenize='unicode61');
  `,
  // The id range of the lines of each hour of event time: a full-text query with a time range
  // restricts FTS5 to that rowid window instead of walking every match back from the newest.
  `
  CREATE TABLE log_spans (
    bucket INTEGER PRIMARY KEY,
    min_id INTEGER NOT NULL,
    max_id INTEGER NOT NULL
  );
  INSERT INTO log_spans (bucket, min_id, max_id) SELECT ts / 3600000, min(id), max(id) FROM logs GROUP BY ts / 3600000;
  `,
  // Retention deletes from a contentless_delete FTS5 table. By default a level whose entries
  // are 10 % tombstones is merged inside the deleting statement: retention slices of 1,000
  // lines then took up to 6.6 s on 1 M lines (p99 1.9 s). With deletemerge off, tombstones are
  // dropped by the ordinary incremental merges that inserts drive: max 0.85 s, p99 0.25 s.
  `
  INSERT INTO logs_fts (logs_fts, rank) VALUES ('deletemerge', 0);
  `,
  // FTS5 writes each commit's terms as a new segment and, by default, merges a level as soon as
  // it holds 4 segments: on 1 M lines in 20,000-line commits that merging was ~40 % of the
  // writer thread. Merging at 12 rewrites each posting about half as often (log12 vs log4 of
  // the segment count) for up to 11 segments per level to read at query time
  // (store probe: 4.47 → 3.71 s per 1 M lines with the 4 KiB pages of existing databases).
  `
  INSERT INTO logs_fts (logs_fts, rank) VALUES ('automerge', 12);
  `,
  // Structured fields as (key, value, id): `field.user_id:42` reads the ids of that value from
  // this index instead of parsing the JSON of every row. Keyed by value first, so one lookup
  // serves a search; retention removes a line's entries by its fields JSON (retention.ts).
  // Existing lines are indexed here.
  `
  CREATE TABLE log_fields (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    id INTEGER NOT NULL,
    PRIMARY KEY (key, value, id)
  ) WITHOUT ROWID;
  INSERT OR IGNORE INTO log_fields (key, value, id)
    SELECT j.key, CAST(j.value AS TEXT), l.id FROM logs l, json_each(l.fields) j
    WHERE l.fields IS NOT NULL AND json_valid(l.fields) AND j.type NOT IN ('object', 'array');
  `,
  // Host lifecycle (collector/hosts/): the state of every host whatever it sends, its recent
  // transitions (bounded per host), the hosts forgotten while some of their lines remain (those
  // lines, ids up to max_log_id, are hidden from every read), and retire/forget requests that
  // `ringtail hosts` queues for a running collector.
  `
  CREATE TABLE host_state (
    host TEXT PRIMARY KEY,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('up','stale','down','retired')),
    state_since INTEGER NOT NULL,
    ephemeral INTEGER NOT NULL DEFAULT 0,
    interval_ms INTEGER,
    sources TEXT NOT NULL DEFAULT '',
    agent_id TEXT
  ) WITHOUT ROWID;
  CREATE TABLE host_events (
    id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    ts INTEGER NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL
  );
  CREATE INDEX host_events_host ON host_events (host, id);
  CREATE TABLE forgotten_hosts (
    host TEXT PRIMARY KEY,
    forgotten_at INTEGER NOT NULL,
    max_log_id INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE host_requests (
    id INTEGER PRIMARY KEY,
    host TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('retire','forget')),
    requested_at INTEGER NOT NULL,
    claimed_by TEXT,
    done_at INTEGER,
    result TEXT
  );
  CREATE TABLE host_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // Fields as FTS5 tokens instead (field-tokens.ts): log_fields cost one B-tree insert per field
  // at a place keyed by value, about as much CPU as the rest of a JSON line's ingest; FTS5
  // buffers a commit's tokens and writes them as one segment (bench/fields-ab.mjs). The table is
  // matched only with tokens ringtail makes, never with user words, and never with logs_fts.
  // Existing lines are indexed here through the same token function as ingest.
  `
  DROP TABLE log_fields;
  CREATE VIRTUAL TABLE log_fields_fts USING fts5 (t, content='', contentless_delete=1, tokenize='ascii', detail='none');
  INSERT INTO log_fields_fts (log_fields_fts, rank) VALUES ('deletemerge', 0);
  INSERT INTO log_fields_fts (log_fields_fts, rank) VALUES ('automerge', 12);
  INSERT INTO log_fields_fts (rowid, t)
    SELECT id, ringtail_field_tokens(fields) FROM logs WHERE fields IS NOT NULL AND json_valid(fields) ORDER BY id;
  `,
  // Runs of three short numbers as tokens (num-tokens.ts): `10.0.0.1` is the few rows that
  // have 10_0_0 and 0_0_1, checked against the search, instead of the phrase of four of the
  // most common words. Matched only with tokens ringtail makes. Lines stored before this
  // migration are not indexed here (10 M lines would hold the collector's start for minutes):
  // log_index_meta's nums_from_id is the first id the table covers, searches use the phrase
  // alone below it, and numBackfiller (num-plan.ts) lowers it slice by slice.
  `
  CREATE VIRTUAL TABLE log_nums_fts USING fts5 (t, content='', contentless_delete=1, tokenize="ascii tokenchars '_'", detail='none');
  INSERT INTO log_nums_fts (log_nums_fts, rank) VALUES ('deletemerge', 0);
  INSERT INTO log_nums_fts (log_nums_fts, rank) VALUES ('automerge', 12);
  CREATE TABLE log_index_meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) WITHOUT ROWID;
  INSERT INTO log_index_meta (key, value) VALUES ('nums_from_id', coalesce((SELECT max(id) FROM logs), 0) + 1);
  `,
  // Each line's full-text entry ends with its host as one token (host-tokens.ts): a search with
  // an exact host is one FTS5 intersection. Lines stored before have none and are not
  // reindexed (a contentless entry can only be deleted and written again: the whole index once
  // more); host_tokens_from_id is the first id that has one, and below it searches keep the
  // host-window plans (fts-plan.ts).
  `
  INSERT INTO log_index_meta (key, value) VALUES ('host_tokens_from_id', coalesce((SELECT max(id) FROM logs), 0) + 1);
  `,
  // FTS5 keeps a transaction's new terms in memory and writes them out as a segment whenever
  // they pass `hashsize` bytes (default 1 MiB): a 16,000-line commit of syslog lines was ~6
  // segments of logs_fts, each one flushed in the middle of the indexing statement and merged
  // again later; a commit of JSON lines did the same to log_fields_fts. 8 MiB holds a whole
  // group (MAX_GROUP_LINES), so a commit is one segment per table (writer store probe, callgrind:
  // 51.9 → 49.2 k instructions per line over 3 commits; more as merges add up). The memory is
  // the writer thread's, only while a commit is indexed. A config row per table: existing
  // databases take it as they are, nothing is rewritten.
  `
  INSERT INTO logs_fts (logs_fts, rank) VALUES ('hashsize', ${FTS_HASH_BYTES});
  INSERT INTO log_fields_fts (log_fields_fts, rank) VALUES ('hashsize', ${FTS_HASH_BYTES});
  INSERT INTO log_nums_fts (log_nums_fts, rank) VALUES ('hashsize', ${FTS_HASH_BYTES});
  `,
];

/** the log store's schema version: that of a database this ringtail has opened */
export const LOG_SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Page size of a new database (an existing one keeps its own: SQLite fixes it at creation in WAL
 * mode). Rows of ~200 bytes, FTS5 leaves of ~4 KB and mostly-appending indexes fill 16 KiB pages
 * with a quarter of the per-page work (B-tree splits, WAL frame headers and checksums, write
 * calls): store probe 3.71 → 3.31 s per 1 M lines.
 */
export const PAGE_SIZE = 16_384;

export function dbPath(dataDir: string): string {
  return join(dataDir, 'ringtail.db');
}

export function openDatabase(dataDir: string): Db {
  try {
    mkdirSync(dataDir, { recursive: true });
  } catch (err) {
    throw new RingtailError(ErrorCodes.STORAGE, `cannot create data directory '${dataDir}': ${(err as NodeJS.ErrnoException).code}`);
  }
  let db: Db;
  try {
    db = new Database(dbPath(dataDir));
    // Only takes effect on an empty file, so it must precede journal_mode (which writes page 1).
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
  } catch (err) {
    throw new RingtailError(ErrorCodes.STORAGE, `cannot open '${dbPath(dataDir)}': ${(err as Error).message}`);
  }
  // the tokens of a line's fields (field-tokens.ts), for the migration that indexes existing lines
  db.function('ringtail_field_tokens', { deterministic: true }, (fields: unknown) => {
    const o = typeof fields === 'string' ? (JSON.parse(fields) as unknown) : null;
    return o !== null && typeof o === 'object' && !Array.isArray(o) ? fieldTokens(o as Record<string, unknown>) : '';
  });
  // the number-run tokens of a message (num-tokens.ts), for the backfill of older lines
  db.function('ringtail_num_tokens', { deterministic: true }, (message: unknown) => (typeof message === 'string' ? numTokens(message) : ''));
  try {
    migrate(db, dbPath(dataDir));
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function migrate(db: Db, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) throw newerSchemaError(db, file, 'log store schema', version, MIGRATIONS.length);
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
      recordSchemaWriter(db);
    }).immediate();
  }
}
