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
  store(batch: IngestBatch, receivedAt: number): IngestAck;
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
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private retryAt = 0;
  private high = false;
  private closed = false;

  constructor(private readonly o: BatcherOptions) {}

  get pending(): number {
    return this.queue.length;
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
    if (mayDrop && this.queue.length >= this.o.maxPending) return false;
    const stream = this.stream(conn, host);
    this.queue.push({ host, stream: stream.id, source, line: { ...line, offset: stream.next++ } });
    if (!this.high && this.queue.length >= this.o.maxPending * 0.8) this.setPressure(true);
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
        this.flush();
      });
    } else if (!this.timer) {
      const wait = Math.max(this.o.flushMs, this.retryAt - Date.now());
      this.timer = setTimeout(() => {
        this.timer = null;
        this.flush();
      }, wait);
    }
  }

  /** Stores everything queued; on a storage error keeps it and retries after a second. */
  flush(): void {
    if (this.queue.length === 0) return;
    const queued = this.queue;
    this.queue = [];
    const byHost = new Map<string, Pending[]>();
    for (const p of queued) {
      let list = byHost.get(p.host);
      if (!list) byHost.set(p.host, (list = []));
      list.push(p);
    }
    const failed: Pending[] = [];
    const started = performance.now();
    for (const [host, items] of byHost) {
      const batch = toBatch(host, items);
      try {
        const ack = this.o.store(batch, this.o.clock());
        this.o.events.add('syslog.stored', ack.accepted);
        if (ack.duplicates) this.o.events.add('syslog.duplicates', ack.duplicates);
      } catch (err) {
        failed.push(...items);
        this.o.events.emit('syslog.store_failed', { host, lines: items.length, error: (err as Error).message }, 'warn');
      }
    }
    this.o.events.emit('syslog.flush', { lines: queued.length, hosts: byHost.size, ms: +(performance.now() - started).toFixed(2) }, 'debug');
    if (failed.length) {
      this.retryAt = Date.now() + 1000;
      this.queue = failed.concat(this.queue);
    } else {
      this.retryAt = 0;
    }
    if (this.high && this.queue.length <= this.o.maxPending * 0.4) this.setPressure(false);
    if (this.queue.length) this.schedule();
  }

  /** Final flush when the app closes. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
    this.retryAt = 0;
    this.flush();
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
