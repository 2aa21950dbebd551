// The narrow interface between the collector and whatever keeps its data. SQLite is the embedded
// default; a ClickHouse backend that several collectors share implements the same contract
// (issue 16). Only a backend's own folder (collector/storage/sqlite/) touches its driver, and
// the backend is chosen in one place (collector/storage/factory.ts).
import type { IngestAck, IngestBatch, LogItem, LogPage } from '../../shared/wire.js';
import type { SharedSeriesStore } from '../rrd/series-store.js';
import type { AlertStore } from './alert-store-types.js';
import type { HostStateStore } from './host-state-types.js';
import type { SessionLimits, SessionStore } from './session-types.js';

// The host, alert and session contracts have files of their own; importers keep finding every
// contract here.
export * from './alert-store-types.js';
export * from './host-state-types.js';
export * from './session-types.js';
export type { Synchronous } from './promised.js';

export type Role = 'agent' | 'viewer' | 'admin' | 'enroll';
export const ROLES: readonly Role[] = ['agent', 'viewer', 'admin', 'enroll'];

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  created_at: number;
  revoked_at: number | null;
  /** role enroll: how many agent tokens it may still issue in all (null: no limit) */
  uses_max?: number | null;
  /** role enroll: agent tokens issued so far */
  uses?: number;
  /** role enroll: refused from this time on (ms; null: never) */
  expires_at?: number | null;
  /** role agent, issued by enrollment: the only host it may send for */
  enrolled_host?: string;
}

/** Limits of an enrollment token (role enroll). */
export interface EnrollLimits {
  uses?: number | null;
  expires_at?: number | null;
}

/** Why an enrollment token was refused. */
export type EnrollRefusal = 'revoked' | 'expired' | 'used_up' | 'unknown';

export type EnrollResult =
  | { ok: true; token: string; record: TokenRecord; enroll: TokenRecord }
  | { ok: false; reason: EnrollRefusal; enroll?: TokenRecord };

export interface LogFilter {
  host?: string;
  source?: string;
  program?: string;
  /** at most this severity number (0 emerg … 7 debug): `severity=4` keeps warnings and worse */
  severity?: number;
  /** a search in ringtail's query language (collector/query/lang, docs/query-language.md) */
  q?: string;
  /** structured fields that must equal these values (`?field.user_id=42`) */
  fields?: Record<string, string>;
  /** inclusive, ms since epoch */
  start?: number;
  /** exclusive, ms since epoch */
  end?: number;
  limit: number;
  cursor?: string;
}

/** most buckets a histogram may ask for, whatever the backend */
export const MAX_BUCKETS = 1000;

/** The filters of LogFilter (no paging) over [start, end), cut into `buckets` equal intervals. */
export interface HistogramFilter extends Omit<LogFilter, 'limit' | 'cursor' | 'start' | 'end'> {
  start: number;
  end: number;
  buckets: number;
}

/** Lines per bucket: counts[i] covers [start + i*interval, min(end, start + (i+1)*interval)). */
export interface LogHistogram {
  start: number;
  end: number;
  interval: number;
  counts: number[];
  /** the counting stopped at its time budget; counts are lower bounds */
  budget_exhausted?: boolean;
}

export interface HostInfo {
  host: string;
  first_seen: number;
  last_seen: number;
}

export interface IngestItem {
  batch: IngestBatch;
  receivedAt: number;
  /**
   * Committed ends the batch's streams must have reached (stream → offset), from an agent that
   * sent it while the batches before it were still in flight. If any is short, the batch is not
   * stored and its ack says `out_of_order` (the agent sends it again).
   */
  after?: Record<string, number>;
}

/**
 * The log store as the collector uses it (routes, live tail, retention, alert sources): every
 * call that reaches the database returns a promise, which a store behind a network connection
 * (ClickHouse) needs. The SQLite store answers synchronously underneath (SyncLogStore, wrapped
 * by asyncLogStore below), so it costs a resolved promise per call.
 *
 * Line ids: LogItem.id orders lines by commit (the live tail reads `since(afterId)`), but ids
 * need not be dense or start at 1 (ClickHouse derives them from the part's block number,
 * collector/storage/clickhouse/ids.ts). Nothing outside a backend does arithmetic on them.
 */
/**
 * On a log store that answers synchronously underneath (SQLite, asyncLogStore), that store.
 * Only for callers that must answer inside a synchronous step and have no prefetched answer
 * (the alert evaluator's sources, collector/alerts/sources.ts); absent on a networked store.
 */
export const SYNC_LOGS: unique symbol = Symbol('ringtail.syncLogs');

/** New lines for the live tail, without ids in commit order (LogStore.tailFeed). */
export interface TailFeed {
  /**
   * Lines this feed has not returned before, received since the feed was made, oldest first by
   * the feed's own key, at most about `limit`; an
   * empty answer means none are waiting. Each line is returned once.
   */
  next(limit: number): Promise<LogItem[]>;
  /** the ids of `rows` (lines this feed returned) whose line matches the search `q` */
  matchIds(q: string, rows: LogItem[]): Promise<Set<number>>;
}

export interface LogStore {
  readonly [SYNC_LOGS]?: SyncLogStore;
  /** resolves only after the batch is durable; a redelivered range is dropped (counted in `duplicates`) */
  ingest(batch: IngestBatch, receivedAt: number): Promise<IngestAck>;
  /** several batches in one write (group commit), acks in order */
  ingestMany(items: IngestItem[]): Promise<IngestAck[]>;
  query(filter: LogFilter): Promise<LogPage>;
  /** lines per time bucket for the filters, within a time budget */
  histogram(filter: HistogramFilter): Promise<LogHistogram>;
  /** the cursor that continues a page of `filter` after `item` (no I/O) */
  cursorAfter(filter: LogFilter, item: LogItem): string;
  /** lines with id > afterId in id (commit) order, at most `limit` (live tail) */
  since(afterId: number, limit: number): Promise<LogItem[]>;
  /** the newest lines with id <= uptoId, newest first, at most `limit` (a live-tail reconnect's replay) */
  latest(uptoId: number, limit: number): Promise<LogItem[]>;
  /** ids in (afterId, uptoId] whose line matches the search `q` */
  matchIds(q: string, afterId: number, uptoId: number): Promise<Set<number>>;
  /** the largest id stored (0 when empty) */
  maxId(): Promise<number>;
  /**
   * A store whose ids are not in commit order (a ClickHouse cluster: collector/storage/clickhouse/
   * tail-feed.ts) follows new lines with a feed instead, and since/latest/matchIds/maxId are not
   * for the live tail there. Each call is a new feed, starting at the present.
   */
  tailFeed?(): TailFeed;
  hosts(): Promise<HostInfo[]>;
  retention: AsyncRetentionOps;
  /**
   * An index that lines stored before it existed still lack (SQLite: the number runs), stepped
   * on the connection that commits (collector/ingest/commit.ts); absent: nothing to backfill.
   * Synchronous: only an embedded store has one, and its steps run beside its commits.
   */
  backfill?: IndexBackfill;
}

/** Retention as the collector's scheduler (collector/retention.ts) calls it. */
export interface AsyncRetentionOps {
  /** deletes the lines with ts < before, oldest first; at most about `limit` (a store may delete whole days at once); returns how many */
  deleteOlderThan(before: number, limit: number): Promise<number>;
  /** deletes the `limit` oldest lines */
  deleteOldest(limit: number): Promise<number>;
  /** bytes the stored lines take */
  usedBytes(): Promise<number>;
}

/** The log store answered synchronously: what the embedded SQLite store implements inside. */
export interface SyncLogStore {
  /** Commits the batch in one transaction; returns only after it is durable. Redelivered ranges are dropped. */
  ingest(batch: IngestBatch, receivedAt: number): IngestAck;
  /** Several batches in one transaction (group commit): one fsync for all, acks in order. */
  ingestMany(items: IngestItem[]): IngestAck[];
  query(filter: LogFilter): LogPage;
  histogram(filter: HistogramFilter): LogHistogram;
  cursorAfter(filter: LogFilter, item: LogItem): string;
  since(afterId: number, limit: number): LogItem[];
  latest(uptoId: number, limit: number): LogItem[];
  /** ids in (afterId, uptoId] whose message matches the FTS5 query `q` */
  matchIds(q: string, afterId: number, uptoId: number): Set<number>;
  maxId(): number;
  hosts(): HostInfo[];
  retention: RetentionOps;
  /** an index that lines stored before it existed still lack (SQLite: the number runs); absent: none */
  backfill?: IndexBackfill;
}

/**
 * Indexing of lines stored before an index existed (migration 8's number runs), a bounded
 * slice at a time. Each step indexes the next ids and moves the store's persisted mark in
 * the same transaction, so a restart resumes where the last committed step stopped.
 */
export interface IndexBackfill {
  /** indexes at most `limit` more ids in one transaction; returns how many it covered (0: done) */
  step(limit: number): number;
  /** ids still to index (an upper bound: retention may have removed some) and the first id covered */
  status(): { remaining_ids: number; covered_from_id: number };
}

/** A synchronous store behind the asynchronous interface (each answer a resolved promise; a throw a rejection). */
export function asyncLogStore(l: SyncLogStore): LogStore {
  const a =
    <A extends unknown[], T>(fn: (...args: A) => T) =>
    (...args: A): Promise<T> => {
      try {
        return Promise.resolve(fn(...args));
      } catch (err) {
        return Promise.reject(err);
      }
    };
  const r = l.retention;
  return {
    [SYNC_LOGS]: l,
    ingest: a((batch, receivedAt) => l.ingest(batch, receivedAt)),
    ingestMany: a((items) => l.ingestMany(items)),
    query: a((filter) => l.query(filter)),
    histogram: a((filter) => l.histogram(filter)),
    cursorAfter: (filter, item) => l.cursorAfter(filter, item),
    since: a((afterId, limit) => l.since(afterId, limit)),
    latest: a((uptoId, limit) => l.latest(uptoId, limit)),
    matchIds: a((q, afterId, uptoId) => l.matchIds(q, afterId, uptoId)),
    maxId: a(() => l.maxId()),
    hosts: a(() => l.hosts()),
    retention: {
      deleteOlderThan: a((before, limit) => r.deleteOlderThan(before, limit)),
      deleteOldest: a((limit) => r.deleteOldest(limit)),
      usedBytes: a(() => r.usedBytes()),
    },
    ...(l.backfill ? { backfill: l.backfill } : {}),
  };
}

/** Small, bounded deletions so that retention never holds the writer for long. */
export interface RetentionOps {
  /** deletes at most `limit` lines with ts < before, oldest first; returns how many */
  deleteOlderThan(before: number, limit: number): number;
  /** deletes the `limit` oldest lines */
  deleteOldest(limit: number): number;
  /** bytes of the database in use (pages minus free pages) */
  usedBytes(): number;
}

/**
 * API tokens. Asynchronous, so that a networked backend can answer (SQLite answers at once, with
 * resolved promises).
 */
export interface TokenStore {
  /** `limits` apply to role enroll only */
  create(role: Role, name: string, now: number, limits?: EnrollLimits): Promise<{ token: string; record: TokenRecord }>;
  /** registers a secret chosen by the operator (e.g. --admin-token); no-op when it already exists */
  adopt(secret: string, role: Role, name: string, now: number): Promise<TokenRecord>;
  verify(token: string): Promise<TokenRecord | null>;
  /** a token that was issued and is revoked now (presenting it is no guess) */
  isRevoked(token: string): Promise<boolean>;
  list(): Promise<TokenRecord[]>;
  revoke(id: string, now: number): Promise<boolean>;
  countActive(role: Role): Promise<number>;
  /**
   * `auth.bind_agent_hosts`: binds the token to `host` if it has no host yet, and returns the
   * host it is bound to (the first it announced). Optional: a store without it cannot bind.
   */
  bindHost?(id: string, host: string, now: number): Promise<string>;
  /**
   * Binds the agent_id (the namespace of its log streams) to the token `id` if it has no live
   * token yet (never used, or its token was revoked: a re-tokened agent keeps its agent_id), and
   * returns the id of the token it is bound to. Optional: a store without it cannot bind.
   */
  bindAgent?(agentId: string, id: string, now: number): Promise<string>;
  /**
   * Trades the enrollment token `secret` for a new agent token bound to `host`, counting one use;
   * atomic, so with one use left two enrollments at once cannot both succeed. Optional: a store
   * without it has no enrollment. `secret` null: an admin enrolls by hand (no limits, no count).
   */
  enroll?(secret: string | null, host: string, agentId: string | undefined, now: number): Promise<EnrollResult>;
}

export type BackendName = 'sqlite' | 'clickhouse';
export const BACKENDS: readonly BackendName[] = ['sqlite', 'clickhouse'];

/**
 * Which backend keeps the data, and where: plain data (collector/storage/factory.ts opens it), so
 * that the writer thread opens the same store from it.
 */
export interface StorageConfig {
  backend: BackendName;
  /** the data directory (SQLite's database; the RRD files and the admin token file in any case) */
  data: string;
  /** cluster / zookeeperPath: collector/storage/clickhouse/layout.ts (absent cluster: one server) */
  clickhouse?: { url?: string; database: string; cluster?: string; zookeeperPath?: string };
  /** the writer thread's SQLite page cache in MB (memory.writer_cache_mb; absent: the default) */
  writerCacheMb?: number;
}

/** What the writer thread needs of a log store: group commits (LogStore.ingestMany). */
// A group of batches as it crosses to the writer thread (storage/sqlite/packed.ts makes and
// reads it): per segment, one string with every line's text and one Float64Array of their
// numbers and string lengths, instead of an object per line.
export interface PackedSegment {
  stream: string;
  source: string;
  start: number;
  end: number;
  count: number;
  nums: Float64Array;
  /** program, message, (with the HAS_FIELDS flag) fields JSON and field tokens, and number-run tokens of every line, back to back */
  text: string;
}

export interface PackedBatch {
  version: IngestBatch['version'];
  agent_id: string;
  host: string;
  segments: PackedSegment[];
}

export interface PackedItem extends PackedBatch {
  receivedAt: number;
  after?: Record<string, number>;
}

export interface WriterLogStore {
  ingestMany(items: IngestItem[]): IngestAck[];
  /** the same for batches as they cross to the writer thread (absent: the thread unpacks them for ingestMany) */
  ingestPacked?(items: PackedItem[]): IngestAck[];
  /** IndexBackfill.step on the writer's connection (absent: the backend has nothing to backfill) */
  backfill?(limit: number): number;
  close(): void;
}

export interface Storage {
  /** how to open this store again (the writer thread does) */
  config: StorageConfig;
  logs: LogStore;
  tokens: TokenStore;
  /** host lifecycle (SQLite: this collector's own; ClickHouse: shared); optional so that other backends keep compiling */
  hostStates?: HostStateStore;
  /** the alerts' store; the caller closes it (before the storage) */
  openAlerts(): AlertStore | Promise<AlertStore>;
  /** the dashboard's session store; the caller closes it (before the storage) */
  openSessions(limits: SessionLimits): SessionStore;
  /**
   * The metric series store several collectors share (ClickHouse); absent: the series are in the
   * data directory's SQLite store (collector/metrics/plugin.ts opens it). The caller closes it.
   */
  openSeries?(): Promise<SharedSeriesStore>;
  /**
   * Starts reading the store's files into the operating system's cache in the background, so that
   * the first searches after a start do not read every page from disk (SQLite: sqlite/warm.ts);
   * absent: the backend has nothing to warm. The caller stops it before close().
   */
  warm?(opts?: WarmOptions): Warmup;
  close(): void;
}

/** What a warm-up reads: the store's structures, then its full-text index, then its newest rows. */
export type WarmTier = 'structure' | 'fts' | 'rows';

export interface WarmOptions {
  /** bytes read at most, all tiers together */
  maxBytes?: number;
  /** bytes per read */
  chunkBytes?: number;
  /** pause after each read, as a multiple of its duration */
  pauseFactor?: number;
  /** the last tier read (default: all) */
  upTo?: WarmTier;
  /** wanted pages at most this many pages apart are read as one run, the pages between too */
  maxGapPages?: number;
  /** no read starts while this says true (the collector: while a search is answered) */
  busy?: () => boolean;
}

export interface WarmReport {
  state: 'done' | 'stopped' | 'failed';
  bytes: number;
  /** bytes per tier */
  tiers: Record<WarmTier, number>;
  reads: number;
  ms: number;
  /** when each tier read was complete, in ms from the start (absent: not completed) */
  tiers_ms: Partial<Record<WarmTier, number>>;
  /** of ms, how long busy() held it */
  held_ms: number;
  /** the whole process's CPU over the warm-up (user + system): an upper bound of its own */
  cpu_ms: number;
  error?: string;
}

export interface Warmup {
  /** resolves when the warm-up has ended, however it ended; never rejects */
  readonly done: Promise<WarmReport>;
  /** ends it after the read in flight; resolves with its report */
  stop(): Promise<WarmReport>;
}
