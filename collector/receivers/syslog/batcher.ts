// Collects received messages and stores them in batches (every flushMs or flushLines), one
// IngestBatch per sender host per flush, all of a flush handed to the writer as one unit (one
// transaction, one promise), so a flood costs one commit per flush instead of one per message.
// Each (connection or UDP sender, host) is a stream of its own with an offset we count, which is
// what the store's per-stream idempotence expects; the stream ids carry a per-run id so offsets
// restarting at 0 after a collector restart are never mistaken for redeliveries.
//
// A line goes straight into its stream's pending array (no queue entry, no copy): a flush takes
// the arrays of the streams that have lines, which are the segments of its batches.
import { randomBytes } from 'node:crypto';
import type { EventSink } from '../../../shared/events.js';
import { WIRE_VERSION, type IngestAck, type IngestBatch, type WireLine, type WireSegment } from '../../../shared/wire.js';

export const SYSLOG_AGENT_ID = 'syslog';

interface StreamState {
  id: string;
  conn: string;
  host: string;
  source: string;
  next: number;
  /** lines waiting for the next flush, offsets from `start` */
  lines: WireLine[];
  start: number;
  /** in `dirty` (has lines) */
  queued: boolean;
}

/** What one flush took from a stream. */
interface Taken {
  stream: StreamState;
  start: number;
  lines: WireLine[];
}

export interface BatcherOptions {
  /** resolves once the batches are committed, in one transaction (the collector's group writer, app.writer) */
  store(batches: IngestBatch[], receivedAt: number): Promise<IngestAck[]> | IngestAck[];
  clock(): number;
  events: EventSink;
  flushMs: number;
  flushLines: number;
  /** above this many queued lines the receiver pushes back (TCP) or drops (UDP) */
  maxPending: number;
  /** streams remembered at once (UDP senders can be many); the oldest is forgotten first */
  maxStreams?: number;
  onPressure?(high: boolean): void;
}

export class SyslogBatcher {
  private readonly runId = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  private generation = 0;
  /** conn → host → stream */
  private readonly conns = new Map<string, Map<string, StreamState>>();
  /** every stream, oldest first (for maxStreams) */
  private readonly all = new Set<StreamState>();
  /** streams with lines waiting, in the order their first line came */
  private dirty: StreamState[] = [];
  private queued = 0;
  /** lines of the flush being committed; one flush at a time keeps each stream's offsets in order */
  private inflight = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private retryAt = 0;
  private high = false;
  private closed = false;

  constructor(private readonly o: BatcherOptions) {}

  get pending(): number {
    return this.queued + this.inflight;
  }

  get pressure(): boolean {
    return this.high;
  }

  /**
   * Queues one line (numbering its offset); false when the queue is full and the line was not
   * taken. `mayDrop` is for UDP, which has no way to push back; TCP lines are always taken,
   * because TCP reads are paused at 80 % of maxPending, so the overshoot is at most one socket
   * chunk per connection.
   */
  add(conn: string, source: string, host: string, line: WireLine, mayDrop = true): boolean {
    if (mayDrop && this.queued + this.inflight >= this.o.maxPending) return false;
    let hosts = this.conns.get(conn);
    if (!hosts) this.conns.set(conn, (hosts = new Map()));
    let s = hosts.get(host);
    if (!s) s = this.open(conn, hosts, source, host);
    line.offset = s.next++;
    if (!s.queued) {
      s.queued = true;
      s.start = line.offset;
      this.dirty.push(s);
    }
    s.lines.push(line);
    this.queued++;
    if (!this.high && this.queued + this.inflight >= this.o.maxPending * 0.8) this.setPressure(true);
    if (this.timer === null && this.immediate === null) this.schedule();
    else if (this.immediate === null && this.queued >= this.o.flushLines) this.schedule();
    return true;
  }

  /** The connection is gone: its streams need no more offsets (their queued lines still go out). */
  forget(conn: string): void {
    const hosts = this.conns.get(conn);
    if (!hosts) return;
    for (const s of hosts.values()) this.all.delete(s);
    this.conns.delete(conn);
  }

  private open(conn: string, hosts: Map<string, StreamState>, source: string, host: string): StreamState {
    if (this.all.size >= (this.o.maxStreams ?? 10_000)) {
      const oldest = this.all.values().next().value;
      if (oldest !== undefined) {
        this.all.delete(oldest);
        const of = this.conns.get(oldest.conn);
        of?.delete(oldest.host);
        if (of?.size === 0) this.conns.delete(oldest.conn);
      }
    }
    const s: StreamState = { id: `${conn}/${this.runId}/${++this.generation}/${host}`.slice(0, 512), conn, host, source, next: 0, lines: [], start: 0, queued: false };
    hosts.set(host, s);
    this.all.add(s);
    return s;
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.queued >= this.o.flushLines && Date.now() >= this.retryAt) {
      this.immediate ??= setImmediate(() => {
        this.immediate = null;
        void this.flush();
      });
    } else if (!this.timer) {
      const wait = Math.max(this.o.flushMs, this.retryAt - Date.now());
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, wait);
    }
  }

  /**
   * Stores everything queued, one batch per host, all handed to the writer at once as one unit
   * (one group commit); on a storage error keeps the lines and retries after a second. While a
   * flush is being committed, new lines wait for the next one (offsets stay in order per stream).
   */
  flush(): Promise<void> {
    this.flushing ??= this.flushNow().finally(() => {
      this.flushing = null;
      if (this.queued === 0 || this.closed) return;
      // Lines that arrived during a commit have waited for it already: they go in the next
      // commit at once (group commit), not after another flushMs; after a failure, in a second.
      if (this.retryAt > Date.now()) this.schedule();
      else this.immediate ??= setImmediate(() => {
        this.immediate = null;
        void this.flush();
      });
    });
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    if (this.queued === 0) return;
    const taken: Taken[] = new Array(this.dirty.length);
    const byHost = new Map<string, WireSegment[]>();
    for (let i = 0; i < this.dirty.length; i++) {
      const s = this.dirty[i]!;
      taken[i] = { stream: s, start: s.start, lines: s.lines };
      let segs = byHost.get(s.host);
      if (!segs) byHost.set(s.host, (segs = []));
      segs.push({ stream: s.id, source: s.source, start: s.start, end: s.start + s.lines.length, lines: s.lines });
      s.lines = [];
      s.queued = false;
    }
    const lines = this.queued;
    this.dirty = [];
    this.queued = 0;
    this.inflight = lines;
    const batches: IngestBatch[] = [];
    for (const [host, segments] of byHost) batches.push({ version: WIRE_VERSION, agent_id: SYSLOG_AGENT_ID, host, segments });
    const started = performance.now();
    let failed = false;
    try {
      const acks = await this.o.store(batches, this.o.clock());
      let stored = 0;
      let duplicates = 0;
      for (const a of acks) {
        stored += a.accepted;
        duplicates += a.duplicates;
      }
      this.o.events.add('syslog.stored', stored);
      if (duplicates) this.o.events.add('syslog.duplicates', duplicates);
    } catch (err) {
      failed = true;
      this.o.events.emit('syslog.store_failed', { hosts: batches.length, lines, error: (err as Error).message }, 'warn');
    }
    this.inflight = 0;
    this.o.events.emit('syslog.flush', { lines, hosts: batches.length, ms: +(performance.now() - started).toFixed(2) }, 'debug');
    if (failed) {
      this.retryAt = Date.now() + 1000;
      this.requeue(taken);
    } else {
      this.retryAt = 0;
    }
    if (this.high && this.queued <= this.o.maxPending * 0.4) this.setPressure(false);
  }

  /** A failed flush's lines go back before the lines that came since, stream by stream. */
  private requeue(taken: Taken[]): void {
    const later = this.dirty;
    this.dirty = [];
    for (const t of taken) {
      const s = t.stream;
      s.lines = s.queued ? t.lines.concat(s.lines) : t.lines;
      s.start = t.start;
      s.queued = true;
      this.dirty.push(s);
      this.queued += t.lines.length;
    }
    const back = new Set(taken.map((t) => t.stream));
    for (const s of later) if (!back.has(s)) this.dirty.push(s);
  }

  /** Waits for the flush in progress, then stores what is queued (stop). */
  async settle(): Promise<void> {
    await this.flushing;
    await this.flush();
  }

  /** Final flush when the app closes. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    await this.flushing;
    this.retryAt = 0;
    await this.flush();
    if (this.queued) this.o.events.emit('syslog.lost_on_close', { lines: this.queued }, 'warn');
  }

  private setPressure(high: boolean): void {
    this.high = high;
    this.o.events.emit(high ? 'syslog.backpressure.on' : 'syslog.backpressure.off', { pending: this.queued }, high ? 'warn' : 'info');
    this.o.onPressure?.(high);
  }
}
