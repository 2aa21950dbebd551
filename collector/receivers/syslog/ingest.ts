// The step both transports share: frame bytes → decoded line → batcher, with the counts an
// operator needs to see what arrives and what is turned away.
import type { EventSink } from '../../../shared/events.js';
import type { SyslogBatcher } from './batcher.js';
import { decodeFrame } from './decode.js';

export interface FrameSink {
  /** `conn` names the stream owner (a TCP connection, a UDP sender); `peer` is the sender's IP. */
  frame(conn: string, source: string, peer: string, bytes: Buffer, flags: { truncated: boolean; partial: boolean; mayDrop: boolean }): boolean;
  /** the connection is gone */
  closed(conn: string): void;
}

export function frameSink(opts: { batcher: SyslogBatcher; events: EventSink; clock: () => number; timeZone: string }): FrameSink {
  const { batcher, events } = opts;
  return {
    frame(conn, source, peer, bytes, flags) {
      events.add('syslog.received', 1);
      if (flags.truncated) events.emit('syslog.truncated', { conn, bytes: bytes.length }, 'debug');
      if (flags.partial) events.emit('syslog.frame.partial', { conn, bytes: bytes.length }, 'debug');
      const r = decodeFrame(bytes, flags.truncated || flags.partial, { now: opts.clock(), timeZone: opts.timeZone });
      if (!r.ok) {
        events.emit('syslog.rejected', { conn, reason: r.reason, bytes: bytes.length }, 'debug');
        events.add(`syslog.rejected.${r.reason}`, 1);
        return false;
      }
      const parsed = r.value.parsed;
      if (parsed.format !== 'plain') events.add('syslog.parsed', 1);
      else events.add('syslog.unparsed', 1);
      if (parsed.body !== undefined) events.add(`syslog.body.${parsed.body}`, 1);
      // Fields dropped or cut by the bounds (shared/logline/fields.ts); the line says how many too.
      if (parsed.fieldsTruncated !== undefined) events.add('syslog.fields_truncated', parsed.fieldsTruncated);
      if (!batcher.add(conn, source, r.value.hostname ?? peer, r.value.line, flags.mayDrop)) {
        events.emit('syslog.dropped', { conn, reason: 'queue full' }, 'debug');
        return false;
      }
      return true;
    },
    closed(conn) {
      batcher.forget(conn);
    },
  };
}
