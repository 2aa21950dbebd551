// How a group of batches crosses to the writer thread. postMessage's structured clone rebuilds
// every line object property by property on the receiving side, and the receiving side is the
// writer thread, the one the whole ingest path waits for (logs benchmark: ~1.5 s of its ~9 s
// busy per million lines went to taking messages apart). Packed, a segment's lines travel as one
// string holding their programs and messages, one Float64Array (transferred, not copied) holding
// their numbers and string lengths; the writer reads its rows from them directly (logs.ts
// ingestPacked), slicing a row's strings from the one string as it binds them. A line's fields
// travel as the row the store keeps of them (their JSON and their tokens, fields-row.ts), made
// here: cloning a fields object per line cost both threads ~1 µs a line and the writer its
// garbage, and serialising it there put ~2.5 µs more per line on the thread the whole path waits
// for (logs bench, JSON corpus). A line's number-run tokens (num-tokens.ts) are made here too and
// travel as text: they depend on the message alone, and the event loop has time to spare while
// the writer has none.
import type { IngestBatch, WireSegment } from '../../../shared/wire.js';
import type { IngestItem, PackedBatch, PackedItem, PackedSegment } from '../types.js';

export type { PackedBatch, PackedItem, PackedSegment };
import { fieldsRow, type RowReadyLine } from './fields-row.js';
import { numTokens } from './num-tokens.js';

/** numbers per line: offset, ts, pid, facility, severity, flags, program length, message length,
 * fields JSON length, field tokens length, number-run tokens length */
export const STRIDE = 11;
export const HAS_PROGRAM = 1;
export const HAS_PID = 2;
export const HAS_FACILITY = 4;
const TRUNCATED = 8;
export const HAS_FIELDS = 16;

/** A batch as it waits for its group (LogWriter's stage): nothing of it transferred yet, so a held batch can be posted again. */
export function packBatch(batch: IngestBatch): PackedBatch {
  return { version: batch.version, agent_id: batch.agent_id, host: batch.host, segments: batch.segments.map(packSegment) };
}

/**
 * The batch's segments as new streams (`stream(source, host)`), their lines numbered from 0: a
 * syslog unit that failed, sent again under streams of its own (receivers/syslog/batcher.ts). Its
 * numbers are copied: the batch as it was stays intact.
 */
export function restreamPacked(b: PackedBatch, stream: (source: string, host: string) => string): PackedBatch {
  return {
    ...b,
    segments: b.segments.map((p) => {
      const nums = p.nums.slice();
      for (let i = 0; i < p.count; i++) nums[i * STRIDE] = i;
      return { ...p, stream: stream(p.source, b.host), start: 0, end: p.count, nums };
    }),
  };
}

export function packSegment(seg: WireSegment): PackedSegment {
  const n = seg.lines.length;
  const nums = new Float64Array(n * STRIDE);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const l = seg.lines[i]!;
    const o = i * STRIDE;
    let flags = 0;
    nums[o] = l.offset;
    nums[o + 1] = l.ts;
    if (l.pid !== undefined) {
      nums[o + 2] = l.pid;
      flags |= HAS_PID;
    }
    if (l.facility !== undefined) {
      nums[o + 3] = l.facility;
      flags |= HAS_FACILITY;
    }
    nums[o + 4] = l.severity;
    if (l.truncated !== undefined) flags |= TRUNCATED | (l.truncated ? 32 : 0);
    const program = l.program ?? '';
    if (l.program !== undefined) flags |= HAS_PROGRAM;
    nums[o + 6] = program.length;
    nums[o + 7] = l.message.length;
    parts.push(program, l.message);
    const row = fieldsRow(l);
    if (row !== null) {
      flags |= HAS_FIELDS;
      nums[o + 8] = row[0].length;
      nums[o + 9] = row[1].length;
      parts.push(row[0], row[1]);
    }
    const numRuns = numTokens(l.message);
    nums[o + 10] = numRuns.length;
    parts.push(numRuns);
    nums[o + 5] = flags;
  }
  return { stream: seg.stream, source: seg.source, start: seg.start, end: seg.end, count: n, nums, text: parts.join('') };
}

/** where a line's strings end in its segment's text, as lineEnds fills them */
export const PROGRAM_END = 0;
export const MESSAGE_END = 1;
export const JSON_END = 2;
export const TOKENS_END = 3;
/** the end of its number-run tokens: where the next line starts */
export const LINE_END = 4;

/**
 * Where the strings of line `i` of a segment end in its text, the line starting at `at`: its
 * program, message, fields JSON, field tokens (both empty without HAS_FIELDS) and number-run
 * tokens, into `ends` (indexed by PROGRAM_END … LINE_END). The one reading of the layout
 * packSegment writes, for unpackSegment and for the writer's rows (logs.ts), which read it
 * without making a line object.
 */
export function lineEnds(nums: Float64Array, i: number, at: number, ends: Int32Array): void {
  const o = i * STRIDE;
  const programEnd = at + nums[o + 6]!;
  const messageEnd = programEnd + nums[o + 7]!;
  let jsonEnd = messageEnd;
  let tokensEnd = messageEnd;
  if (nums[o + 5]! & HAS_FIELDS) {
    jsonEnd = messageEnd + nums[o + 8]!;
    tokensEnd = jsonEnd + nums[o + 9]!;
  }
  ends[PROGRAM_END] = programEnd;
  ends[MESSAGE_END] = messageEnd;
  ends[JSON_END] = jsonEnd;
  ends[TOKENS_END] = tokensEnd;
  ends[LINE_END] = tokensEnd + nums[o + 10]!;
}

/** The segment's lines, each line's fields as their stored row (`fieldsRow`), not an object, and its number-run tokens (`numRuns`). */
export function unpackSegment(p: PackedSegment): WireSegment {
  const { nums, text } = p;
  const lines: RowReadyLine[] = new Array(p.count);
  const e = new Int32Array(5);
  let at = 0;
  for (let i = 0; i < p.count; i++) {
    const o = i * STRIDE;
    const flags = nums[o + 5]!;
    lineEnds(nums, i, at, e);
    const line: RowReadyLine = { offset: nums[o]!, ts: nums[o + 1]!, severity: nums[o + 4]!, message: text.slice(e[PROGRAM_END], e[MESSAGE_END]) };
    if (flags & HAS_PROGRAM) line.program = text.slice(at, e[PROGRAM_END]);
    if (flags & HAS_PID) line.pid = nums[o + 2]!;
    if (flags & HAS_FACILITY) line.facility = nums[o + 3]!;
    if (flags & TRUNCATED) line.truncated = (flags & 32) !== 0;
    if (flags & HAS_FIELDS) line.fieldsRow = [text.slice(e[MESSAGE_END], e[JSON_END]), text.slice(e[JSON_END], e[TOKENS_END])];
    line.numRuns = text.slice(e[TOKENS_END], e[LINE_END]);
    at = e[LINE_END]!;
    lines[i] = line;
  }
  return { stream: p.stream, source: p.source, start: p.start, end: p.end, lines };
}

/** The items as they go to the writer thread, and the buffers to transfer with them. */
export function packItems(items: IngestItem[]): { packed: PackedItem[]; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const packed = items.map((it): PackedItem => {
    const segments = it.batch.segments.map((s) => {
      const p = packSegment(s);
      transfer.push(p.nums.buffer as ArrayBuffer);
      return p;
    });
    return {
      version: it.batch.version,
      agent_id: it.batch.agent_id,
      host: it.batch.host,
      segments,
      receivedAt: it.receivedAt,
      ...(it.after ? { after: it.after } : {}),
    };
  });
  return { packed, transfer };
}

export function unpackItems(packed: PackedItem[]): IngestItem[] {
  return packed.map((p) => ({
    batch: { version: p.version, agent_id: p.agent_id, host: p.host, segments: p.segments.map(unpackSegment) },
    receivedAt: p.receivedAt,
    ...(p.after ? { after: p.after } : {}),
  }));
}
