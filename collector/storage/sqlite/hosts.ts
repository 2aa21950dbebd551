// Host lifecycle state in SQLite. The registry (collector/hosts/registry.ts) keeps the live
// state in memory and hands it here in one small transaction per sweep, so ingest never writes
// a host row per batch for it. A forgotten host leaves a tombstone: its lines up to the largest
// id stored when it was forgotten are hidden from every read (HIDDEN_CLAUSE) until
// purgeForgotten has deleted them, so a host that reports again comes back without them.
import type { HostEvent, HostRequest, HostSource, HostState, HostStateRow, SyncHostStateStore } from '../types.js';
import type { Db } from './open.js';
import { lineDeleter } from './retention.js';

/** Lines of forgotten hosts; added to a read's WHERE only while a tombstone exists. */
export const HIDDEN_CLAUSE = 'NOT EXISTS (SELECT 1 FROM forgotten_hosts fh WHERE fh.host = l.host AND l.id <= fh.max_log_id)';

/** true while some forgotten host still has hidden lines (one B-tree probe) */
export function hiddenCheck(db: Db): () => boolean {
  const st = db.prepare('SELECT EXISTS (SELECT 1 FROM forgotten_hosts)').pluck();
  return () => st.get() === 1;
}

/** transitions kept per host (the dashboard and host-flapping read the recent ones) */
export const KEEP_EVENTS_PER_HOST = 200;

interface Row {
  host: string;
  first_seen: number;
  last_seen: number;
  state: HostState;
  state_since: number;
  ephemeral: number;
  interval_ms: number | null;
  sources: string;
  agent_id: string | null;
}

/** how long a save waits for the writer thread's lock before it is left to the next sweep */
export const SAVE_WAIT_MS = 50;

export function sqliteHostStateStore(db: Db, keepEvents = KEEP_EVENTS_PER_HOST, saveWaitMs = SAVE_WAIT_MS): SyncHostStateStore {
  const all = db.prepare('SELECT host, first_seen, last_seen, state, state_since, ephemeral, interval_ms, sources, agent_id FROM host_state');
  const upsert = db.prepare(
    `INSERT INTO host_state (host, first_seen, last_seen, state, state_since, ephemeral, interval_ms, sources, agent_id)
     VALUES (@host, @first_seen, @last_seen, @state, @state_since, @ephemeral, @interval_ms, @sources, @agent_id)
     ON CONFLICT (host) DO UPDATE SET first_seen = excluded.first_seen, last_seen = excluded.last_seen, state = excluded.state,
       state_since = excluded.state_since, ephemeral = excluded.ephemeral, interval_ms = excluded.interval_ms,
       sources = excluded.sources, agent_id = excluded.agent_id`,
  );
  const del = db.prepare('DELETE FROM host_state WHERE host = ?');
  const delEvents = db.prepare('DELETE FROM host_events WHERE host = ?');
  const delLogHost = db.prepare('DELETE FROM hosts WHERE host = ?');
  const addEvent = db.prepare('INSERT INTO host_events (host, ts, from_state, to_state) VALUES (?, ?, ?, ?)');
  const trimEvents = db.prepare(
    'DELETE FROM host_events WHERE host = ? AND id <= (SELECT id FROM host_events WHERE host = ? ORDER BY id DESC LIMIT 1 OFFSET ?)',
  );
  const eventsOf = db.prepare(
    'SELECT ts, host, from_state AS "from", to_state AS "to" FROM host_events WHERE host = ? AND ts >= ? ORDER BY id DESC LIMIT ?',
  );
  const since = db.prepare(
    'SELECT * FROM (SELECT id, ts, host, from_state AS "from", to_state AS "to" FROM host_events WHERE ts >= ? ORDER BY id DESC LIMIT ?) ORDER BY id',
  );
  const known = db.prepare(
    'SELECT (SELECT count(*) FROM host_state WHERE host = @h) + (SELECT count(*) FROM hosts WHERE host = @h)',
  ).pluck();
  const hasLines = db.prepare('SELECT EXISTS (SELECT 1 FROM logs WHERE host = ?)').pluck();
  const maxId = db.prepare('SELECT max(id) FROM logs').pluck();
  const tombstone = db.prepare(
    `INSERT INTO forgotten_hosts (host, forgotten_at, max_log_id) VALUES (?, ?, ?)
     ON CONFLICT (host) DO UPDATE SET forgotten_at = excluded.forgotten_at, max_log_id = max(max_log_id, excluded.max_log_id)`,
  );
  const tombstones = db.prepare('SELECT host, max_log_id FROM forgotten_hosts');
  const anyTombstone = db.prepare('SELECT EXISTS (SELECT 1 FROM forgotten_hosts)').pluck();
  const anyPending = db.prepare('SELECT EXISTS (SELECT 1 FROM host_requests WHERE claimed_by IS NULL)').pluck();
  const hiddenIds = db.prepare('SELECT id FROM logs WHERE host = ? AND id <= ? LIMIT ?').pluck();
  const deleteLines = lineDeleter(db);
  const delTombstone = db.prepare('DELETE FROM forgotten_hosts WHERE host = ?');
  const enqueue = db.prepare("INSERT INTO host_requests (host, op, requested_at) VALUES (?, ?, ?)");
  const pending = db.prepare('SELECT id, host, op, requested_at, done_at, result FROM host_requests WHERE claimed_by IS NULL ORDER BY id');
  const claimOne = db.prepare('UPDATE host_requests SET claimed_by = ? WHERE id = ? AND claimed_by IS NULL');
  const finish = db.prepare('UPDATE host_requests SET done_at = ?, result = ? WHERE id = ?');
  const byId = db.prepare('SELECT id, host, op, requested_at, done_at, result FROM host_requests WHERE id = ?');
  // answered requests are kept a day (a CLI polls for its answer), then dropped
  const dropDone = db.prepare('DELETE FROM host_requests WHERE done_at IS NOT NULL AND done_at < ?');
  const getMeta = db.prepare('SELECT value FROM host_meta WHERE key = ?').pluck();
  const setMeta = db.prepare('INSERT INTO host_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');

  const save = db.transaction((rows: HostStateRow[], events: HostEvent[], removed: string[], meta: Record<string, number>) => {
    for (const [k, v] of Object.entries(meta)) setMeta.run(k, v);
    for (const r of rows) {
      upsert.run({ ...r, ephemeral: r.ephemeral ? 1 : 0, sources: r.sources.join(',') });
    }
    const touched = new Set<string>();
    for (const e of events) {
      addEvent.run(e.host, e.ts, e.from, e.to);
      touched.add(e.host);
    }
    for (const h of touched) trimEvents.run(h, h, keepEvents);
    for (const h of removed) {
      del.run(h);
      delEvents.run(h);
      delLogHost.run(h);
    }
  });
  const forget = db.transaction((host: string, now: number): boolean => {
    const was = (known.get({ h: host }) as number) > 0;
    if (hasLines.get(host) === 1) tombstone.run(host, now, (maxId.get() as number | null) ?? 0);
    del.run(host);
    delEvents.run(host);
    delLogHost.run(host);
    return was;
  });
  const purge = db.transaction((limit: number): number => {
    let n = 0;
    for (const t of tombstones.all() as Array<{ host: string; max_log_id: number }>) {
      const ids = hiddenIds.all(t.host, t.max_log_id, limit - n) as number[];
      n += deleteLines(ids);
      if (n >= limit) break;
      delTombstone.run(t.host);
    }
    return n;
  });
  const claim = db.transaction((owner: string): HostRequest[] => {
    const out: HostRequest[] = [];
    for (const r of pending.all() as HostRequest[]) if (claimOne.run(owner, r.id).changes === 1) out.push(r);
    return out;
  });

  return {
    load() {
      return (all.all() as Row[]).map((r) => ({
        ...r,
        ephemeral: r.ephemeral === 1,
        sources: r.sources === '' ? [] : (r.sources.split(',') as HostSource[]),
      }));
    },
    save(rows, events, removed, meta = {}) {
      if (rows.length + events.length + removed.length + Object.keys(meta).length === 0) return;
      // The writer thread commits on its own connection: waiting for its lock here would block
      // the event loop (busy handler), so this save waits briefly and is otherwise retried by
      // the next sweep (the caller keeps what was not saved).
      const prev = db.pragma('busy_timeout', { simple: true }) as number;
      db.pragma(`busy_timeout = ${Math.min(prev, saveWaitMs)}`);
      try {
        save.immediate(rows, events, removed, meta);
      } finally {
        db.pragma(`busy_timeout = ${prev}`);
      }
    },
    events(host, limit, since = Number.MIN_SAFE_INTEGER) {
      return eventsOf.all(host, since, limit) as HostEvent[];
    },
    eventsSince(from, limit) {
      return (since.all(from, limit) as Array<HostEvent & { id?: number }>).map(({ id: _id, ...e }) => e);
    },
    forget(host, now) {
      return forget.immediate(host, now);
    },
    purgeForgotten(limit) {
      // a read first: no write lock is taken while nothing is forgotten (the usual case)
      return anyTombstone.get() === 1 ? purge.immediate(limit) : 0;
    },
    enqueue(host, op, now) {
      dropDone.run(now - 86_400_000);
      return Number(enqueue.run(host, op, now).lastInsertRowid);
    },
    claim(owner) {
      return anyPending.get() === 1 ? claim.immediate(owner) : [];
    },
    finish(id, result, now) {
      finish.run(now, result, id);
    },
    request(id) {
      return (byId.get(id) as HostRequest | undefined) ?? null;
    },
    getMeta(key) {
      return (getMeta.get(key) as number | undefined) ?? null;
    },
    setMeta(key, value) {
      setMeta.run(key, value);
    },
  };
}
