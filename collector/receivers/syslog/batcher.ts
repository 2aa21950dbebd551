// Collects received messages and stores them in batches (every flushMs or flushLines), one
// IngestBatch per sender host per flush, all of a flush handed to the writer as one unit (one
// transaction, one promise), so a flood costs one commit per flush instead of one per message.
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
  /** `${source}\n${host}` → stream, oldest first (for maxStreams) */
  private readonly streams = new Map<string, StreamState>();
  /** streams with lines waiting, in the order their first line came */
  private dirty: StreamState[] = [];
  private queued = 0;
  /** lines of the flush being committed (or waiting to be sent again); one flush at a time */
  private inflight = 0;
  /** a flush that failed: sent again, unchanged, before anything else */
  private failed: { batches: IngestBatch[]; lines: number } | null = null;
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
   * Queues one line; false when the queue is full and the line was not taken. `mayDrop` is for
   * UDP, which has no way to push back; TCP lines are always taken, because TCP reads are paused
   * at 80 % of maxPending, so the overshoot is at most one socket chunk per connection. `conn`
   * (the connection or UDP sender) is not part of the stream: lines of one host over several
   * connections are one stream, in arrival order.
   */
  add(_conn: string, source: string, host: string, line: WireLine, mayDrop = true): boolean {
    if (mayDrop && this.queued + this.inflight >= this.o.maxPending) return false;
    const key = source + '\n' + host;
    let s = this.streams.get(key);
    if (!s) s = this.open(key, source, host);
    if (!s.queued) {
      s.queued = true;
      this.dirty.push(s);
    }
    s.lines.push(line);
    this.queued++;
    if (!this.high && this.queued + this.inflight >= this.o.maxPending * 0.8) this.setPressure(true);
    if (this.timer === null && this.immediate === null) this.schedule();
    else if (this.immediate === null && this.queued >= this.o.flushLines) this.schedule();
    return true;
  }

  /** The connection is gone (streams are per host, not per connection: nothing to forget). */
  forget(_conn: string): void {}

  private open(key: string, source: string, host: string): StreamState {
    if (this.streams.size >= (this.o.maxStreams ?? 10_000)) {
      // The oldest host stream is forgotten: its queued lines still go out (it stays in `dirty`),
      // and the host's next lines start a new stream (a new id, offsets from 0).
      const oldest = this.streams.keys().next().value;
      if (oldest !== undefined) this.streams.delete(oldest);
    }
    const s: StreamState = { key, id: `${source}/${this.runId}/${++this.generation}/${host}`.slice(0, 512), host, source, next: 0, lines: [], queued: false };
    this.streams.set(key, s);
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
      if ((this.queued === 0 && this.failed === null) || this.closed) return;
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
    let unit = this.failed;
    if (unit === null) {
      if (this.queued === 0) return;
      unit = this.take();
    }
    this.inflight = unit.lines;
    const { batches, lines } = unit;
    const started = performance.now();
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
      this.failed = null;
      this.inflight = 0;
      this.retryAt = 0;
    } catch (err) {
      // kept as it is (same streams, same offsets) for the next try, in a second
      this.failed = unit;
      this.retryAt = Date.now() + 1000;
      this.o.events.emit('syslog.store_failed', { hosts: batches.length, lines, error: (err as Error).message }, 'warn');
    }
    this.o.events.emit('syslog.flush', { lines, hosts: batches.length, ms: +(performance.now() - started).toFixed(2) }, 'debug');
    if (this.high && this.queued + this.inflight <= this.o.maxPending * 0.4) this.setPressure(false);
  }

  /** Takes every queued line: one batch per host, one segment per stream, offsets numbered. */
  private take(): { batches: IngestBatch[]; lines: number } {
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
    return { batches, lines };
  }

  /** Waits for the flush in progress, then stores what is queued (stop). */
  async settle(): Promise<void> {
    await this.flushing;
    await this.flush();
    // the first flush was a failed one sent again: now what is queued
    if (this.failed === null && this.queued > 0) await this.flush();
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
    if (this.failed === null && this.queued > 0) await this.flush();
    // a flush that failed again: its lines, and what came after, are not stored
    if (this.pending) this.o.events.emit('syslog.lost_on_close', { lines: this.pending }, 'warn');
  }

  private setPressure(high: boolean): void {
    this.high = high;
    this.o.events.emit(high ? 'syslog.backpressure.on' : 'syslog.backpressure.off', { pending: this.queued }, high ? 'warn' : 'info');
    this.o.onPressure?.(high);
  }
}
