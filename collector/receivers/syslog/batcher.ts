// Collects received messages and stores them in batches (every flushMs or flushLines), one
// IngestBatch per sender host per flush, so a flood costs one transaction per host per flush
// instead of one per message. Each (connection or UDP sender, host) is a stream of its own with
// an offset we count, which is what the store's per-stream idempotence expects; the stream ids
// carry a per-run id so offsets restarting at 0 after a collector restart are never mistaken
// for redeliveries.
import { randomBytes } from 'node:crypto';
import type { EventSink } from '../../../shared/events.js';
import { WIRE_VERSION, type IngestAck, type IngestBatch, type WireLine, type WireSegment } from '../../../shared/wire.js';

export const SYSLOG_AGENT_ID = 'syslog';

interface StreamState {
  id: string;
  next: number;
}

interface Pending {
  host: string;
  stream: string;
  source: string;
  line: WireLine;
}

export interface BatcherOptions {
  /** resolves once the batch is committed (the collector's group writer, app.writer) */
  store(batch: IngestBatch, receivedAt: number): Promise<IngestAck> | IngestAck;
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
  private readonly streams = new Map<string, StreamState>();
  private queue: Pending[] = [];
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
    return this.queue.length + this.inflight;
  }

  get pressure(): boolean {
    return this.high;
  }

  /**
   * Queues one line; false when the queue is full and the line was not taken. `mayDrop` is for
   * UDP, which has no way to push back; TCP lines are always taken, because TCP reads are paused
   * at 80 % of maxPending, so the overshoot is at most one socket chunk per connection.
   */
  add(conn: string, source: string, host: string, line: Omit<WireLine, 'offset'>, mayDrop = true): boolean {
    if (mayDrop && this.pending >= this.o.maxPending) return false;
    const stream = this.stream(conn, host);
    this.queue.push({ host, stream: stream.id, source, line: { ...line, offset: stream.next++ } });
    if (!this.high && this.pending >= this.o.maxPending * 0.8) this.setPressure(true);
    this.schedule();
    return true;
  }

  /** The connection is gone: its streams need no more offsets. */
  forget(conn: string): void {
    for (const key of this.streams.keys()) if (key.startsWith(conn + '\n')) this.streams.delete(key);
  }

  private stream(conn: string, host: string): StreamState {
    const key = `${conn}\n${host}`;
    let s = this.streams.get(key);
    if (!s) {
      if (this.streams.size >= (this.o.maxStreams ?? 10_000)) {
        const oldest = this.streams.keys().next().value;
        if (oldest !== undefined) this.streams.delete(oldest);
      }
      s = { id: `${conn}/${this.runId}/${++this.generation}/${host}`.slice(0, 512), next: 0 };
      this.streams.set(key, s);
    }
    return s;
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.queue.length >= this.o.flushLines && Date.now() >= this.retryAt) {
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
   * Stores everything queued, one batch per host, all handed to the writer at once so that they
   * share one group commit; on a storage error keeps the lines and retries after a second. While
   * a flush is being committed, new lines wait for the next one (offsets stay in order per stream).
   */
  flush(): Promise<void> {
    this.flushing ??= this.flushNow().finally(() => {
      this.flushing = null;
      if (this.queue.length === 0 || this.closed) return;
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
    if (this.queue.length === 0) return;
    const queued = this.queue;
    this.queue = [];
    this.inflight = queued.length;
    const byHost = new Map<string, Pending[]>();
    for (const p of queued) {
      let list = byHost.get(p.host);
      if (!list) byHost.set(p.host, (list = []));
      list.push(p);
    }
    const failed: Pending[] = [];
    const started = performance.now();
    const at = this.o.clock();
    const hosts = [...byHost];
    const results = await Promise.allSettled(hosts.map(([host, items]) => Promise.resolve().then(() => this.o.store(toBatch(host, items), at))));
    results.forEach((r, i) => {
      const [host, items] = hosts[i]!;
      if (r.status === 'fulfilled') {
        this.o.events.add('syslog.stored', r.value.accepted);
        if (r.value.duplicates) this.o.events.add('syslog.duplicates', r.value.duplicates);
      } else {
        failed.push(...items);
        this.o.events.emit('syslog.store_failed', { host, lines: items.length, error: (r.reason as Error).message }, 'warn');
      }
    });
    this.inflight = 0;
    this.o.events.emit('syslog.flush', { lines: queued.length, hosts: byHost.size, ms: +(performance.now() - started).toFixed(2) }, 'debug');
    if (failed.length) {
      this.retryAt = Date.now() + 1000;
      this.queue = failed.concat(this.queue);
    } else {
      this.retryAt = 0;
    }
    if (this.high && this.queue.length <= this.o.maxPending * 0.4) this.setPressure(false);
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
    if (this.queue.length) this.o.events.emit('syslog.lost_on_close', { lines: this.queue.length }, 'warn');
  }

  private setPressure(high: boolean): void {
    this.high = high;
    this.o.events.emit(high ? 'syslog.backpressure.on' : 'syslog.backpressure.off', { pending: this.queue.length }, high ? 'warn' : 'info');
    this.o.onPressure?.(high);
  }
}

function toBatch(host: string, items: Pending[]): IngestBatch {
  const segments = new Map<string, WireSegment>();
  for (const p of items) {
    let seg = segments.get(p.stream);
    if (!seg) {
      seg = { stream: p.stream, source: p.source, start: p.line.offset, end: p.line.offset + 1, lines: [] };
      segments.set(p.stream, seg);
    }
    seg.lines.push(p.line);
    seg.end = p.line.offset + 1;
  }
  return { version: WIRE_VERSION, agent_id: SYSLOG_AGENT_ID, host, segments: [...segments.values()] };
}
