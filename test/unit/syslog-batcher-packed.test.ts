// The syslog batcher keeps a taken unit in the writer thread's packed form (LogWriter's stage),
// not as line objects: a unit whose commit fails is sent again from that form, as new streams
// numbered from 0 (restreamPacked), while the unit staged behind it commits under the old ones:
// every line stored once, none taken for a redelivery.
import { describe, expect, it } from 'vitest';
import { packBatch, restreamPacked, unpackSegment, type PackedBatch } from '../../collector/ingest/pack.js';
import { LogWriter, type StagedItem, type StagedUnit } from '../../collector/ingest/writer.js';
import { SyslogBatcher } from '../../collector/receivers/syslog/batcher.js';
import { createEvents } from '../../shared/events.js';
import type { IngestAck, WireLine } from '../../shared/wire.js';

const line = (message: string): WireLine => ({ offset: 0, ts: Date.UTC(2026, 10, 23), severity: 5, message, program: 'app', pid: 7 });

describe('syslog batcher with packed units', () => {
  it('a failed unit is sent again as new streams from its packed form; every line is stored once', async () => {
    // the second unit handed to the writer (it waits behind the first one's commit)
    let secondHanded: () => void = () => {};
    const second = new Promise<void>((r) => (secondHanded = r));
    let handed = 0;
    // a store with the per-stream committed ends the SQLite store keeps (logs.ts)
    const committed = new Map<string, number>();
    const stored: string[] = [];
    let commits = 0;
    const commit = async (items: Array<StagedItem<PackedBatch>>): Promise<{ acks: IngestAck[]; ms: number }> => {
      // the first commit fails once the next unit waits behind it, which then commits first
      if (commits++ === 0) {
        await second;
        throw new Error('SQLITE_FULL: database or disk is full');
      }
      const acks = items.map(({ batch }) => {
        let accepted = 0;
        let duplicates = 0;
        for (const p of batch.segments) {
          const seg = unpackSegment(structuredClone(p));
          const prior = committed.get(seg.stream) ?? 0;
          for (const l of seg.lines) {
            if (l.offset < prior) duplicates++;
            else {
              accepted++;
              stored.push(l.message);
            }
          }
          committed.set(seg.stream, Math.max(prior, seg.end));
        }
        return { accepted, duplicates, committed: {} };
      });
      return { acks, ms: 0 };
    };
    const writer = new LogWriter<PackedBatch>(commit, undefined, undefined, undefined, packBatch, restreamPacked);
    const b = new SyslogBatcher<StagedUnit>({
      store: (unit) => {
        if (++handed === 2) secondHanded();
        return writer.submitStaged(unit);
      },
      stager: { stage: (batches, at) => writer.stageMany(batches, at), restream: (unit, stream) => writer.restream(unit, stream) },
      clock: Date.now,
      events: createEvents(),
      flushMs: 1,
      flushLines: 3,
      idleMs: 0,
      maxPending: 1_000_000,
    });
    for (let i = 0; i < 3; i++) b.add('c1', 'syslog:tcp', 'h', line(`a${i}`));
    // the second unit (same host, same stream, later offsets) is staged behind the failing one
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 3; i++) b.add('c1', 'syslog:tcp', 'h', line(`b${i}`));
    await second;
    await b.close();
    expect(commits).toBeGreaterThanOrEqual(3);
    expect(stored.sort()).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'b2']);
    expect(b.pending).toBe(0);
  });
});
