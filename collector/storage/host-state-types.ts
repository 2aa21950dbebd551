// The host lifecycle's storage contract (collector/hosts/registry.ts keeps the hosts in memory
// and saves their rows and transitions through it): its own file, as the registry's and the
// backends' shared vocabulary, exported with the other contracts from types.ts.
import { promised, type Synchronous } from './promised.js';

export type HostState = 'up' | 'stale' | 'down' | 'retired';
export const HOST_STATES: readonly HostState[] = ['up', 'stale', 'down', 'retired'];
/**
 * Of two transitions of one host at the same ms (saved by two collectors, or one collector's
 * down and the heard that followed it), the state kept: being heard is the latest news.
 */
export const HOST_STATE_TIE: Readonly<Record<HostState, number>> = { stale: 0, down: 1, retired: 2, up: 3 };
/** what a host has been heard through */
export type HostSource = 'logs' | 'metrics' | 'syslog';

/** One host's lifecycle record (collector/hosts/registry.ts keeps them in memory). */
export interface HostStateRow {
  host: string;
  first_seen: number;
  last_seen: number;
  state: HostState;
  /** ms since epoch of the last transition */
  state_since: number;
  ephemeral: boolean;
  /** the interval the host declared (its agent's metrics interval), null when it declared none */
  interval_ms: number | null;
  sources: HostSource[];
  /** the agent that last sent for it (null for syslog senders) */
  agent_id: string | null;
}

/** One state transition; `from` is null when the host first appeared. */
export interface HostEvent {
  ts: number;
  host: string;
  from: HostState | null;
  to: HostState;
}

export interface HostRequest {
  id: number;
  host: string;
  op: 'retire' | 'forget';
  requested_at: number;
  done_at: number | null;
  /** 'ok', or a RINGTAIL_ERR_* code when it could not be applied */
  result: string | null;
}

/**
 * A host's record as a shared store (ClickHouse) answers it: the record merged over every
 * collector's writes, with what the merge needs beyond HostStateRow.
 */
export interface SharedHostRow extends HostStateRow {
  /** last_seen of the newest write that named an agent (agent_id, ephemeral, interval_ms are from it); 0: none */
  agent_at: number;
}

/** What other collectors wrote since a pull (HostStateStore.changes). */
export interface HostChanges {
  /** records written (by anyone) since `since`, each merged over every write */
  rows: SharedHostRow[];
  /** hosts forgotten or purged since `since`: a record last seen at or before `at` is gone */
  forgotten: Array<{ host: string; at: number }>;
  /** the `since` of the next pull (the store's own clock, taken before this read) */
  through: number;
}

/**
 * Host lifecycle state (additive: a backend without it gets an in-memory registry only).
 * Asynchronous: SQLite answers at once (asyncHostStateStore), ClickHouse over the network.
 */
export interface HostStateStore {
  /**
   * Whether other collectors write the same records (ClickHouse): the registry then pulls their
   * changes each tick (changes()) and only the designated collector decides silence transitions.
   */
  readonly shared?: boolean;
  load(): Promise<HostStateRow[]>;
  /**
   * One transaction: rows upserted, events appended (the newest `keepEvents` kept per host),
   * hosts removed, `meta` keys set. May throw when the store is busy (the caller retries).
   */
  save(rows: HostStateRow[], events: HostEvent[], removed: string[], meta?: Record<string, number>): Promise<void>;
  /** a shared store: records written and hosts forgotten since `since` (ms on the writers' clocks) */
  changes?(since: number): Promise<HostChanges>;
  /** newest first, at most `limit`, with ts >= since */
  events(host: string, limit: number, since?: number): Promise<HostEvent[]>;
  /** every host's transitions with ts >= since, oldest first, at most `limit` (the newest kept) */
  eventsSince(since: number, limit: number): Promise<HostEvent[]>;
  /**
   * Forgets a host: its record and events go, and its log lines stored so far are hidden from
   * every read (a tombstone with the current largest line id). False when nothing was known.
   */
  forget(host: string, now: number): Promise<boolean>;
  /** deletes at most `limit` hidden lines of forgotten hosts; drops tombstones with none left */
  purgeForgotten(limit: number): Promise<number>;
  enqueue(host: string, op: HostRequest['op'], now: number): Promise<number>;
  /** claims the pending requests (none claimed by anyone else) for `owner` */
  claim(owner: string): Promise<HostRequest[]>;
  finish(id: number, result: string, now: number): Promise<void>;
  request(id: number): Promise<HostRequest | null>;
  getMeta(key: string): Promise<number | null>;
  setMeta(key: string, value: number): Promise<void>;
}

/** The host state store answered synchronously (SQLite, inside). */
export type SyncHostStateStore = Synchronous<Omit<HostStateStore, 'shared' | 'changes'>>;

/** A synchronous host state store behind the asynchronous interface (each answer a resolved promise; a throw a rejection). */
export function asyncHostStateStore(s: SyncHostStateStore): HostStateStore {
  return promised(s) as unknown as HostStateStore;
}
