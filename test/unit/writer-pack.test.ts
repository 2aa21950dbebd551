// The packed form in which batches cross to the writer thread must give back exactly the lines
// that went in: every optional property present or absent as it was, strings of any content; a
// line's fields (and its truncation mark) as the row the store keeps of them (fieldsRow), and its
// number-run tokens (numRuns) as numTokens makes them of the message.
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { packBatch, packItems, packSegment, restreamPacked, unpackItems, unpackSegment } from '../../collector/ingest/pack.js';
import { fieldsRow, type RowReadyLine } from '../../collector/storage/sqlite/logs.js';
import { numTokens } from '../../collector/storage/sqlite/num-tokens.js';
import type { WireLine, WireSegment } from '../../shared/wire.js';

const lines: WireLine[] = [
  { offset: 0, ts: 1_700_000_000_000, program: 'sshd', pid: 4242, facility: 4, severity: 6, message: 'Accepted publickey for root' },
  { offset: 28, ts: 1_700_000_000_001, severity: 3, message: '' },
  { offset: 29, ts: -5, program: '', severity: 0, message: 'no pid, empty program', truncated: true },
  { offset: 60, ts: 2 ** 52, program: 'kernel', facility: 0, severity: 7, message: 'ünïcödé — 日本語 😀 and a lone \ud800 surrogate', truncated: false },
  { offset: 130, ts: 1, pid: 0, severity: 5, message: 'x', fields: { a: '1', 'k"ey': 'v\nq' } },
  { offset: 131, ts: 2, program: 'p'.repeat(256), severity: 4, message: 'y'.repeat(100_000), fields: {} },
  { offset: 100_131, ts: 3, severity: 6, message: 'from 10.0.0.1:22 at 23:40:46', fields: { ip: '10.0.0.1' } },
];
const seg: WireSegment = { stream: 'dev:ino:gen', source: '/var/log/syslog', start: 0, end: 100_200, lines };

/** What the writer gets of a line: its fields as their row, no fields object; its number-run tokens. */
function asWriterGets(l: WireLine): RowReadyLine {
  const row = fieldsRow(l);
  const { fields: _, ...rest } = l;
  const numRuns = numTokens(l.message);
  return row === null ? { ...rest, numRuns } : { ...rest, fieldsRow: row, numRuns };
}
const writerSeg = { ...seg, lines: lines.map(asWriterGets) };

describe('writer thread packing', () => {
  it('gives back every line as it was, optional properties included', () => {
    const back = unpackSegment(packSegment(seg));
    expect(back).toEqual(writerSeg);
    // absent stays absent (toEqual would also accept undefined-valued keys)
    expect(Object.keys(back.lines[1]!).sort()).toEqual(['message', 'numRuns', 'offset', 'severity', 'ts']);
    expect(Object.keys(back.lines[2]!).sort()).toEqual(['fieldsRow', 'message', 'numRuns', 'offset', 'program', 'severity', 'truncated', 'ts']);
    expect(back.lines[3]!.message).toBe(lines[3]!.message);
    // fields, the truncation mark and the empty object all reach the store as rows of their own
    expect((back.lines[4] as RowReadyLine).fieldsRow).toEqual(['{"a":"1","k\\"ey":"v\\nq"}', expect.stringMatching(/^f[0-9a-f]{8}1 f[0-9a-f]{8}v/)]);
    expect((back.lines[2] as RowReadyLine).fieldsRow?.[0]).toBe('{"truncated":"true"}');
    expect((back.lines[5] as RowReadyLine).fieldsRow).toEqual(['{}', '']);
    expect('fields' in back.lines[4]!).toBe(false);
    // the number-run tokens follow the fields row in the packed text
    expect((back.lines[6] as RowReadyLine).numRuns).toBe('10_0_0 0_0_1 0_1_22 23_40_46');
    expect((back.lines[6] as RowReadyLine).fieldsRow?.[0]).toBe('{"ip":"10.0.0.1"}');
    expect((back.lines[0] as RowReadyLine).numRuns).toBe('');
  });

  it('restreams a packed batch as new streams numbered from 0, leaving the original as it was', () => {
    const batch = { version: 1 as const, agent_id: 'syslog', host: 'h1', segments: [seg, { ...seg, stream: 'other', source: 'syslog:udp', start: 5, end: 7, lines: lines.slice(0, 2) }] };
    const packed = packBatch(batch);
    const before = structuredClone(packed);
    const again = restreamPacked(packed, (source, host) => `new/${source}/${host}`);
    expect(packed).toEqual(before);
    const back = again.segments.map(unpackSegment);
    expect(back.map((s) => [s.stream, s.source, s.start, s.end])).toEqual([
      ['new//var/log/syslog/h1', '/var/log/syslog', 0, lines.length],
      ['new/syslog:udp/h1', 'syslog:udp', 0, 2],
    ]);
    expect(back[0]!.lines.map((l) => l.offset)).toEqual(lines.map((_, i) => i));
    expect(back[0]!.lines.map((l) => ({ ...l, offset: 0 }))).toEqual(writerSeg.lines.map((l) => ({ ...l, offset: 0 })));
  });

  it('survives postMessage with its number buffers transferred', () => {
    const items = [
      { batch: { version: 1 as const, agent_id: 'agent-1', host: 'h1', segments: [seg, { ...seg, stream: 'empty', lines: [] }] }, receivedAt: 123, after: { 'dev:ino:gen': 7 } },
      { batch: { version: 1 as const, agent_id: 'agent-2', host: 'h2', segments: [] }, receivedAt: 456 },
    ];
    const { packed, transfer } = packItems(items);
    expect(transfer).toHaveLength(2);
    const { port1, port2 } = new MessageChannel();
    port1.postMessage(packed, transfer);
    // transferred: the sender's views are detached, nothing was copied
    expect(packed[0]!.segments[0]!.nums.length).toBe(0);
    const got = receiveMessageOnPort(port2)!.message;
    port1.close();
    expect(unpackItems(got)).toEqual(items.map((it) => ({ ...it, batch: { ...it.batch, segments: it.batch.segments.map((s) => ({ ...s, lines: s.lines.map(asWriterGets) })) } })));
    expect('after' in unpackItems(got)[1]!).toBe(false);
  });
});
