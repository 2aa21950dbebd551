// The batcher's streams (one per source and host): looked up per line by source, then host;
// past maxStreams the oldest is forgotten, its queued lines still go out, and the host's next
// lines start a new stream (a new id, offsets from 0) instead of continuing the forgotten one.
import { describe, expect, it } from 'vitest';
import { SyslogBatcher } from '../../collector/receivers/syslog/batcher.js';
import { createEvents } from '../../shared/events.js';
import type { IngestBatch, WireLine } from '../../shared/wire.js';

const line = (message: string): WireLine => ({ offset: 0, ts: Date.UTC(2026, 10, 23), severity: 5, message });

describe('syslog batcher streams', () => {
  it('one stream per source and host; past maxStreams the oldest is forgotten and starts again', async () => {
    const units: IngestBatch[][] = [];
    const b = new SyslogBatcher({
      store: (batches) => {
        units.push(batches);
        return batches.map(() => ({ accepted: 1, duplicates: 0, committed: {} }));
      },
      clock: Date.now,
      events: createEvents(),
      flushMs: 60_000,
      flushLines: 1_000_000,
      idleMs: 60_000,
      maxPending: 1_000_000,
      maxStreams: 2,
    });
    b.add('c1', 'syslog:tcp', 'a', line('a1'));
    b.add('c1', 'syslog:udp', 'a', line('a-udp'));
    b.add('c2', 'syslog:tcp', 'a', line('a2'));
    // a third stream: tcp/a (the oldest) is forgotten, its two queued lines stay queued
    b.add('c1', 'syslog:tcp', 'b', line('b1'));
    b.add('c1', 'syslog:tcp', 'a', line('a3'));
    await b.close();
    const segs = units.flat().flatMap((batch) => batch.segments.map((s) => ({ host: batch.host, source: s.source, stream: s.stream, start: s.start, end: s.end, msgs: s.lines.map((l) => l.message) })));
    const tcpA = segs.filter((s) => s.host === 'a' && s.source === 'syslog:tcp');
    expect(tcpA.map((s) => [s.start, s.end, s.msgs])).toEqual([
      [0, 2, ['a1', 'a2']],
      [0, 1, ['a3']],
    ]);
    expect(new Set(tcpA.map((s) => s.stream)).size).toBe(2);
    expect(segs.find((s) => s.source === 'syslog:udp')!.msgs).toEqual(['a-udp']);
    expect(segs.find((s) => s.host === 'b')!.msgs).toEqual(['b1']);
  });
});
