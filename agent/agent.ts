// The agent: two loops around a disk spool.
//
//   sources ──pull──▶ batcher ──seal, gzip──▶ spool (disk) ──▶ shipper ──HTTP──▶ collector
//
// The reader pulls lines from the sources into a batch and appends sealed batches to the spool;
// when the spool is full it stops reading (files keep their offsets) unless the operator chose
// drop_oldest. The shipper sends the oldest spooled batch, retries with backoff and jitter, and
// on the collector's acknowledgement advances the checkpoints, saves them, then forgets the
// record. With a backlog, up to MAX_RECORDS_PER_REQUEST spooled batches go in one request (one
// collector transaction). Memory holds one batch being built and the (gzip'd) request in
// flight, whatever the backlog.
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
import { clientOptions, collectorClient, type CollectorClient } from './transport/client.js';
import { httpTransport, multiSeparator, ShipError, type Transport } from './transport/http.js';
import { Waiter } from './waiter.js';

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
/**
 * Spooled batches per request when there is a backlog, and their line cap (the collector's
 * group-commit cap). The logs benchmark's collector stored 1 M lines in 5,000-line commits at
 * ~15.5 CPU µs per line and in 20,000-line commits at ~10.7 (lines out of time order dirty most
 * index leaves per commit, whatever its size).
 */
// Four records of the default 1 MiB of text are ~6 MB of JSON: well inside the collector's
// 16 MiB body limit (counted decompressed). With larger batches (`batch.max_bytes` up to 8 MiB)
// a request takes fewer records, up to MAX_TEXT_BYTES_PER_REQUEST of log text (the first one
// always goes): four 8 MiB batches were a 413, then a resend one at a time.
const MAX_RECORDS_PER_REQUEST = 4;
const MAX_LINES_PER_REQUEST = 20_000;
export const MAX_TEXT_BYTES_PER_REQUEST = 4 * 1024 * 1024;
/** requests in flight at once, once the collector is known to order them */
const PIPELINE_DEPTH = 2;

interface Flight {
  metas: RecordMeta[];
  /** the request body is buf[0, len) */
  buf: Buffer;
  len: number;
  /** sent as a multi-batch request (NDJSON), whatever the number of records */
  multi: boolean;
  done: Promise<{ ok: true } | { ok: false; err: unknown }>;
}

/** For the streams of `metas`, the end of their ranges in the requests still in flight. */
function pendingEnds(flights: Flight[], metas: RecordMeta[]): Record<string, number> | undefined {
  const mine = new Set(metas.flatMap((m) => m.ranges.map(([stream]) => stream)));
  const ends: Record<string, number> = {};
  let any = false;
  for (const f of flights) {
    for (const m of f.metas) {
      for (const [stream, , end] of m.ranges) {
        if (!mine.has(stream)) continue;
        ends[stream] = Math.max(ends[stream] ?? 0, end);
        any = true;
      }
    }
  }
  return any ? ends : undefined;
}

export interface AgentDeps {
  log: Logger;
  clock?: () => number;
  /** the collector client shared with the metrics runner; without one the agent builds (and closes) its own */
  client?: CollectorClient;
  /** jitter of the retry backoff; injected by tests */
  random?: () => number;
}

export class Agent {
  readonly events: EventSink;
  private readonly clock: () => number;
  private checkpoints!: Checkpoints;
  private spool!: Spool;
  private transport!: Transport;
  private client: CollectorClient | undefined;
  /** the client is the agent's own (no shared one was given): it closes it on stop */
  private ownClient = false;
  /** the collector takes multi-batch requests (false after it answered one with 415/404) */
  private multiOk = true;
  /** records to send one at a time, after a multi-batch request was refused as a whole */
  private singles = 0;
  /**
   * The collector took a multi-batch request, so it also honours INGEST_AFTER_HEADER. Until then
   * even one record goes as a multi-batch request: the first answer tells, and a backlog is then
   * sent two requests at a time from the second request on (it was the third: with the writer idle
   * while the second, alone in flight, was decoded and answered; logs bench timeline, 0.3–0.4 s of
   * idle writer at the start of every run).
   */
  private pipelineOk = false;
  /** request body buffers not in flight (at most PIPELINE_DEPTH) */
  private bodies: Buffer[] = [];
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
    this.ownClient = this.deps.client === undefined;
    this.client = this.deps.client ?? collectorClient(clientOptions(this.config), this.clock);
    this.transport = httpTransport(this.client);
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
    this.reader.close();
    this.shipper.close();
    await Promise.all(this.loops);
    for (const s of this.sources) await s.stop();
    this.spool.close();
    this.checkpoints.saveIfDirty();
    if (this.ownClient) this.client?.close();
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
      fields_truncated: c.count('lines.fields_truncated'),
      lines_dropped: c.count('spool.dropped_lines'),
      lines_rejected: c.count('ship.rejected_lines'),
      spool_bytes: this.spool.bytes,
      // the bound, so the collector's default rule can alert on a spool above half of it
      spool_max_bytes: this.config.spool.max_bytes,
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
      { agentId: this.checkpoints.agentId, host: this.config.host, ephemeral: this.config.ephemeral },
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
        // Reading is synchronous and every await above settles at once: without a turn of the
        // event loop here, a file with a backlog was read to its end before the shipper saw a
        // single acknowledgement (logs benchmark: the first ack of 1 M lines was handled after
        // ~3 s, when the reader caught up). One turn per sealed batch lets the shipper answer.
        await new Promise<void>((resolve) => setImmediate(resolve));
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

  /**
   * Reads up to a request's worth of spooled records after `afterSeq` (one when batches go
   * singly) into a request body; undefined when there is none. The body is one of PIPELINE_DEPTH
   * buffers kept from request to request: a fresh Buffer per request is external memory that V8
   * frees only at a full GC, and at full speed those piled up (agent peak RSS +5 MB).
   */
  private nextRequest(afterSeq: number): Omit<Flight, 'done'> | undefined {
    let buf = this.bodies.pop() ?? Buffer.allocUnsafe(256 * 1024);
    let len = 0;
    let sep: Buffer | undefined;
    const single = this.singles > 0 || !this.multiOk;
    const multi = !single && !this.pipelineOk;
    const max = single ? { records: 1, lines: Infinity, textBytes: Infinity } : { records: MAX_RECORDS_PER_REQUEST, lines: MAX_LINES_PER_REQUEST, textBytes: MAX_TEXT_BYTES_PER_REQUEST };
    const metas = this.spool.peekMany(max, afterSeq, (body, meta) => {
      const add = (b: Buffer) => {
        if (len + b.length > buf.length) {
          const next = Buffer.allocUnsafe(Math.max(len + b.length, buf.length * 2));
          buf.copy(next, 0, 0, len);
          buf = next;
        }
        len += b.copy(buf, len);
      };
      if (sep) add(sep);
      add(body);
      sep ??= multiSeparator(meta.encoding);
    });
    if (metas.length === 0) {
      this.bodies.push(buf);
      return undefined;
    }
    return { metas, buf, len, multi: multi || metas.length > 1 };
  }

  /** Sends a request; the promise never rejects. */
  private fly(req: Omit<Flight, 'done'>, after: Record<string, number> | undefined): Flight {
    const enc = req.metas[0]!.encoding;
    const body = req.buf.subarray(0, req.len);
    const sending = !req.multi ? this.transport.send(body, enc, after).then((a) => [a]) : this.transport.sendMany(body, req.metas.length, enc, after);
    return { ...req, done: sending.then(() => ({ ok: true as const }), (err: unknown) => ({ ok: false as const, err })) };
  }

  /** The request is answered: its body buffer serves the next one. */
  private landed(f: Flight): void {
    if (this.bodies.length < PIPELINE_DEPTH) this.bodies.push(f.buf);
  }

  private async shipLoop(): Promise<void> {
    const backoff = this.client!.backoff(this.deps.random);
    const flights: Flight[] = [];
    while (this.running) {
      // A backlog goes several spooled batches per request (one commit on the collector: a
      // 20,000-line transaction costs much less per line than four of 5,000), and once the
      // collector has shown it orders them (a multi-batch request went through), a second request
      // goes out behind the first so that the collector decodes one while it commits the other.
      // The second names the ends of the first's streams (INGEST_AFTER_HEADER): the collector
      // stores it only after them, and answers 409 if it got there first.
      const depth = this.pipelineOk && this.singles === 0 ? PIPELINE_DEPTH : 1;
      while (flights.length < depth) {
        const prev = flights.at(-1);
        const req = this.nextRequest(prev ? prev.metas.at(-1)!.seq : -1);
        if (!req) break;
        flights.push(this.fly(req, prev ? pendingEnds(flights, req.metas) : undefined));
      }
      const head = flights[0];
      if (!head) {
        await this.shipper.sleep(1000);
        continue;
      }
      const outcome = await Promise.race([head.done, this.stopped()]);
      if (!outcome) return;
      flights.shift();
      this.landed(head);
      const metas = head.metas;
      if (outcome.ok) {
        if (backoff.attempts > 0) this.events.emit('ship.recovered', { attempts: backoff.attempts });
        backoff.reset();
        if (this.singles > 0) this.singles--;
        if (head.multi) this.pipelineOk = true;
        this.acknowledged(metas);
        continue;
      }
      // The head failed: what was sent behind it goes again from the spool after it. Wait for
      // those answers and forget them (a batch the collector already has is dropped there by
      // offset; one that would overtake is refused with 409).
      if (flights.length > 0) {
        if (!(await Promise.race([Promise.all(flights.map((f) => f.done)), this.stopped()]))) return;
        for (const f of flights.splice(0)) this.landed(f);
      }
      const err = outcome.err;
      if (err instanceof ShipError && err.status === 409) {
        // sent behind a request that had not committed yet: send it again, now at the head
        this.events.add('ship.out_of_order', 1);
        continue;
      }
      if (err instanceof ShipError && err.permanent) {
        if (head.multi) {
          // Refused as a whole: find out which batch it was by sending these one at a time
          // (a collector that predates multi-batch requests answers 415: stop asking it).
          this.singles = metas.length;
          if (err.status === 415 || err.status === 404) this.multiOk = false;
          continue;
        }
        // The collector refuses this batch for what it is; holding it would stop every later one.
        if (this.singles > 0) this.singles--;
        const meta = metas[0]!;
        this.events.add('ship.rejected_lines', meta.lines);
        this.events.emit('ship.rejected', { seq: meta.seq, lines: meta.lines, status: err.status, error: err.message }, 'warn');
        this.acknowledged(metas);
        continue;
      }
      // Whatever is read meanwhile waits in the spool: the backoff (or the collector's
      // Retry-After) decides when the next attempt goes, not the arrival of new lines.
      const attempt = backoff.attempts;
      const waitMs = backoff.next(err instanceof ShipError ? err.retryAfterMs : undefined);
      this.events.emit('ship.failed', { attempt, seq: metas[0]!.seq, wait_ms: waitMs, error: (err as Error).message }, 'warn');
      await this.shipper.sleep(waitMs, true);
    }
  }

  /** Resolves (with nothing) 2 s after stop(), so a hung request does not hold shutdown for long. */
  private stopped(): Promise<undefined> {
    return this.stopGate;
  }

  /** The records were committed, in this order: advance the checkpoints, save them once, forget the records. */
  private acknowledged(metas: RecordMeta[]): void {
    for (const meta of metas) {
      for (const [stream, , end] of meta.ranges) this.checkpoints.acked(stream, end);
      this.checkpoints.ackedSeq(meta.seq);
    }
    this.checkpoints.save();
    for (const meta of metas) this.spool.ack(meta.seq);
    const now = this.clock();
    this.lastAckAt = now;
    this.lastLagMs = now - metas[metas.length - 1]!.sealed_at;
    for (const meta of metas) this.events.add('lines.shipped', meta.lines);
    this.reader.wake();
  }
}
