// Every host the collector hears from (agent log batches, metric batches, syslog senders), with
// its lifecycle state. Hearing a host is the ingest hot path: it only updates memory. A periodic
// sweep (sweep(), on app.clock) moves silent hosts along up → stale → down (permanent) or
// up → stale → retired (ephemeral), and flush() saves what changed (last-seen times, states, the
// transitions) in one small transaction. Only hearing a host brings it back to `up`: a sweep
// never does, so a clock that jumps backwards cannot revive a down host or make one flap.
//
// On a store several collectors share (ClickHouse), each collector's registry is its view of the
// fleet: merge() takes in what the others saved (newer last-seen times, transitions, forgotten
// hosts) without saving it again, and only the designated collector's sweep decides silence
// transitions (service.ts); the listing and the rules still read memory only.
import type { EventSink } from '../../shared/events.js';
import { HOST_STATE_TIE, type HostChanges, type HostEvent, type HostSource, type HostState, type HostStateRow, type HostStateStore } from '../storage/types.js';
import type { HostsTiming } from './config.js';
import { NameOrder } from './name-order.js';

export interface HeardFrom {
  source: HostSource;
  /** the agent that sent it (agents only) */
  agentId?: string;
  /** what the agent declared; an agent batch without the field is a permanent host */
  ephemeral?: boolean;
  /** the agent's metrics interval, ms */
  intervalMs?: number;
}

export interface HostView extends HostStateRow {
  /** ms after which silence makes the host stale (3 intervals) */
  stale_after_ms: number;
}

/** what the hosts sweep found to do beyond state changes */
export interface SweepResult {
  transitions: HostEvent[];
  /** retired longer than purge_after: their series are to be deleted and the record dropped */
  purge: string[];
}

/** transitions kept in memory per host for rules (host-flapping) */
const RECENT_PER_HOST = 32;
/** how far back transitions are loaded into memory at start */
const RECENT_LOAD_MS = 3_600_000;
/** a second agent claiming a host's name is logged at most this often per host (always counted) */
const CONFLICT_LOG_MS = 60_000;
/**
 * Transitions kept for the store while it cannot take them (ClickHouse unreachable): beyond
 * this the oldest are dropped and counted (hosts.events_dropped); the states themselves are
 * records, kept whatever the outage's length.
 */
export const MAX_PENDING_EVENTS = 100_000;

const RANK: Record<HostState, number> = { up: 0, stale: 1, down: 2, retired: 3 };

interface Rec extends HostStateRow {
  agent_at: number;
  conflict_logged_at: number;
  recent: HostEvent[];
  /**
   * The record's view as JSON, made when first listed and dropped by any change (touch()):
   * a listing with retired hosts serialised 30,000 records that almost never change (fleet
   * benchmark, include_retired p99 336 ms, most of it JSON.stringify).
   */
  json: string | null;
}

export class HostRegistry {
  private readonly hosts = new Map<string, Rec>();
  /** the records in name order, and those not retired (name-order.ts) */
  private readonly order = new NameOrder<Rec>(() => this.hosts.values());
  private readonly dirty = new Set<string>();
  private pendingEvents: HostEvent[] = [];
  /** transitions handed to the save in progress: still listed by events() until it lands */
  private savingEvents: HostEvent[] = [];
  private removed = new Set<string>();
  private failedSaves = 0;
  /** silence is counted from here at the earliest: the collector's own downtime is not the hosts' */
  private readonly startedAt: number;

  /** the save in progress (flushes run one after the other) */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly o: { store?: HostStateStore; clock: () => number; events: EventSink; timing: HostsTiming },
  ) {
    this.startedAt = o.clock();
  }

  /** Reads the stored records and the last hour's transitions (once, before the first heard()). */
  async load(): Promise<void> {
    const store = this.o.store;
    if (!store) return;
    for (const row of await store.load()) {
      if (this.hosts.has(row.host)) continue;
      const r = this.rec(row);
      this.hosts.set(row.host, r);
      this.order.place(r);
    }
    // the last hour's transitions, so that flaps() counts across a collector restart
    for (const e of await store.eventsSince(this.startedAt - RECENT_LOAD_MS, 100_000)) {
      const r = this.hosts.get(e.host);
      if (r) this.remember(r, e);
    }
  }

  private remember(r: Rec, e: HostEvent): void {
    r.recent.push(e);
    if (r.recent.length > RECENT_PER_HOST) r.recent.shift();
  }

  /**
   * What other collectors saved (a shared store): newer last-seen times and agent declarations,
   * transitions newer than this collector's (the newest state_since wins; a transition taken in
   * is remembered for flaps() but not saved or announced again: its collector did both), and
   * forgotten or purged hosts. Nothing taken in here is marked for saving.
   */
  merge(c: HostChanges): void {
    for (const f of c.forgotten) {
      const r = this.hosts.get(f.host);
      // heard again after it was forgotten: a new record, kept
      if (r && r.last_seen <= f.at) this.drop(f.host);
    }
    for (const x of c.rows) {
      let r = this.hosts.get(x.host);
      if (!r) {
        r = this.rec(x);
        r.agent_at = x.agent_at;
        this.hosts.set(x.host, r);
        this.order.place(r);
        continue;
      }
      let changed = false;
      if (x.last_seen > r.last_seen) (r.last_seen = x.last_seen), (changed = true);
      if (x.first_seen < r.first_seen) (r.first_seen = x.first_seen), (changed = true);
      for (const src of x.sources) if (!r.sources.includes(src)) (r.sources = [...r.sources, src].sort()), (changed = true);
      if (x.agent_id !== null && x.agent_at > r.agent_at) {
        r.agent_id = x.agent_id;
        r.ephemeral = x.ephemeral;
        r.interval_ms = x.interval_ms;
        r.agent_at = x.agent_at;
        changed = true;
      }
      if (x.state_since > r.state_since || (x.state_since === r.state_since && HOST_STATE_TIE[x.state] > HOST_STATE_TIE[r.state])) {
        if ((x.state === 'retired') !== (r.state === 'retired')) this.order.retiredChanged();
        if (x.state !== r.state) this.remember(r, { ts: x.state_since, host: r.host, from: r.state, to: x.state });
        r.state = x.state;
        r.state_since = x.state_since;
        changed = true;
      }
      if (changed) r.json = null;
    }
  }

  private rec(r: HostStateRow): Rec {
    // one literal shape for every record (a spread gave records of one registry many hidden
    // classes, and reading a field over 30,000 of them cost ~1 µs each)
    return {
      host: r.host,
      first_seen: r.first_seen,
      last_seen: r.last_seen,
      state: r.state,
      state_since: r.state_since,
      ephemeral: r.ephemeral,
      interval_ms: r.interval_ms,
      sources: r.sources,
      agent_id: r.agent_id,
      agent_at: r.last_seen,
      conflict_logged_at: -Infinity,
      recent: [],
      json: null,
    };
  }

  /**
   * Hosts known elsewhere (the log store's host table, the metric catalog) but without a
   * lifecycle record, e.g. data from before this table existed: they start in the state their
   * silence gives them, without a transition. For known hosts, a later last-seen is taken.
   */
  adopt(host: string, firstSeen: number, lastSeen: number, source: HostSource): void {
    const r = this.hosts.get(host);
    if (r) {
      if (lastSeen > r.last_seen && r.state !== 'retired') {
        r.last_seen = lastSeen;
        this.touch(r);
      }
      if (!r.sources.includes(source)) {
        r.sources = [...r.sources, source].sort();
        this.touch(r);
      }
      return;
    }
    const now = this.o.clock();
    const row: HostStateRow = { host, first_seen: Math.min(firstSeen, lastSeen), last_seen: lastSeen, state: 'up', state_since: now, ephemeral: false, interval_ms: null, sources: [source], agent_id: null };
    const rec = this.rec(row);
    rec.state = this.target(rec, now, lastSeen);
    this.hosts.set(host, rec);
    this.order.place(rec);
    this.dirty.add(host);
  }

  /** The ingest hot path: memory only, saved by the next sweep. */
  heard(host: string, at: number, from: HeardFrom): void {
    let r = this.hosts.get(host);
    if (!r) {
      r = this.rec({ host, first_seen: at, last_seen: at, state: 'up', state_since: at, ephemeral: false, interval_ms: null, sources: [], agent_id: null });
      this.hosts.set(host, r);
      this.order.place(r);
      this.removed.delete(host);
      this.transition(r, null, 'up', at);
    } else {
      // a clock that went backwards never moves last-seen back
      if (at > r.last_seen) r.last_seen = at;
      if (r.state !== 'up') this.transition(r, r.state, 'up', at);
    }
    if (!r.sources.includes(from.source)) r.sources = [...r.sources, from.source].sort();
    if (from.agentId !== undefined) {
      r.ephemeral = from.ephemeral === true;
      if (from.intervalMs !== undefined) r.interval_ms = from.intervalMs;
      if (r.agent_id !== null && r.agent_id !== from.agentId && at - r.agent_at < this.staleAfter(r)) this.conflict(r, from.agentId, at);
      r.agent_id = from.agentId;
      r.agent_at = Math.max(r.agent_at, at);
    }
    this.touch(r);
  }

  /** a record changed: saved at the next flush, serialised again when next listed */
  private touch(r: Rec): void {
    r.json = null;
    this.dirty.add(r.host);
  }

  /**
   * Two agents (two agent ids) sending for one host name at the same time: each overwrites the
   * other's data under that name. Without token binding (auth.bind_agent_hosts) the collector
   * cannot tell which is right, so it stores both and says so, counted and logged.
   */
  private conflict(r: Rec, agentId: string, at: number): void {
    const fields = { host: r.host, agent_id: agentId, other_agent_id: r.agent_id };
    if (at - r.conflict_logged_at >= CONFLICT_LOG_MS) {
      r.conflict_logged_at = at;
      this.o.events.emit('hosts.name_conflict', fields, 'warn');
    } else this.o.events.add('hosts.name_conflict', 1);
  }

  private staleAfter(r: HostStateRow): number {
    return 3 * (r.interval_ms ?? this.o.timing.defaultIntervalMs);
  }

  /** the state silence alone gives the host at `now` */
  private target(r: HostStateRow, now: number, since = Math.max(r.last_seen, this.startedAt)): HostState {
    const quiet = Math.max(0, now - since);
    const stale = this.staleAfter(r);
    if (quiet < stale) return 'up';
    if (r.ephemeral) return quiet >= this.o.timing.retireAfterMs ? 'retired' : 'stale';
    return quiet >= stale + this.o.timing.downAfterMs ? 'down' : 'stale';
  }

  private transition(r: Rec, from: HostState | null, to: HostState, now: number): void {
    // event times of one host never go backwards, whatever the clock does
    const ts = Math.max(now, from === null ? now : r.state_since);
    if ((from === 'retired') !== (to === 'retired')) this.order.retiredChanged();
    r.state = to;
    r.state_since = ts;
    const e: HostEvent = { ts, host: r.host, from, to };
    this.remember(r, e);
    this.pendingEvents.push(e);
    if (this.pendingEvents.length > MAX_PENDING_EVENTS) {
      this.pendingEvents.splice(0, this.pendingEvents.length - MAX_PENDING_EVENTS);
      this.o.events.add('hosts.events_dropped', 1);
    }
    this.touch(r);
    this.o.events.emit(`host.${to}`, { host: r.host, from, ephemeral: r.ephemeral }, to === 'up' ? 'info' : 'warn');
  }

  /**
   * One evaluation of every host (the caller saves with flush()). `decide` false (a collector
   * that is not the designated one on a shared store): silence moves nothing here, the
   * designated collector's transitions arrive through merge().
   */
  sweep(now = this.o.clock(), decide = true): SweepResult {
    const transitions: HostEvent[] = [];
    const purge: string[] = [];
    if (!decide) return { transitions, purge };
    for (const r of this.hosts.values()) {
      if (r.state === 'retired') {
        if (now - r.state_since >= this.o.timing.purgeAfterMs) purge.push(r.host);
        continue;
      }
      const to = this.target(r, now);
      // silence only moves a host forwards; hearing it (heard) is what brings it back up
      if (RANK[to] > RANK[r.state]) {
        this.transition(r, r.state, to, now);
        transitions.push(r.recent[r.recent.length - 1]!);
      }
    }
    return { transitions, purge };
  }

  /**
   * Saves the changed records and pending transitions (one save at a time: a flush asked for
   * while one runs follows it). What a failed save held is kept for the next try, counted
   * (hosts.save_deferred) and said loudly when it lasts (hosts.save_failed); it never throws.
   */
  flush(meta?: Record<string, number>): Promise<void> {
    const next = this.flushing.then(() => this.flushNow(meta));
    this.flushing = next;
    return next;
  }

  private async flushNow(meta?: Record<string, number>): Promise<void> {
    const store = this.o.store;
    if (!store) {
      this.dirty.clear();
      this.pendingEvents = [];
      this.removed.clear();
      return;
    }
    const hosts = [...this.dirty];
    const rows: HostStateRow[] = [];
    for (const h of hosts) {
      const r = this.hosts.get(h);
      if (r) rows.push(row(r));
    }
    const events = this.pendingEvents;
    const removed = [...this.removed];
    // taken now: what changes while the save is away is saved by the next flush
    this.dirty.clear();
    this.pendingEvents = [];
    this.savingEvents = events;
    this.removed.clear();
    try {
      await store.save(rows, events, removed, meta);
      this.failedSaves = 0;
    } catch (err) {
      this.savingEvents = [];
      for (const h of hosts) if (this.hosts.has(h)) this.dirty.add(h);
      this.pendingEvents = [...events.filter((e) => this.hosts.has(e.host)), ...this.pendingEvents].slice(-MAX_PENDING_EVENTS);
      for (const h of removed) if (!this.hosts.has(h)) this.removed.add(h);
      // busy (the writer thread held the lock) or the store unreachable: kept for the next
      // sweep; said loudly only when it lasts
      this.failedSaves++;
      if (this.failedSaves % 12 === 0) this.o.events.emit('hosts.save_failed', { error: (err as Error).message, hosts: rows.length, attempts: this.failedSaves }, 'warn');
      else this.o.events.add('hosts.save_deferred', 1);
    } finally {
      if (this.savingEvents === events) this.savingEvents = [];
    }
  }

  get(host: string): HostView | undefined {
    const r = this.hosts.get(host);
    return r && this.view(r);
  }

  private view(r: Rec): HostView {
    const v = row(r) as HostView;
    v.stale_after_ms = this.staleAfter(r);
    return v;
  }

  has(host: string): boolean {
    return this.hosts.has(host);
  }

  /** host state, null when unknown */
  stateOf(host: string): HostState | null {
    return this.hosts.get(host)?.state ?? null;
  }

  /** hosts in name order; retired ones only when asked for (by `states` or `includeRetired`) */
  list(filter: { states?: ReadonlySet<HostState>; includeRetired?: boolean } = {}): HostView[] {
    const out: HostView[] = [];
    for (const r of filter.states || filter.includeRetired ? this.order.inOrder() : this.order.liveInOrder()) {
      if (filter.states ? !filter.states.has(r.state) : r.state === 'retired' && !filter.includeRetired) continue;
      out.push(this.view(r));
    }
    return out;
  }

  /** list() as JSON text, each record's part kept from one listing to the next while it is unchanged */
  listJson(filter: { states?: ReadonlySet<HostState>; includeRetired?: boolean } = {}): string {
    const parts: string[] = [];
    for (const r of filter.states || filter.includeRetired ? this.order.inOrder() : this.order.liveInOrder()) {
      if (filter.states ? !filter.states.has(r.state) : r.state === 'retired' && !filter.includeRetired) continue;
      parts.push((r.json ??= JSON.stringify(this.view(r))));
    }
    return `[${parts.join(',')}]`;
  }

  /** counts per state over every known host */
  counts(): Record<HostState, number> {
    const c: Record<HostState, number> = { up: 0, stale: 0, down: 0, retired: 0 };
    for (const r of this.hosts.values()) c[r.state]++;
    return c;
  }

  /** every host not retired (what host-scoped alert rules evaluate) */
  live(): HostView[] {
    return this.list();
  }

  /**
   * Transitions of a host with ts >= since, oldest first, from memory (the last RECENT_PER_HOST
   * since the collector started, plus those loaded from the store on demand by the API).
   */
  transitions(host: string, since = Number.MIN_SAFE_INTEGER): HostEvent[] {
    return (this.hosts.get(host)?.recent ?? []).filter((e) => e.ts >= since);
  }

  /** how many times the host came back up after being down within [now - windowMs, now] (host-flapping) */
  flaps(host: string, windowMs: number, now = this.o.clock()): number {
    return this.transitions(host, now - windowMs).filter((e) => e.from === 'down' && e.to === 'up').length;
  }

  /** Newest first: the stored transitions and those not saved yet. */
  async events(host: string, limit: number, since?: number): Promise<HostEvent[]> {
    // Unsaved transitions are those pending and those a save in progress holds; either may land in
    // the store while its read is away, so a transition read both ways is listed once.
    const mine = (e: HostEvent) => e.host === host && (since === undefined || e.ts >= since);
    const pending = [...this.savingEvents.filter(mine), ...this.pendingEvents.filter(mine)].reverse();
    const stored = (await this.o.store?.events(host, limit, since)) ?? [...(this.hosts.get(host)?.recent ?? [])].reverse();
    const seen = new Set(pending.map(eventKey));
    const rest = (this.o.store ? stored : stored.filter(mine)).filter((e) => !seen.has(eventKey(e)));
    return [...pending, ...rest].sort((a, b) => b.ts - a.ts).slice(0, limit);
  }

  /** Retires a host now (an operator's decision); false when unknown. */
  retire(host: string, now = this.o.clock()): boolean {
    const r = this.hosts.get(host);
    if (!r) return false;
    if (r.state !== 'retired') this.transition(r, r.state, 'retired', now);
    return true;
  }

  /** Drops a host's record and transitions (forget, purge); the store is told at the next flush. */
  remove(host: string): boolean {
    const had = this.drop(host);
    this.removed.add(host);
    return had;
  }

  /** drops a host from memory only */
  private drop(host: string): boolean {
    const had = this.hosts.delete(host);
    if (had) this.order.drop(host);
    this.dirty.delete(host);
    this.pendingEvents = this.pendingEvents.filter((e) => e.host !== host);
    return had;
  }

  get size(): number {
    return this.hosts.size;
  }
}

function row(r: Rec): HostStateRow {
  return {
    host: r.host,
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    state: r.state,
    state_since: r.state_since,
    ephemeral: r.ephemeral,
    interval_ms: r.interval_ms,
    sources: r.sources,
    agent_id: r.agent_id,
  };
}

const eventKey = (e: HostEvent) => `${e.ts}\u0000${e.from}\u0000${e.to}`;
