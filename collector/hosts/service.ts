// The hosts service behind `app.hosts`: the registry, the periodic tick (queued requests from
// `ringtail hosts`, the lifecycle sweep, purging retired hosts' series and forgotten hosts'
// lines), and the operations. Everything takes its time from the injected clock.
//
// On a shared store (ClickHouse) each tick first pulls what other collectors saved since the
// last pull (HostStateStore.changes), and silence transitions and purges are decided only where
// `decides()` says so (the designated alert evaluator, plugin.ts): every collector lists every
// host, and the state it shows is at most about two sweep intervals behind (docs/scale-out.md).
import { ErrorCodes } from '../../shared/errors.js';
import type { EventSink } from '../../shared/events.js';
import type { MetricService } from '../metrics/service.js';
import type { HostEvent, HostState, HostStateStore, LogStore } from '../storage/types.js';
import type { HostsTiming } from './config.js';
import { applyHostOp } from './ops.js';
import { HostRegistry, type HeardFrom, type HostView } from './registry.js';

/** hidden lines of forgotten hosts deleted per tick (one short transaction) */
export const FORGOTTEN_SLICE = 1000;
/**
 * retired hosts purged per tick, the rest at the next ones: each is one durable commit of its
 * series' deletes, waited for on the event loop, and hosts retired in the same hour all pass
 * purge_after in the same tick (a day of a fleet: 1,000)
 */
export const PURGE_SLICE = 20;
/**
 * A pull re-reads this much before the last one began: a row another collector stamped with a
 * clock a little behind this one, or whose insert became visible late, is still seen (the merge
 * is idempotent, so reading a row twice costs only the read).
 */
export const PULL_OVERLAP_MS = 60_000;
/** host_meta keys: a CLI tells a running collector from a stopped one by the last tick */
export const META_TICK_AT = 'tick_at';
export const META_SWEEP_MS = 'sweep_interval_ms';

export interface TickResult {
  transitions: HostEvent[];
  purged: string[];
  requests: number;
  forgottenLines: number;
}

export class HostsService {
  readonly registry: HostRegistry;
  private readonly owner = `collector:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    private readonly o: {
      store?: HostStateStore;
      clock: () => number;
      events: EventSink;
      timing: HostsTiming;
      /** the metric service, when the metrics plugin is there */
      metrics: () => MetricService | undefined;
      /** whether this collector decides silence transitions and purges now (absent: always) */
      decides?: () => boolean;
    },
  ) {
    this.registry = new HostRegistry({ store: o.store, clock: o.clock, events: o.events, timing: o.timing });
  }

  get timing(): HostsTiming {
    return this.o.timing;
  }

  /** until when the store's changes have been pulled (ms on the store's clock); first pull: everything */
  private pulledTo = Number.MIN_SAFE_INTEGER + PULL_OVERLAP_MS;

  /**
   * The stored records first, then hosts the log store and the metric catalog know, for data
   * older than the lifecycle table.
   */
  async adoptKnown(logs: LogStore): Promise<void> {
    await this.registry.load();
    await this.o.store?.setMeta(META_SWEEP_MS, this.o.timing.sweepIntervalMs);
    for (const h of await logs.hosts()) this.registry.adopt(h.host, h.first_seen, h.last_seen, 'logs');
    const now = this.o.clock();
    for (const h of this.o.metrics()?.hosts(now) ?? []) {
      const last = Math.max(h.last_sample, h.last_seen ?? 0);
      this.registry.adopt(h.host, last, last, 'metrics');
    }
    await this.registry.flush();
  }

  /**
   * Takes in what other collectors saved since the last pull (a shared store; nothing to do on
   * one this collector owns). A failure is counted (hosts.pull_failed) and retried next tick.
   */
  async pull(): Promise<void> {
    const store = this.o.store;
    if (!store?.shared || !store.changes) return;
    try {
      const c = await store.changes(this.pulledTo - PULL_OVERLAP_MS);
      this.registry.merge(c);
      this.pulledTo = c.through;
    } catch (err) {
      this.o.events.add('hosts.pull_failed', 1);
      if (++this.failedPulls % 12 === 1) this.o.events.emit('hosts.pull_failed', { error: (err as Error).message, attempts: this.failedPulls }, 'warn');
      return;
    }
    this.failedPulls = 0;
  }

  private failedPulls = 0;

  heard(host: string, at: number, from: HeardFrom): void {
    this.registry.heard(host, at, from);
  }

  /** a host's state; null when the collector does not know it */
  state(host: string): HostState | null {
    return this.registry.stateOf(host);
  }

  /** a host's transitions with ts >= sinceMs, oldest first (kept in memory since start) */
  transitions(host: string, sinceMs?: number): HostEvent[] {
    return this.registry.transitions(host, sinceMs);
  }

  /** down → up transitions of a host in the last windowMs */
  flaps(host: string, windowMs: number): number {
    return this.registry.flaps(host, windowMs, this.o.clock());
  }

  get(host: string): HostView | undefined {
    return this.registry.get(host);
  }

  private withdraw = (host: string): number => this.o.metrics()?.withdraw(host) ?? 0;

  retire(host: string): Promise<'ok' | typeof ErrorCodes.NOT_FOUND> {
    return applyHostOp({ registry: this.registry, store: this.o.store, withdraw: this.withdraw, events: this.o.events }, 'retire', host, this.o.clock());
  }

  forget(host: string): Promise<'ok' | typeof ErrorCodes.NOT_FOUND> {
    return applyHostOp({ registry: this.registry, store: this.o.store, withdraw: this.withdraw, events: this.o.events }, 'forget', host, this.o.clock());
  }

  /** One periodic pass; the plugin runs it every hosts.sweep_interval, tests call it. */
  async tick(): Promise<TickResult> {
    await this.pull();
    const now = this.o.clock();
    const store = this.o.store;
    let requests = 0;
    for (const r of (await store?.claim(this.owner)) ?? []) {
      const result = r.op === 'retire' ? await this.retire(r.host) : await this.forget(r.host);
      await store!.finish(r.id, result, now);
      requests++;
    }
    const { transitions, purge: due } = this.registry.sweep(now, this.o.decides?.() ?? true);
    const purge = due.slice(0, PURGE_SLICE);
    for (const host of purge) {
      const series = this.withdraw(host);
      this.registry.remove(host);
      this.o.events.emit('host.purged', { host, series });
    }
    // tick_at (saved with the states, one transaction): the CLI's sign that a collector runs
    await this.registry.flush({ [META_TICK_AT]: now });
    const forgottenLines = (await store?.purgeForgotten(FORGOTTEN_SLICE)) ?? 0;
    if (forgottenLines > 0) this.o.events.add('hosts.forgotten_lines_deleted', forgottenLines);
    return { transitions, purged: purge, requests, forgottenLines };
  }
}
