// The step both transports share: frame bytes → decoded line → batcher, with the counts an
// operator needs to see what arrives and what is turned away. The per-line counts are summed
// here and handed to the self-metrics once per socket read or datagram (flushCounts): one
// event per line was one of the larger costs of a line.
import type { EventSink } from '../../../shared/events.js';
import type { SyslogBatcher } from './batcher.js';
import { decodeFrame } from './decode.js';

export interface FrameSink {
  /**
   * `conn` names the stream owner (a TCP connection, a UDP sender); `peer` is the sender's IP.
   * `bytes` is read during the call and not kept.
   */
  frame(conn: string, source: string, peer: string, bytes: Buffer, truncated: boolean, partial: boolean, mayDrop: boolean): boolean;
  /** adds the counts of the frames since the last call to the self-metrics (after each read) */
  flushCounts(): void;
  /** the connection is gone */
  closed(conn: string): void;
}

export function frameSink(opts: { batcher: SyslogBatcher<unknown>; events: EventSink; clock: () => number; timeZone: string }): FrameSink {
  const { batcher, events, clock, timeZone } = opts;
  let received = 0;
  let parsed = 0;
  let unparsed = 0;
  let fieldsTruncated = 0;
  /** syslog.body.<kind>: messages whose body was JSON or logfmt */
  const bodies = new Map<string, number>();
  return {
    frame(conn, source, peer, bytes, truncated, partial, mayDrop) {
      received++;
      if (truncated) events.emit('syslog.truncated', { conn, bytes: bytes.length }, 'debug');
      if (partial) events.emit('syslog.frame.partial', { conn, bytes: bytes.length }, 'debug');
      const r = decodeFrame(bytes, truncated || partial, clock(), timeZone);
      if (typeof r === 'string') {
        events.emit('syslog.rejected', { conn, reason: r, bytes: bytes.length }, 'debug');
        events.add(`syslog.rejected.${r}`, 1);
        return false;
      }
      const p = r.parsed;
      if (p.format !== 'plain') parsed++;
      else unparsed++;
      if (p.body !== undefined) bodies.set(p.body, (bodies.get(p.body) ?? 0) + 1);
      // Fields dropped or cut by the bounds (shared/logline/fields.ts); the line says how many too.
      if (p.fieldsTruncated !== undefined) fieldsTruncated += p.fieldsTruncated;
      if (!batcher.add(conn, source, r.hostname ?? peer, r.line, mayDrop)) {
        events.emit('syslog.dropped', { conn, reason: 'queue full' }, 'debug');
        return false;
      }
      return true;
    },
    flushCounts() {
      if (received) events.add('syslog.received', received);
      if (parsed) events.add('syslog.parsed', parsed);
      if (unparsed) events.add('syslog.unparsed', unparsed);
      if (fieldsTruncated) events.add('syslog.fields_truncated', fieldsTruncated);
      for (const [kind, n] of bodies) events.add(`syslog.body.${kind}`, n);
      received = parsed = unparsed = fieldsTruncated = 0;
      bodies.clear();
    },
    closed(conn) {
      batcher.forget(conn);
    },
  };
}
