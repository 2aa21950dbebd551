// The disk spool on real files: order, acknowledgement, reopening after a crash (a torn tail
// is cut, acknowledged records are not sent again), the size bound and drop-oldest.
import { appendFileSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../../../agent/spool/spool.js';
import { backoffMs } from '../../../agent/transport/backoff.js';
import { tempDir } from '../../helpers/proc.js';

const dirs: Array<{ cleanup(): void }> = [];
function dir(): string {
  const d = tempDir('ringtail-spool-');
  dirs.push(d);
  return d.path;
}
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

const meta = (stream: string, start: number, end: number, lines = 1) => ({
  lines,
  sealed_at: 1000,
  encoding: 'identity' as const,
  ranges: [[stream, start, end] as [string, number, number]],
});

function segFiles(d: string): string[] {
  return readdirSync(d).filter((n) => n.endsWith('.rts')).sort();
}

describe('Spool', () => {
  it('hands records out oldest first and forgets them on ack', () => {
    const d = dir();
    const s = new Spool(d, { maxBytes: 1 << 20 });
    expect(s.open(0).spooledEnds.size).toBe(0);
    const a = s.append(meta('s1', 0, 10, 2), Buffer.from('body-a'));
    const b = s.append(meta('s1', 10, 20, 3), Buffer.from('body-b'));
    expect([a, b]).toEqual([1, 2]);
    expect(s.records).toBe(2);
    expect(s.lines).toBe(5);
    expect(s.peek()!.body.toString()).toBe('body-a');
    s.ack(a);
    expect(s.peek()!.body.toString()).toBe('body-b');
    s.ack(b);
    expect(s.peek()).toBeUndefined();
    expect(s.bytes).toBe(0);
    expect(segFiles(d)).toEqual([]);
  });

  it('after a crash, reopens unacknowledged records with their stream ends and skips acknowledged ones', () => {
    const d = dir();
    const s = new Spool(d, { maxBytes: 1 << 20 });
    s.open(0);
    s.append(meta('s1', 0, 10), Buffer.from('r1'));
    s.append(meta('s1', 10, 25), Buffer.from('r2'));
    s.append(meta('s2', 0, 7), Buffer.from('r3'));
    // no close(): the process "dies" here; the state file says record 1 was acknowledged
    const again = new Spool(d, { maxBytes: 1 << 20 });
    const { spooledEnds, cut } = again.open(1);
    expect(cut).toBe(0);
    expect(Object.fromEntries(spooledEnds)).toEqual({ s1: 25, s2: 7 });
    expect(again.records).toBe(2);
    expect(again.peek()!.body.toString()).toBe('r2');
    expect(again.append(meta('s2', 7, 9), Buffer.from('r4'))).toBe(4);
  });

  it('cuts a torn or corrupt tail and keeps the records before it', () => {
    const d = dir();
    const s = new Spool(d, { maxBytes: 1 << 20 });
    s.open(0);
    s.append(meta('s1', 0, 10), Buffer.from('good'));
    s.append(meta('s1', 10, 20), Buffer.from('torn-record-body'));
    const seg = join(d, segFiles(d)[0]!);
    truncateSync(seg, statSync(seg).size - 5);
    appendFileSync(seg, 'garbage');
    const again = new Spool(d, { maxBytes: 1 << 20 });
    const { spooledEnds, cut } = again.open(0);
    expect(cut).toBeGreaterThan(0);
    expect(Object.fromEntries(spooledEnds)).toEqual({ s1: 10 });
    expect(again.records).toBe(1);
    expect(again.peek()!.body.toString()).toBe('good');
  });

  it('detects a flipped byte by its checksum', () => {
    const d = dir();
    const s = new Spool(d, { maxBytes: 1 << 20 });
    s.open(0);
    s.append(meta('s1', 0, 10), Buffer.from('payload-xyz'));
    const seg = join(d, segFiles(d)[0]!);
    const size = statSync(seg).size;
    truncateSync(seg, size - 1);
    appendFileSync(seg, 'Q');
    const again = new Spool(d, { maxBytes: 1 << 20 });
    expect(again.open(0).spooledEnds.size).toBe(0);
    expect(again.records).toBe(0);
  });

  it('is bounded: reports no room past max_bytes, and drop-oldest frees whole old segments', () => {
    const d = dir();
    const s = new Spool(d, { maxBytes: 1 << 20, segmentBytes: 64 * 1024 });
    s.open(0);
    const body = Buffer.alloc(30 * 1024, 1);
    let n = 0;
    while (s.hasRoom(body.length)) {
      s.append(meta('s1', n * 100, (n + 1) * 100, 10), body);
      n++;
    }
    expect(s.bytes).toBeLessThanOrEqual(1 << 20);
    expect(s.bytes).toBeGreaterThan((1 << 20) - 2 * body.length);
    const headBefore = s.peek()!.meta.seq;
    const dropped = s.dropOldest(body.length);
    expect(dropped.records).toBeGreaterThan(0);
    expect(dropped.lines).toBe(dropped.records * 10);
    expect(s.hasRoom(body.length)).toBe(true);
    // the head (possibly in flight) is never dropped
    expect(s.peek()!.meta.seq).toBe(headBefore);
    expect(s.records).toBe(n - dropped.records);
  });

  it('takes one oversized record when empty so it cannot wedge', () => {
    const s = new Spool(dir(), { maxBytes: 1 << 20 });
    s.open(0);
    expect(s.hasRoom(5 << 20)).toBe(true);
    s.append(meta('s1', 0, 1), Buffer.alloc(2 << 20));
    expect(s.hasRoom(10)).toBe(false);
  });
});

describe('backoffMs', () => {
  it('doubles up to the cap, with jitter in the upper half', () => {
    expect(backoffMs(0, 30_000, () => 0)).toBe(250);
    expect(backoffMs(0, 30_000, () => 1)).toBe(500);
    expect(backoffMs(3, 30_000, () => 1)).toBe(4000);
    expect(backoffMs(20, 30_000, () => 1)).toBe(30_000);
    expect(backoffMs(20, 30_000, () => 0)).toBe(15_000);
    expect(backoffMs(20, 2000, () => 0.5)).toBe(1500);
  });
});
