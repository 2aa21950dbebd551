// Samples every metric source once per interval, stamps the round with one timestamp and ships
// the samples to the collector. Sampling never waits for the network: samples queue in memory
// (bounded, oldest dropped first) while the collector is away and leave in order when it is
// back, so each series' timestamps only ever increase, as the round-robin store requires.
//
// Out-of-band samples: a source that notices a change of state between rounds (see
// MetricSource.watch) hands its samples over at once; they are stamped with their own time and
// shipped without waiting for the next round. The regular rounds go on unchanged. The store keeps
// one update per series and second, and takes a sample not after its series' last update for a
// duplicate: so every stamp, regular or out of band, falls in a later second than the one before
// (an extra sample between two regular ones is an ordinary round-robin update at its own time).
// A change in a second already used waits for the next second, replaced by any newer change of
// the same source meanwhile (so a source changes its series at most once a second, and stamps
// never run ahead of the clock); a round taken in such a second is stamped at the next one. Each source's samples are
// queued as soon as that source answered, so a slow probe cannot put a round's older stamp behind
// an out-of-band sample already queued for the same series.
import { createEvents, type EventSink } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import { WIRE_VERSION, type MetricAck, type MetricBatch, type MetricSample } from '../../shared/wire.js';
import type { Backoff } from '../transport/backoff.js';
import { collectorClient, ShipError, type CollectorClient } from '../transport/client.js';
import { shipMetrics } from './ship.js';
import type { MetricSource, Sample } from './types.js';

/** Samples per request: a request is one durable update on the collector, keep it moderate. */
const MAX_SAMPLES_PER_REQUEST = 5_000;

export interface RunnerOptions {
  /** the agent's collector client (shared with the log shipper); without one, a client with the default transport options for `collector` and `token` */
  client?: CollectorClient;
  collector: string;
  token: string;
  host: string;
  /** read at the first delivery: the log agent creates its id when it starts */
  agentId: string | (() => string);
  intervalMs: number;
  /** sent as `ephemeral: true` (only when true, so older collectors accept a permanent agent's batches) */
  ephemeral?: boolean;
  maxQueued: number;
  sources: MetricSource[];
  /** false: sources are not watched between rounds, every change waits for the next round (checks.report_changes) */
  reportChanges?: boolean;
  log: Logger;
  /** ms since epoch; injected by tests */
  clock?: () => number;
  /** delivery of one batch; tests may replace it */
  send?: (batch: MetricBatch, signal: AbortSignal) => Promise<MetricAck>;
  random?: () => number;
  events?: EventSink;
}

export class MetricsRunner {
  readonly events: EventSink;
  private readonly clock: () => number;
  private readonly send: (batch: MetricBatch, signal: AbortSignal) => Promise<MetricAck>;
  private readonly client: CollectorClient;
  /** the runner built its client itself: it closes it on stop */
  private readonly ownClient: boolean;
  private readonly backoff: Backoff;
  /** aborts a delivery in flight when the agent stops: shutdown must not wait for a hung collector */
  private readonly abort = new AbortController();
  private queue: MetricSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private round: Promise<void> | null = null;
  private shipping: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** the pause under way is a backoff: new samples do not end it */
  private backingOff = false;
  private lastAck: number | null = null;
  private readonly failing = new Set<string>();
  /** the second of the last stamp given to any sample: every later one is in a later second */
  private lastSecond = -Infinity;
  /** out-of-band changes waiting for a fresh second, by source (the newest wins) */
  private readonly held = new Map<string, Sample[]>();
  private heldTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: RunnerOptions) {
    this.clock = o.clock ?? Date.now;
    this.events = o.events ?? createEvents(o.log);
    this.ownClient = o.client === undefined;
    this.client = o.client ?? collectorClient({ collector: o.collector, token: o.token, timeoutMs: 30_000, backoffMaxMs: 30_000, gzipLevel: 1 }, this.clock);
    this.send = o.send ?? ((batch, signal) => shipMetrics(this.client, batch, signal));
    this.backoff = this.client.backoff(o.random);
  }

  /** Levels for the self family: they are states, not counts. */
  levels(): Record<string, number> {
    const out: Record<string, number> = { 'metrics.queued': this.queue.length };
    if (this.lastAck !== null) out['metrics.last_ack_age_ms'] = this.clock() - this.lastAck;
    return out;
  }

  get queued(): number {
    return this.queue.length;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.shipping = this.shipLoop();
    if (this.o.reportChanges !== false) for (const src of this.o.sources) src.watch?.((samples) => this.outOfBand(src.name, samples));
    // The first round takes the baselines (CPU ticks, disk busy time) and ships the levels.
    const first = this.clock();
    this.startRound();
    this.schedule(first + this.o.intervalMs);
  }

  private startRound(): void {
    this.round = this.tick()
      .then(() => {})
      .catch((err: unknown) => this.events.emit('metrics.round_failed', { error: (err as Error).message }, 'warn'))
      .finally(() => {
        this.round = null;
      });
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.heldTimer) clearTimeout(this.heldTimer);
    this.heldTimer = null;
    await this.round;
    this.abort.abort();
    this.poke(true);
    await this.shipping;
    if (this.ownClient) this.client.close();
    for (const s of this.o.sources) s.close?.();
  }

  private schedule(at: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = this.clock();
      // Missed rounds (a suspended VM, a stalled loop) are skipped, not replayed in a burst.
      let next = at + this.o.intervalMs;
      while (next <= now) next += this.o.intervalMs;
      if (this.round) {
        this.events.emit('metrics.round_skipped', { reason: 'previous round still running' }, 'warn');
      } else {
        this.startRound();
      }
      this.schedule(next);
    }, Math.max(0, at - this.clock()));
  }

  /** Now in whole ms, in a later second than every earlier stamp (at most a second ahead). */
  private stamp(): number {
    const now = Math.round(this.clock());
    const ts = Math.floor(now / 1000) > this.lastSecond ? now : (this.lastSecond + 1) * 1000;
    this.lastSecond = Math.floor(ts / 1000);
    return ts;
  }

  private stamped(samples: Sample[], ts: number): MetricSample[] {
    const out: MetricSample[] = [];
    for (const s of samples) {
      if (!Number.isFinite(s.value)) continue;
      out.push(s.labels ? { name: s.name, type: s.type, ts, value: s.value, labels: s.labels } : { name: s.name, type: s.type, ts, value: s.value });
    }
    return out;
  }

  /** A source's change of state, shipped now rather than with the next round. */
  private outOfBand(source: string, samples: Sample[]): void {
    if (!this.running) return;
    const now = this.clock();
    if (Math.floor(now / 1000) <= this.lastSecond) {
      this.held.set(source, samples);
      if (!this.heldTimer) {
        this.heldTimer = setTimeout(() => this.releaseHeld(), Math.max(1, (this.lastSecond + 1) * 1000 - now));
      }
      return;
    }
    const out = this.stamped(samples, this.stamp());
    if (out.length === 0) return;
    this.enqueue(out);
    this.events.add('metrics.out_of_band', out.length);
    this.events.emit('metrics.changed', { source, samples: out.length }, 'debug');
  }

  private releaseHeld(): void {
    this.heldTimer = null;
    if (!this.running || this.held.size === 0) return;
    if (Math.floor(this.clock() / 1000) <= this.lastSecond) {
      // a round took the new second meanwhile
      this.heldTimer = setTimeout(() => this.releaseHeld(), Math.max(1, (this.lastSecond + 1) * 1000 - this.clock()));
      return;
    }
    const ts = this.stamp();
    const out: MetricSample[] = [];
    for (const samples of this.held.values()) out.push(...this.stamped(samples, ts));
    this.held.clear();
    if (out.length === 0) return;
    this.enqueue(out);
    this.events.add('metrics.out_of_band', out.length);
  }

  /** One round: every source sampled, stamped with one time, queued for shipping. */
  async tick(): Promise<MetricSample[]> {
    const ts = this.stamp();
    const started = performance.now();
    const round: MetricSample[] = [];
    await Promise.all(
      this.o.sources.map(async (src) => {
        let samples: Sample[];
        // what the round reads now supersedes a change still waiting for its second
        this.held.delete(src.name);
        try {
          samples = await src.collect(ts);
          if (this.failing.delete(src.name)) this.events.emit('metrics.source_recovered', { source: src.name });
        } catch (err) {
          // Once per outage, not once per round.
          if (!this.failing.has(src.name)) this.events.emit('metrics.source_failed', { source: src.name, error: (err as Error).message }, 'warn');
          this.failing.add(src.name);
          return;
        }
        // queued now, behind anything this source sent out of band before it answered (see top)
        const out = this.stamped(samples, ts);
        for (const s of out) round.push(s);
        this.enqueue(out, false);
      }),
    );
    const own: MetricSample = { name: 'agent.metrics.collect_ms', type: 'GAUGE', ts, value: Math.round((performance.now() - started) * 1000) / 1000 };
    round.push(own);
    this.enqueue([own]);
    this.events.add('metrics.sampled', round.length);
    return round;
  }

  private enqueue(samples: MetricSample[], wake = true): void {
    for (const s of samples) this.queue.push(s);
    const over = this.queue.length - this.o.maxQueued;
    if (over > 0) {
      this.queue.splice(0, over);
      this.events.emit('metrics.dropped', { samples: over, reason: `more than ${this.o.maxQueued} samples queued` }, 'warn');
      this.events.add('metrics.dropped_samples', over);
    }
    if (wake) this.poke();
  }

  /** New samples end an idle pause; only stopping (`force`) ends a backoff. */
  private poke(force = false): void {
    if (this.backingOff && !force) return;
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private pause(ms: number | null, backoff = false): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const t = ms === null ? null : setTimeout(() => done(), ms);
      const done = () => {
        if (t) clearTimeout(t);
        this.wake = null;
        this.backingOff = false;
        resolve();
      };
      this.wake = done;
      this.backingOff = backoff;
    });
  }

  /** Ships everything queued now; resolves when the queue is empty or a delivery failed. */
  async flush(): Promise<boolean> {
    while (this.queue.length > 0) {
      if (!(await this.shipOnce())) return false;
    }
    return true;
  }

  /** the collector's Retry-After on the last failed delivery */
  private retryAfterMs: number | undefined;

  private async shipOnce(): Promise<boolean> {
    const samples = this.queue.slice(0, MAX_SAMPLES_PER_REQUEST);
    if (typeof this.o.agentId === 'function') this.o.agentId = this.o.agentId();
    const batch: MetricBatch = { version: WIRE_VERSION, agent_id: this.o.agentId, host: this.o.host, ...(this.o.ephemeral ? { ephemeral: true } : {}), interval_ms: this.o.intervalMs, samples };
    try {
      const ack = await this.send(batch, this.abort.signal);
      this.dropShipped(samples);
      this.lastAck = this.clock();
      this.events.add('metrics.shipped', ack.accepted);
      if (ack.duplicates > 0) this.events.add('metrics.duplicates', ack.duplicates);
      return true;
    } catch (err) {
      if (err instanceof ShipError && err.permanent) {
        // A refused batch would block every later one; it is dropped and said so loudly.
        this.dropShipped(samples);
        this.events.emit('metrics.rejected', { samples: samples.length, error: err.message }, 'warn');
        return true;
      }
      if (this.abort.signal.aborted) return false;
      this.retryAfterMs = err instanceof ShipError ? err.retryAfterMs : undefined;
      this.events.emit('metrics.ship_failed', { error: (err as Error).message, queued: this.queue.length }, 'warn');
      return false;
    }
  }

  /** The queue may have lost its head to the size bound while the request was out. */
  private dropShipped(samples: MetricSample[]): void {
    const last = samples[samples.length - 1];
    const at = last ? this.queue.lastIndexOf(last) : -1;
    if (at >= 0) this.queue.splice(0, at + 1);
  }

  private async shipLoop(): Promise<void> {
    while (this.running) {
      if (this.queue.length === 0) {
        await this.pause(null);
        continue;
      }
      if (await this.shipOnce()) {
        this.backoff.reset();
        continue;
      }
      // Rounds go on sampling into the queue meanwhile; they do not cut the wait short.
      await this.pause(this.backoff.next(this.retryAfterMs), true);
    }
  }
}
