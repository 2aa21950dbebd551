// The alerts' storage contract (collector/alerts/): rows of the outbox, history and silences,
// and the store that keeps them with the rules' state. Exported with the other contracts from
// types.ts.
import type { InstanceState, Transition } from '../alerts/state.js';
import { promised, type Synchronous } from './promised.js';

export interface OutboxRow {
  seq: number;
  id: string;
  notifier: string;
  rule: string;
  body: string;
  created_at: number;
  attempts: number;
  next_at: number;
  state: 'pending' | 'delivered' | 'failed' | 'disabled';
  last_status: number | null;
  last_error: string | null;
  done_at: number | null;
}

export interface HistoryRow extends Transition {
  id: number;
}

export interface SilenceRow {
  id: string;
  matchers: Array<{ name: string; value: string; regex?: boolean }>;
  starts_at: number;
  ends_at: number;
  comment: string;
  created_by: string;
  created_at: number;
}

export interface NewOutbox {
  id: string;
  notifier: string;
  rule: string;
  body: string;
}

export interface HistoryFilter {
  rule?: string;
  host?: string;
  /** history ids below this one (paging) */
  before?: number;
  start?: number;
  end?: number;
  limit: number;
}

/**
 * Alert state, history, API rules, silences and the notification outbox (collector/alerts/).
 * Asynchronous, so that a store several collectors share (ClickHouse) can answer; SQLite answers
 * synchronously inside (Synchronous<AlertStore>, wrapped by asyncAlertStore).
 */
export interface AlertStore {
  close(): Promise<void>;
  apiRules(): Promise<Array<{ name: string; spec: unknown }>>;
  putRule(name: string, spec: unknown, now: number): Promise<void>;
  deleteRule(name: string): Promise<boolean>;
  loadStates(): Promise<InstanceState[]>;
  /**
   * State changes, their history and the notifications they cause: all or nothing on SQLite (one
   * transaction); on a store without transactions the outbox rows land first and the states
   * last, so a failed commit is decided again from the states before it (same webhook ids).
   */
  commit(upserts: InstanceState[], deletes: Array<[string, string, string]>, history: Transition[], outbox: NewOutbox[], now: number): Promise<void>;
  /** newest first */
  history(filter: HistoryFilter): Promise<HistoryRow[]>;
  /** keeps the newest `keepHistoryRows` transitions and the finished notifications of the last `keepDoneMs` */
  prune(now: number, keepHistoryRows: number, keepDoneMs: number): Promise<void>;
  /** pending notifications due at `now`, oldest first */
  due(now: number, limit: number): Promise<OutboxRow[]>;
  pendingCount(): Promise<number>;
  nextDue(): Promise<number | null>;
  markDelivered(seq: number, status: number, now: number): Promise<void>;
  markRetry(seq: number, nextAt: number, status: number | null, error: string): Promise<void>;
  markFinal(seq: number, state: 'failed' | 'disabled', status: number | null, error: string, now: number): Promise<void>;
  /** A receiver that answered 410 gets nothing more until its URL changes in the configuration. */
  disableNotifier(name: string, url: string, reason: string, now: number): Promise<void>;
  enableNotifier(name: string): Promise<void>;
  disabledNotifiers(): Promise<Map<string, { url: string; disabled_at: number; reason: string }>>;
  /** newest first */
  outbox(limit: number): Promise<OutboxRow[]>;
  silences(): Promise<SilenceRow[]>;
  addSilence(s: SilenceRow): Promise<void>;
  expireSilence(id: string, now: number): Promise<boolean>;
  /**
   * A store several collectors share elects the one that evaluates rules and sends (a lease with
   * a bounded takeover); absent: one collector owns the store (SQLite) and always evaluates.
   */
  evaluatorLease?(opts: { collectorId: string; leaseMs: number; clock: () => number }): EvaluatorLease;
}

/** Who evaluates the alert rules and delivers the outbox among the collectors on one store. */
export interface EvaluatorLease {
  /** takes the lease when free or expired, renews it when held; true while this collector holds it */
  acquire(): Promise<boolean>;
  /** the holder as last read (null: nobody yet) */
  holder(): { collector: string; epoch: number; expires_at: number } | null;
  /** gives it up (expiry now), so a standby takes over at its next turn instead of at the expiry */
  release(): Promise<void>;
}

/** A synchronous alert store behind the asynchronous interface (each answer a resolved promise; a throw a rejection). */
export function asyncAlertStore(s: Synchronous<Omit<AlertStore, 'evaluatorLease'>>): AlertStore {
  return promised(s) as unknown as AlertStore;
}
