// The hosts service behind `app.hosts`: the registry, the periodic tick (queued requests from
// `ringtail hosts`, the lifecycle sweep, purging retired hosts' series and forgotten hosts'
// lines), and the operations. Everything takes its time from the injected clock.
import { ErrorCodes } from '../../shared/errors.js';
import type { EventSink } from '../../shared/events.js';
import type { MetricService } from '../metrics/service.js';
import type { HostEvent, HostState, HostStateStore, LogStore } from '../storage/types.js';
import type { HostsTiming } from './config.js';
import { applyHostOp } from './ops.js';
import { HostRegistry, type HeardFrom, type HostView } from './registry.js';

/** hidden lines of forgotten hosts deleted per tick (one short transaction) */
export const FORGOTTEN_SLICE = 1000;
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
    },
  ) {
    this.registry = new HostRegistry({ store: o.store, clock: o.clock, events: o.events, timing: o.timing });
  }

  get timing(): HostsTiming {
    return this.o.timing;
  }

  /** Hosts the log store and the metric catalog know, for data older than the lifecycle table. */
  async adoptKnown(logs: LogStore): Promise<void> {
    this.o.store?.setMeta(META_SWEEP_MS, this.o.timing.sweepIntervalMs);
    for (const h of await logs.hosts()) this.registry.adopt(h.host, h.first_seen, h.last_seen, 'logs');
    const now = this.o.clock();
    for (const h of this.o.metrics()?.hosts(now) ?? []) {
      const last = Math.max(h.last_sample, h.last_seen ?? 0);
      this.registry.adopt(h.host, last, last, 'metrics');
    }
    this.registry.flush();
  }

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

  retire(host: string): 'ok' | typeof ErrorCodes.NOT_FOUND {
    return applyHostOp({ registry: this.registry, store: this.o.store, withdraw: this.withdraw, events: this.o.events }, 'retire', host, this.o.clock());
  }

  forget(host: string): 'ok' | typeof ErrorCodes.NOT_FOUND {
    return applyHostOp({ registry: this.registry, store: this.o.store, withdraw: this.withdraw, events: this.o.events }, 'forget', host, this.o.clock());
  }

  /** One periodic pass; the plugin runs it every hosts.sweep_interval, tests call it. */
  tick(): TickResult {
    const now = this.o.clock();
    const store = this.o.store;
    let requests = 0;
    for (const r of store?.claim(this.owner) ?? []) {
      const result = r.op === 'retire' ? this.retire(r.host) : this.forget(r.host);
      store!.finish(r.id, result, now);
      requests++;
    }
    // tick_at (saved with the states, one transaction): the CLI's sign that a collector runs
    const { transitions, purge } = this.registry.sweep(now, { [META_TICK_AT]: now });
    for (const host of purge) {
      const series = this.withdraw(host);
      this.registry.remove(host);
      this.o.events.emit('host.purged', { host, series });
    }
    if (purge.length > 0) this.registry.flush();
    const forgottenLines = store?.purgeForgotten(FORGOTTEN_SLICE) ?? 0;
    if (forgottenLines > 0) this.o.events.add('hosts.forgotten_lines_deleted', forgottenLines);
    return { transitions, purged: purge, requests, forgottenLines };
  }
}
