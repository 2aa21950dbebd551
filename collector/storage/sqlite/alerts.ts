// Alert state, history, API rules, silences and the notification outbox (AlertStore), in the
// collector's database through a connection of our own. The alerts schema is versioned in its
// own table (`alerts_schema`), so it never collides with the log store's user_version migrations.
import Database from 'better-sqlite3';
import { dbPath } from './open.js';
import { newerSchemaError, recordSchemaWriter } from './schema-guard.js';
import { mkdirSync } from 'node:fs';
import type { InstanceState, Transition } from '../../alerts/state.js';
import type { Severity } from '../../alerts/rules.js';
import { asyncAlertStore, type AlertStore, type HistoryFilter, type HistoryRow, type NewOutbox, type OutboxRow, type SilenceRow, type Synchronous } from '../types.js';

type Db = Database.Database;

export const MIGRATIONS: string[] = [
  `
  CREATE TABLE alert_rules (
    name TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE alert_state (
    rule TEXT NOT NULL,
    host TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('ok','pending','firing')),
    severity TEXT,
    active_since INTEGER,
    firing_since INTEGER,
    clear_since INTEGER,
    value REAL,
    notified_key TEXT,
    last_notified_at INTEGER,
    PRIMARY KEY (rule, host)
  ) WITHOUT ROWID;
  CREATE TABLE alert_history (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    rule TEXT NOT NULL,
    host TEXT NOT NULL,
    event TEXT NOT NULL,
    severity TEXT,
    value REAL
  );
  CREATE INDEX alert_history_at ON alert_history (at);
  CREATE TABLE alert_silences (
    id TEXT PRIMARY KEY,
    matchers TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    comment TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE alert_outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    notifier TEXT NOT NULL,
    rule TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending','delivered','failed','disabled')),
    last_status INTEGER,
    last_error TEXT,
    done_at INTEGER
  );
  CREATE INDEX alert_outbox_due ON alert_outbox (state, next_at);
  CREATE TABLE alert_notifiers (
    name TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    disabled_at INTEGER,
    reason TEXT
  ) WITHOUT ROWID;
  `,
  // One alert per series for rules that watch every series of a name (a disk per mount, a check
  // per name): the series' labels join the instance's key.
  `
  CREATE TABLE alert_state_v2 (
    rule TEXT NOT NULL,
    host TEXT NOT NULL,
    series TEXT NOT NULL DEFAULT '',
    phase TEXT NOT NULL CHECK (phase IN ('ok','pending','firing')),
    severity TEXT,
    active_since INTEGER,
    firing_since INTEGER,
    clear_since INTEGER,
    value REAL,
    notified_key TEXT,
    last_notified_at INTEGER,
    PRIMARY KEY (rule, host, series)
  ) WITHOUT ROWID;
  INSERT INTO alert_state_v2 (rule, host, series, phase, severity, active_since, firing_since, clear_since, value, notified_key, last_notified_at)
    SELECT rule, host, '', phase, severity, active_since, firing_since, clear_since, value, notified_key, last_notified_at FROM alert_state;
  DROP TABLE alert_state;
  ALTER TABLE alert_state_v2 RENAME TO alert_state;
  ALTER TABLE alert_history ADD COLUMN series TEXT NOT NULL DEFAULT '';
  `,
];

function migrate(db: Db, file: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS alerts_schema (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM alerts_schema').get() as { version: number } | undefined;
  const version = row?.version ?? 0;
  if (version > MIGRATIONS.length) throw newerSchemaError(db, file, 'alerts schema', version, MIGRATIONS.length);
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.exec('DELETE FROM alerts_schema');
      db.prepare('INSERT INTO alerts_schema (version) VALUES (?)').run(v + 1);
      recordSchemaWriter(db);
    }).immediate();
  }
}

/** AlertStore on SQLite: answered synchronously inside, handed out as resolved promises. */
export function openSqliteAlertStore(dataDir: string): AlertStore {
  return asyncAlertStore(syncAlertStore(dataDir));
}

function syncAlertStore(dataDir: string): Synchronous<Omit<AlertStore, 'evaluatorLease'>> {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(dbPath(dataDir));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  try {
    migrate(db, dbPath(dataDir));
  } catch (err) {
    db.close();
    throw err;
  }

  const q = {
    rules: db.prepare('SELECT name, spec FROM alert_rules ORDER BY name'),
    putRule: db.prepare(
      `INSERT INTO alert_rules (name, spec, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at`,
    ),
    delRule: db.prepare('DELETE FROM alert_rules WHERE name = ?'),
    states: db.prepare('SELECT * FROM alert_state'),
    putState: db.prepare(
      `INSERT INTO alert_state (rule, host, series, phase, severity, active_since, firing_since, clear_since, value, notified_key, last_notified_at)
       VALUES (@rule, @host, @series, @phase, @severity, @activeSince, @firingSince, @clearSince, @value, @notifiedKey, @lastNotifiedAt)
       ON CONFLICT (rule, host, series) DO UPDATE SET phase = excluded.phase, severity = excluded.severity, active_since = excluded.active_since,
         firing_since = excluded.firing_since, clear_since = excluded.clear_since, value = excluded.value,
         notified_key = excluded.notified_key, last_notified_at = excluded.last_notified_at`,
    ),
    delState: db.prepare('DELETE FROM alert_state WHERE rule = ? AND host = ? AND series = ?'),
    addHistory: db.prepare('INSERT INTO alert_history (at, rule, host, series, event, severity, value) VALUES (@at, @rule, @host, @series, @event, @severity, @value)'),
    pruneHistory: db.prepare('DELETE FROM alert_history WHERE id <= (SELECT max(id) FROM alert_history) - ?'),
    addOutbox: db.prepare(
      // an id is derived from the transition it announces (alerts/webhook-ids.ts): the same id is the same notification
      `INSERT INTO alert_outbox (id, notifier, rule, body, created_at, next_at, state) VALUES (@id, @notifier, @rule, @body, @now, @now, 'pending')
       ON CONFLICT (id) DO NOTHING`,
    ),
    due: db.prepare(`SELECT * FROM alert_outbox WHERE state = 'pending' AND next_at <= ? ORDER BY seq LIMIT ?`),
    nextDue: db.prepare(`SELECT min(next_at) FROM alert_outbox WHERE state = 'pending'`).pluck(),
    pending: db.prepare(`SELECT count(*) FROM alert_outbox WHERE state = 'pending'`).pluck(),
    delivered: db.prepare(`UPDATE alert_outbox SET state = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL, done_at = ? WHERE seq = ?`),
    retry: db.prepare(`UPDATE alert_outbox SET attempts = attempts + 1, next_at = ?, last_status = ?, last_error = ? WHERE seq = ?`),
    finish: db.prepare(`UPDATE alert_outbox SET state = ?, attempts = attempts + 1, last_status = ?, last_error = ?, done_at = ? WHERE seq = ?`),
    disableAll: db.prepare(`UPDATE alert_outbox SET state = 'disabled', done_at = ? WHERE notifier = ? AND state = 'pending'`),
    pruneOutbox: db.prepare(`DELETE FROM alert_outbox WHERE state != 'pending' AND done_at < ?`),
    outbox: db.prepare('SELECT * FROM alert_outbox ORDER BY seq DESC LIMIT ?'),
    disabled: db.prepare('SELECT name, url, disabled_at, reason FROM alert_notifiers WHERE disabled_at IS NOT NULL'),
    disable: db.prepare(
      `INSERT INTO alert_notifiers (name, url, disabled_at, reason) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET url = excluded.url, disabled_at = excluded.disabled_at, reason = excluded.reason`,
    ),
    enable: db.prepare('DELETE FROM alert_notifiers WHERE name = ?'),
    silences: db.prepare('SELECT * FROM alert_silences ORDER BY starts_at DESC'),
    addSilence: db.prepare(
      'INSERT INTO alert_silences (id, matchers, starts_at, ends_at, comment, created_by, created_at) VALUES (@id, @matchers, @starts_at, @ends_at, @comment, @created_by, @created_at)',
    ),
    expireSilence: db.prepare('UPDATE alert_silences SET ends_at = min(ends_at, ?) WHERE id = ?'),
  };

  const commitTx = db.transaction((upserts: InstanceState[], deletes: Array<[string, string, string]>, history: Transition[], outbox: NewOutbox[], now: number) => {
    for (const s of upserts) q.putState.run(s);
    for (const [rule, host, series] of deletes) q.delState.run(rule, host, series);
    for (const t of history) q.addHistory.run(t);
    for (const o of outbox) q.addOutbox.run({ ...o, now });
  });

  return {
    close() {
      db.close();
    },
    apiRules(): Array<{ name: string; spec: unknown }> {
      return (q.rules.all() as Array<{ name: string; spec: string }>).map((r) => ({ name: r.name, spec: JSON.parse(r.spec) }));
    },
    putRule(name: string, spec: unknown, now: number): void {
      q.putRule.run(name, JSON.stringify(spec), now, now);
    },
    deleteRule(name: string): boolean {
      return q.delRule.run(name).changes > 0;
    },
    loadStates(): InstanceState[] {
      return (q.states.all() as Array<Record<string, unknown>>).map((r) => ({
        rule: r.rule as string,
        host: r.host as string,
        series: r.series as string,
        phase: r.phase as InstanceState['phase'],
        severity: r.severity as Severity | null,
        activeSince: r.active_since as number | null,
        firingSince: r.firing_since as number | null,
        clearSince: r.clear_since as number | null,
        value: r.value as number | null,
        notifiedKey: r.notified_key as string | null,
        lastNotifiedAt: r.last_notified_at as number | null,
      }));
    },
    /** State changes, their history and the notifications they cause, in one transaction: all or nothing. */
    commit(upserts: InstanceState[], deletes: Array<[string, string, string]>, history: Transition[], outbox: NewOutbox[], now: number): void {
      if (upserts.length + deletes.length + history.length + outbox.length === 0) return;
      commitTx.immediate(upserts, deletes, history, outbox, now);
    },
    history(filter: HistoryFilter): HistoryRow[] {
      const where: string[] = [];
      const p: Record<string, unknown> = { limit: filter.limit };
      if (filter.rule !== undefined) (where.push('rule = @rule'), (p.rule = filter.rule));
      if (filter.host !== undefined) (where.push('host = @host'), (p.host = filter.host));
      if (filter.before !== undefined) (where.push('id < @before'), (p.before = filter.before));
      if (filter.start !== undefined) (where.push('at >= @start'), (p.start = filter.start));
      if (filter.end !== undefined) (where.push('at < @end'), (p.end = filter.end));
      return db
        .prepare(`SELECT id, at, rule, host, series, event, severity, value FROM alert_history ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT @limit`)
        .all(p) as HistoryRow[];
    },
    prune(now: number, keepHistoryRows: number, keepDoneMs: number): void {
      q.pruneHistory.run(keepHistoryRows);
      q.pruneOutbox.run(now - keepDoneMs);
    },
    due(now: number, limit: number): OutboxRow[] {
      return q.due.all(now, limit) as OutboxRow[];
    },
    pendingCount(): number {
      return q.pending.get() as number;
    },
    nextDue(): number | null {
      return (q.nextDue.get() as number | null) ?? null;
    },
    markDelivered(seq: number, status: number, now: number): void {
      q.delivered.run(status, now, seq);
    },
    markRetry(seq: number, nextAt: number, status: number | null, error: string): void {
      q.retry.run(nextAt, status, error.slice(0, 500), seq);
    },
    markFinal(seq: number, state: 'failed' | 'disabled', status: number | null, error: string, now: number): void {
      q.finish.run(state, status, error.slice(0, 500), now, seq);
    },
    /** A receiver that answered 410 gets nothing more until its URL changes in the configuration. */
    disableNotifier(name: string, url: string, reason: string, now: number): void {
      db.transaction(() => {
        q.disable.run(name, url, now, reason.slice(0, 500));
        q.disableAll.run(now, name);
      }).immediate();
    },
    enableNotifier(name: string): void {
      q.enable.run(name);
    },
    disabledNotifiers(): Map<string, { url: string; disabled_at: number; reason: string }> {
      return new Map((q.disabled.all() as Array<{ name: string; url: string; disabled_at: number; reason: string }>).map((r) => [r.name, r]));
    },
    outbox(limit: number): OutboxRow[] {
      return q.outbox.all(limit) as OutboxRow[];
    },
    silences(): SilenceRow[] {
      return (q.silences.all() as Array<Record<string, unknown>>).map((r) => ({ ...(r as unknown as SilenceRow), matchers: JSON.parse(r.matchers as string) }));
    },
    addSilence(s: SilenceRow): void {
      q.addSilence.run({ ...s, matchers: JSON.stringify(s.matchers) });
    },
    expireSilence(id: string, now: number): boolean {
      return q.expireSilence.run(now, id).changes > 0;
    },
  };
}
