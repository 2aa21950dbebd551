// The agent: two loops around a disk spool.
//
//   sources ──pull──▶ batcher ──seal, gzip──▶ spool (disk) ──▶ shipper ──HTTP──▶ collector
//
// The reader pulls lines from the sources into a batch and appends sealed batches to the spool;
// when the spool is full it stops reading (files keep their offsets) unless the operator chose
// drop_oldest. The shipper sends the oldest spooled batch, retries with backoff and jitter, and
// on the collector's acknowledgement advances the checkpoints, saves them, then forgets the
// record. Memory holds one batch being built and one in flight, whatever the backlog.
import { join } from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { createEvents, type EventSink } from '../shared/events.js';
import type { Logger } from '../shared/logger.js';
import { Batcher, type SealedBatch } from './batcher.js';
import { Checkpoints } from './checkpoints.js';
import { effectiveSources, type AgentConfig } from './config.js';
import { GC_INTERVAL_MS, GcSchedule } from './gc.js';
import { SOURCE_KINDS } from './sources/index.js';
import type { AgentSource, PulledSegment, SourceContext } from './sources/types.js';
import { Spool, type RecordMeta } from './spool/spool.js';
import { loadState } from './state.js';
import { backoffMs } from './transport/backoff.js';
import { httpTransport, ShipError, type Transport } from './transport/http.js';

/** Rescans triggered by watcher events are at most this frequent. */
const MIN_SCAN_GAP_MS = 100;
const SYNC_INTERVAL_MS = 1_000;
/**
 * One pull takes at most this much. The lines of a pull, their parsed forms and their JSON are
 * all alive until it is serialised; kept this small (a fraction of V8's 1 MB young generation)
 * they die young instead of being promoted and growing the old generation at full reading speed
 * (BENCHMARKS.md, logs: the agent's peak RSS went from ~139 to ~65 MB; its reading got faster).
 */
const PULL_BYTES = 16 * 1024;
const PULL_LINES = 200;

export interface AgentDeps {
  log: Logger;
  clock?: () => number;
}

/** A sleep that `wake()` ends early. */
class Waiter {
  private wakeFn: (() => void) | null = null;
  private woken = false;

  sleep(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(0, ms));
      const self = this;
      function done(): void {
        clearTimeout(t);
        self.wakeFn = null;
        self.woken = false;
        resolve();
      }
      this.wakeFn = done;
    });
  }

  wake(): void {
    if (this.wakeFn) this.wakeFn();
    else this.woken = true;
  }
}

export class Agent {
  readonly events: EventSink;
  private readonly clock: () => number;
  private checkpoints!: Checkpoints;
  private spool!: Spool;
  private transport!: Transport;
  private sources: AgentSource[] = [];
  private running = false;
  private scanWanted = false;
  private readonly reader = new Waiter();
  private readonly shipper = new Waiter();
  private loops: Array<Promise<void>> = [];
  private timers: NodeJS.Timeout[] = [];
  private lastAckAt: number | undefined;
  private lastLagMs = 0;
  private spoolFull = false;
  private lastScan = 0;
  /** Full garbage collections asked for by the agent (gc.ts: the memory target). */
  private readonly gc: GcSchedule;
  private onStop: () => void = () => {};
  private readonly stopGate = new Promise<undefined>((resolve) => {
    this.onStop = () => setTimeout(resolve, 2000, undefined).unref();
  });

  constructor(
    private readonly config: AgentConfig,
    private readonly deps: AgentDeps,
  ) {
    this.clock = deps.clock ?? Date.now;
    this.events = createEvents(deps.log);
    this.gc = new GcSchedule(this.clock);
  }

  async start(): Promise<void> {
    if (effectiveSources(this.config).length === 0) {
      throw new ConfigError('--watch', 'is required: give at least one --watch glob or a sources entry in the --config file');
    }
    const state = loadState(this.config.state);
    this.checkpoints = new Checkpoints(this.config.state, state);
    this.spool = new Spool(join(this.config.state, 'spool'), { maxBytes: this.config.spool.max_bytes });
    const { spooledEnds, cut } = this.spool.open(state.spool_acked_seq);
    if (cut > 0) this.events.emit('spool.repaired', { cut_bytes: cut }, 'warn');
    this.transport = httpTransport({
      collector: this.config.collector,
      token: this.config.token,
      caFile: this.config.transport.ca_file,
      timeoutMs: this.config.transport.timeout_ms,
    });
    const ctx: SourceContext = {
      config: this.config,
      events: this.events,
      log: this.deps.log,
      clock: this.clock,
      checkpoints: this.checkpoints,
      spooledEnds,
      wake: (scan) => {
        if (scan) this.scanWanted = true;
        this.reader.wake();
      },
    };
    this.sources = SOURCE_KINDS.flatMap((k) => k.create(ctx));
    for (const s of this.sources) await s.start();
    // Every stream id is on disk before a batch carrying it can reach the spool or the collector.
    this.checkpoints.save();
    this.running = true;
    this.loops = [this.readLoop(), this.shipLoop()];
    this.timers = [
      setInterval(() => this.spool.sync(), SYNC_INTERVAL_MS),
      setInterval(() => this.logStats(), this.config.stats_interval_ms),
      setInterval(() => this.gc.tick(), GC_INTERVAL_MS / 4),
    ];
    this.deps.log.info(
      { agent_id: this.checkpoints.agentId, sources: this.sources.map((s) => s.kind), spooled_records: this.spool.records },
      'agent started',
    );
  }

  async stop(): Promise<void> {
    this.running = false;
    this.onStop();
    for (const t of this.timers) clearInterval(t);
    this.reader.wake();
    this.shipper.wake();
    await Promise.all(this.loops);
    for (const s of this.sources) await s.stop();
    this.spool.close();
    this.checkpoints.saveIfDirty();
    this.transport.close();
    this.logStats();
  }

  /** Self-metrics as one named event: counters since start and the gauges of this moment. */
  stats(): Record<string, number> {
    const now = this.clock();
    const c = this.events;
    const out: Record<string, number> = {
      lines_read: c.count('lines.read'),
      lines_shipped: c.count('lines.shipped'),
      lines_filtered: c.count('lines.filtered'),
      lines_truncated: c.count('lines.truncated'),
      lines_dropped: c.count('spool.dropped_lines'),
      lines_rejected: c.count('ship.rejected_lines'),
      spool_bytes: this.spool.bytes,
      spool_records: this.spool.records,
      lag_ms: this.spool.oldestSealedAt !== undefined ? now - this.spool.oldestSealedAt : this.lastLagMs,
      last_ack_age_ms: this.lastAckAt !== undefined ? now - this.lastAckAt : -1,
    };
    for (const s of this.sources) for (const [k, v] of Object.entries(s.stats())) out[`${s.kind}_${k}`] = (out[`${s.kind}_${k}`] ?? 0) + v;
    return out;
  }

  private logStats(): void {
    this.events.emit('agent.stats', this.stats());
  }

  private async readLoop(): Promise<void> {
    const batcher = new Batcher(
      { maxLines: this.config.batch.max_lines, maxBytes: this.config.batch.max_bytes, lingerMs: this.config.batch.linger_ms },
      { agentId: this.checkpoints.agentId, host: this.config.host },
    );
    this.lastScan = this.clock();
    while (this.running) {
      await this.scanIfDue();
      const now = this.clock();
      const pulled: PulledSegment[] = [];
      for (const s of this.sources) {
        const room = batcher.budget();
        s.pull({ lines: Math.min(room.lines, PULL_LINES), bytes: Math.min(room.bytes, PULL_BYTES) }, pulled);
      }
      batcher.add(pulled, now);
      if (batcher.due(now)) {
        const sealed = await batcher.seal(now, this.config.transport.gzip_level);
        if (!(await this.toSpool(sealed))) return;
        this.gc.sealed(sealed.meta.lines);
        continue;
      }
      if (pulled.length > 0) continue;
      let until = this.lastScan + (this.scanWanted ? MIN_SCAN_GAP_MS : this.config.scan_interval_ms);
      const linger = batcher.deadline;
      if (linger !== undefined) until = Math.min(until, linger);
      for (const s of this.sources) {
        const d = s.nextDeadline();
        if (d !== undefined) until = Math.min(until, d);
      }
      await this.reader.sleep(until - this.clock());
    }
  }

  /** Rescans on the periodic check or soon after a watcher event (whatever its type). */
  private async scanIfDue(): Promise<void> {
    const now = this.clock();
    if ((this.scanWanted && now - this.lastScan >= MIN_SCAN_GAP_MS) || now - this.lastScan >= this.config.scan_interval_ms) {
      this.scanWanted = false;
      for (const s of this.sources) await s.scan();
      this.lastScan = this.clock();
      // Streams found are recorded at once, so a restart knows them even if nothing was spooled yet.
      this.checkpoints.saveIfDirty();
    }
  }

  /** Appends a sealed batch, waiting for room when the spool is full. False when stopping first. */
  private async toSpool(sealed: SealedBatch): Promise<boolean> {
    while (!this.spool.hasRoom(sealed.body.length)) {
      if (this.config.spool.when_full === 'drop_oldest') {
        const d = this.spool.dropOldest(sealed.body.length);
        if (d.records > 0) {
          // Dropped ranges are settled like acknowledged ones: never read again, and a released
          // stream whose last batch was dropped is forgotten.
          for (const [stream, , end] of d.ranges) this.checkpoints.acked(stream, end);
          this.checkpoints.save();
          this.events.add('spool.dropped_lines', d.lines);
          this.events.emit('spool.dropped', { records: d.records, lines: d.lines, bytes: d.bytes, total_lines: this.events.count('spool.dropped_lines') }, 'warn');
          continue;
        }
      }
      if (!this.spoolFull) {
        this.spoolFull = true;
        this.events.emit('spool.full', { bytes: this.spool.bytes, max_bytes: this.config.spool.max_bytes, policy: this.config.spool.when_full }, 'warn');
      }
      // Not reading, but still watching: files rotated meanwhile are opened (and so kept) now
      // and read once there is room.
      await this.reader.sleep(Math.min(1000, this.config.scan_interval_ms));
      if (!this.running) return false;
      await this.scanIfDue();
    }
    if (this.spoolFull) {
      this.spoolFull = false;
      this.events.emit('spool.resumed', { bytes: this.spool.bytes });
    }
    this.checkpoints.saveIfDirty();
    this.spool.append(sealed.meta, sealed.body);
    for (const [stream, , end] of sealed.meta.ranges) for (const s of this.sources) s.spooled(stream, end);
    this.shipper.wake();
    return true;
  }

  private async shipLoop(): Promise<void> {
    let attempt = 0;
    while (this.running) {
      const rec = this.spool.peek();
      if (!rec) {
        await this.shipper.sleep(1000);
        continue;
      }
      try {
        const sending = this.transport.send(rec.body, rec.meta.encoding);
        const ack = await Promise.race([sending, this.stopped()]);
        if (!ack) return;
        if (attempt > 0) this.events.emit('ship.recovered', { attempts: attempt });
        attempt = 0;
        this.acknowledged(rec.meta);
      } catch (err) {
        if (err instanceof ShipError && err.permanent) {
          // The collector refuses this batch for what it is; holding it would stop every later one.
          this.events.add('ship.rejected_lines', rec.meta.lines);
          this.events.emit('ship.rejected', { seq: rec.meta.seq, lines: rec.meta.lines, status: err.status, error: err.message }, 'warn');
          this.acknowledged(rec.meta);
          continue;
        }
        this.events.emit('ship.failed', { attempt, seq: rec.meta.seq, error: (err as Error).message }, 'warn');
        await this.shipper.sleep(backoffMs(attempt++, this.config.transport.backoff_max_ms));
      }
    }
  }

  /** Resolves (with nothing) 2 s after stop(), so a hung request does not hold shutdown for long. */
  private stopped(): Promise<undefined> {
    return this.stopGate;
  }

  private acknowledged(meta: RecordMeta): void {
    for (const [stream, , end] of meta.ranges) this.checkpoints.acked(stream, end);
    this.checkpoints.ackedSeq(meta.seq);
    this.checkpoints.save();
    this.spool.ack(meta.seq);
    const now = this.clock();
    this.lastAckAt = now;
    this.lastLagMs = now - meta.sealed_at;
    this.events.add('lines.shipped', meta.lines);
    this.reader.wake();
  }
}
