// Collects received messages from every connection and hands them to the writer in units: one
// IngestBatch per sender host per unit, the unit committed as one (one transaction, one promise),
// so a flood costs one commit per unit instead of one per message or per socket read.
//
// When a unit is handed over (the writer is the ingest path's bottleneck, so it must never wait
// for the event loop while lines wait, nor get a unit per TCP read): at once when the writer has
// nothing of ours (the next turn of the event loop, so one turn's reads from all connections go
// together); and while one unit commits, a second is staged behind it, so that the writer goes
// from one commit to the next without waiting for this thread (the unit's packing, an event-loop
// turn of socket reads). That second unit is handed over when a unit commits, when flushLines
// are queued, or when the oldest queued line has waited flushMs, whichever comes first. Before,
// one flush at a time, scheduled by a timer or setImmediate after the previous commit: the
// writer waited for the socket reads of that turn and the packing of the next flush, and the
// sockets were paused while it committed (the queue bound counted the flush in flight), so the
// two threads took turns instead of working at once.
//
// Each (transport, host) is a stream of its own (one segment per host per flush, whatever the
// connections its lines came over), numbered when a flush takes its lines: a flush's batches
// are what the store's per-stream idempotence checks, and a failed flush is sent again as it
// was, same offsets, before anything newer, so a commit that did happen is never stored twice.
// (A stream per connection and host made a relay's 50 connections × 300 hosts 15,000 streams,
// a segment and two statements per line at worst.) The stream ids carry a per-run id so offsets
// restarting at 0 after a collector restart are never mistaken for redeliveries.
import { randomBytes } from 'node:crypto';
import type { EventSink } from '../../../shared/events.js';
import { WIRE_VERSION, type IngestAck, type IngestBatch, type WireLine, type WireSegment } from '../../../shared/wire.js';
import { restreamBatch } from '../../ingest/writer.js';

export const SYSLOG_AGENT_ID = 'syslog';

interface StreamState {
  key: string;
  id: string;
  host: string;
  source: string;
  /** offset of the next line a flush takes */
  next: number;
  /** lines waiting for the next flush */
  lines: WireLine[];
  /** in `dirty` (has lines) */
  queued: boolean;
}

/** What is handed to the writer at once: committed together or not at all. */
interface Unit<S> {
  /** its batches as the stager made them when the unit was taken */
  staged: S;
  lines: number;
  /** batches (hosts) in it */
  hosts: number;
  /** stream ids already replaced by ones of its own (after a failure) */
  ownStreams: boolean;
}

/**
 * What a unit's batches are kept as from when they are taken until they are committed (and
 * sent again if that fails): the writer's staged form (app.writer.stageMany), so that the lines'
 * objects die young instead of living through two commits; or the batches themselves (tests).
 */
export interface UnitStager<S> {
  stage(batches: IngestBatch[], receivedAt: number): S;
  /** the unit's segments as new streams, `stream(source, host)`, lines numbered from 0 */
  restream(unit: S, stream: (source: string, host: string) => string): S;
}

const asBatches: UnitStager<IngestBatch[]> = {
  stage: (batches) => batches,
  restream: (batches, stream) => batches.map((b) => restreamBatch(b, stream)),
};

export interface BatcherOptions<S = IngestBatch[]> {
  /** resolves once the unit is committed, in one transaction (the collector's group writer, app.writer) */
  store(unit: S, receivedAt: number): Promise<IngestAck[]> | IngestAck[];
  /** what a unit is kept as (default: its batches) */
  stager?: UnitStager<S>;
  clock(): number;
  events: EventSink;
  /** longest a queued line waits for a unit while another unit is committing */
  flushMs: number;
  /** a unit is handed over as soon as this many lines are queued */
  flushLines: number;
  /**
   * when the writer has nothing of ours: wait this long for more lines before handing them over
   * (0: the next turn of the event loop)
   */
  idleMs?: number;
  /** above this many lines held (queued and being committed) the receiver pushes back (TCP) or drops (UDP) */
  maxPending: number;
  /** streams remembered at once (UDP senders can be many); the oldest is forgotten first */
  maxStreams?: number;
  onPressure?(high: boolean): void;
}

/** units handed to the writer and not yet answered: one committing, one staged behind it */
const MAX_UNITS = 2;

export class SyslogBatcher<S = IngestBatch[]> {
  private readonly runId = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  private generation = 0;
  /** `${source}\n${host}` → stream, oldest first (for maxStreams) */
  private readonly streams = new Map<string, StreamState>();
  /** the same streams by source, then host */
  private readonly bySource = new Map<string, Map<string, StreamState>>();
  /** streams with lines waiting, in the order their first line came */
  private dirty: StreamState[] = [];
  private queued = 0;
  /** when the oldest queued line came (performance.now()) */
  private queuedSince = 0;
  /** units handed to the writer and not answered yet, and their lines */
  private units = 0;
  private inflight = 0;
  /** units that failed, in the order they were taken: sent again before anything newer */
  private failed: Array<Unit<S>> = [];
  private failedLines = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private immediate: NodeJS.Immediate | null = null;
  private retryAt = 0;
  private high = false;
  private closed = false;
  /** resolved whenever a unit is answered (settle, close) */
  private answered: Array<() => void> = [];

  private readonly stager: UnitStager<S>;

  constructor(private readonly o: BatcherOptions<S>) {
    this.stager = o.stager ?? (asBatches as unknown as UnitStager<S>);
  }

  /** lines held: queued, being committed, or failed and waiting to be sent again */
  get pending(): number {
    return this.queued + this.inflight + this.failedLines;
  }

  get pressure(): boolean {
    return this.high;
  }

  /**
   * Queues one line; false when the queue is full and the line was not taken. `mayDrop` is for
   * UDP, which has no way to push back; TCP lines are always taken, because TCP reads are paused
   * (synchronously, every connection) when maxPending lines are held, so the overshoot is at most
   * the rest of the socket chunk being read. `conn` (the connection or UDP sender) is not part
   * of the stream: lines of one host over several connections are one stream, in arrival order.
   */
  add(_conn: string, source: string, host: string, line: WireLine, mayDrop = true): boolean {
    if (mayDrop && this.pending >= this.o.maxPending) return false;
    // by source, then host: no key string built per line (one concatenation and its hash per
    // line were ~3 % of the main thread's time per line)
    let s = this.bySource.get(source)?.get(host);
    if (!s) s = this.open(source + '\n' + host, source, host);
    if (!s.queued) {
      s.queued = true;
      this.dirty.push(s);
    }
    s.lines.push(line);
    if (this.queued++ === 0) this.queuedSince = performance.now();
    if (!this.high && this.pending >= this.o.maxPending) this.setPressure(true);
    // a wake-up is set already (the earliest one due in this state) unless this line fills a unit
    if ((this.timer === null && this.immediate === null) || this.queued === this.o.flushLines) this.kick();
    return true;
  }

  /** The connection is gone (streams are per host, not per connection: nothing to forget). */
  forget(_conn: string): void {}

  private open(key: string, source: string, host: string): StreamState {
    if (this.streams.size >= (this.o.maxStreams ?? 10_000)) {
      // The oldest host stream is forgotten: its queued lines still go out (it stays in `dirty`),
      // and the host's next lines start a new stream (a new id, offsets from 0).
      const oldest = this.streams.values().next().value;
      if (oldest !== undefined) {
        this.streams.delete(oldest.key);
        this.bySource.get(oldest.source)?.delete(oldest.host);
      }
    }
    const s: StreamState = { key, id: this.streamId(source, host), host, source, next: 0, lines: [], queued: false };
    this.streams.set(key, s);
    let hosts = this.bySource.get(source);
    if (!hosts) this.bySource.set(source, (hosts = new Map()));
    hosts.set(host, s);
    return s;
  }

  private streamId(source: string, host: string): string {
    return `${source}/${this.runId}/${++this.generation}/${host}`.slice(0, 512);
  }

  /**
   * Hands a unit to the writer now, or arranges for it to be: see the head of the file. Called
   * on every line (cheap when nothing is due) and whenever a unit is answered.
   */
  private kick(): void {
    if (this.units >= MAX_UNITS) return;
    if (this.failed.length > 0) {
      // a failed unit goes first, after its pause; nothing newer overtakes it
      if (this.units > 0) return;
      const wait = this.retryAt - Date.now();
      if (wait <= 0 || this.closed) this.submitFailed();
      else this.wakeIn(wait);
      return;
    }
    if (this.queued === 0) return;
    // the writer has nothing of ours: lines wait idleMs for others (0: this turn's reads);
    // it is committing one: the next unit is staged behind it when it is big enough or its
    // first line has waited flushMs (or when that commit ends: answered_)
    const wait = this.units === 0 ? (this.o.idleMs ?? 0) : this.queued >= this.o.flushLines ? 0 : this.o.flushMs;
    this.wakeIn(wait - (performance.now() - this.queuedSince));
  }

  /** fire() in `ms` (the next turn for 0 or less), unless it is due sooner already. */
  private wakeIn(ms: number): void {
    if (ms <= 0) {
      this.immediate ??= setImmediate(() => this.fire());
      return;
    }
    const at = performance.now() + ms;
    if (this.timer !== null && this.timerAt <= at) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.fire(), ms);
  }

  private fire(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    if (this.units >= MAX_UNITS) return;
    if (this.failed.length > 0) return this.kick();
    if (this.queued > 0) this.submit(this.take());
  }

  private submitFailed(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const unit = this.failed.shift()!;
    this.failedLines -= unit.lines;
    this.submit(unit);
  }

  /** Hands the unit to the writer; when it is answered, the next is handed over at once if any waits. */
  private submit(unit: Unit<S>): void {
    this.units++;
    this.inflight += unit.lines;
    const started = performance.now();
    let answer: Promise<IngestAck[]>;
    try {
      answer = Promise.resolve(this.o.store(unit.staged, this.o.clock()));
    } catch (err) {
      answer = Promise.reject(err as Error);
    }
    answer.then(
      (acks) => {
        let stored = 0;
        let duplicates = 0;
        for (const a of acks) {
          stored += a.accepted;
          duplicates += a.duplicates;
        }
        this.o.events.add('syslog.stored', stored);
        if (duplicates) this.o.events.add('syslog.duplicates', duplicates);
        this.answered_(unit, started);
      },
      (err: Error) => {
        this.fail(unit, err);
        this.answered_(unit, started);
      },
    );
  }

  /**
   * A unit was not committed: it is kept (with what else failed, in order) and sent again, as it
   * is, after a second, before anything newer. Its streams become streams of its own first: the
   * unit staged behind it may have committed meanwhile, moving its hosts' streams past this
   * unit's offsets, and this unit's lines would then be taken for redeliveries and dropped. A
   * commit that failed was rolled back (the transaction, or the writer thread that died before
   * answering, after which nothing commits), so sending it again under new ids stores it once;
   * sent again after that, it keeps those ids and offsets (idempotent).
   */
  private fail(unit: Unit<S>, err: Error): void {
    if (!unit.ownStreams) {
      unit.ownStreams = true;
      unit.staged = this.stager.restream(unit.staged, (source, host) => this.streamId(source, host));
    }
    // in the order the units were taken (the writer answers in the order it was given them)
    this.failed.push(unit);
    this.failedLines += unit.lines;
    this.retryAt = Date.now() + 1000;
    this.o.events.emit('syslog.store_failed', { hosts: unit.hosts, lines: unit.lines, error: err.message }, 'warn');
  }

  private answered_(unit: Unit<S>, started: number): void {
    this.units--;
    this.inflight -= unit.lines;
    this.o.events.emit('syslog.flush', { lines: unit.lines, hosts: unit.hosts, ms: +(performance.now() - started).toFixed(2) }, 'debug');
    if (this.high && this.pending <= this.o.maxPending / 2) this.setPressure(false);
    // The writer goes on with the unit staged behind this one, if any: the next is staged now,
    // with whatever came meanwhile (no timer, no turn of the event loop in between). If the
    // writer has nothing of ours now, lines that waited idleMs go at once, younger ones at idleMs.
    if (!this.closed) {
      const due = this.units > 0 || performance.now() - this.queuedSince >= (this.o.idleMs ?? 0);
      if (this.failed.length === 0 && this.queued > 0 && due) {
        if (this.timer) clearTimeout(this.timer);
        if (this.immediate) clearImmediate(this.immediate);
        this.timer = null;
        this.immediate = null;
        this.submit(this.take());
      } else this.kick();
    }
    for (const f of this.answered.splice(0)) f();
  }

  /** Takes every queued line: one batch per host, one segment per stream, offsets numbered; staged. */
  private take(): Unit<S> {
    const byHost = new Map<string, WireSegment[]>();
    for (const s of this.dirty) {
      const lines = s.lines;
      const start = s.next;
      for (let i = 0; i < lines.length; i++) lines[i]!.offset = start + i;
      s.next = start + lines.length;
      s.lines = [];
      s.queued = false;
      let segs = byHost.get(s.host);
      if (!segs) byHost.set(s.host, (segs = []));
      segs.push({ stream: s.id, source: s.source, start, end: s.next, lines });
    }
    const lines = this.queued;
    this.dirty = [];
    this.queued = 0;
    const batches: IngestBatch[] = [];
    for (const [host, segments] of byHost) batches.push({ version: WIRE_VERSION, agent_id: SYSLOG_AGENT_ID, host, segments });
    return { staged: this.stager.stage(batches, this.o.clock()), lines, hosts: batches.length, ownStreams: false };
  }

  /** Until no unit is with the writer. */
  private async idle(): Promise<void> {
    while (this.units > 0) await new Promise<void>((r) => this.answered.push(r));
  }

  /**
   * Stores what is held now (stop): waits for the units with the writer, then hands over what
   * failed (at once) and what is queued. A unit that fails again stays held.
   */
  async settle(): Promise<void> {
    await this.idle();
    for (let round = this.failed.length + 1; round > 0 && (this.failed.length > 0 || this.queued > 0); round--) {
      if (this.failed.length > 0) this.submitFailed();
      else this.submit(this.take());
      await this.idle();
    }
  }

  /** Final flush when the app closes. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    await this.settle();
    // a unit that failed again: its lines, and what came after, are not stored
    if (this.pending) this.o.events.emit('syslog.lost_on_close', { lines: this.pending }, 'warn');
  }

  private setPressure(high: boolean): void {
    this.high = high;
    this.o.events.emit(high ? 'syslog.backpressure.on' : 'syslog.backpressure.off', { pending: this.pending }, high ? 'warn' : 'info');
    this.o.onPressure?.(high);
  }
}
