// Builds one batch from pulled segments: adjacent ranges of a stream merge into one segment,
// and the batch is due when it holds enough lines or bytes or its first line has waited the
// linger time. Lines are serialised to JSON as soon as they are pulled, so the line objects die
// young instead of surviving into the old generation while the batch fills. The JSON goes into
// one scratch Buffer kept from batch to batch (and the request body into another), not into a
// Buffer per pull: short-lived Buffers are external memory that V8 frees only on a full GC, and
// at full reading speed they piled up by tens of MB. Sealing joins the pieces into the request
// body and compresses it. A batch of one segment (one file read in order: the common case and the
// full-speed one) is already contiguous in the scratch buffer: its document head is written into
// room left before it and the body is a view, so the second buffer's pages are never touched.
import { gzipSync } from 'node:zlib';
import { WIRE_VERSION } from '../shared/wire.js';
import type { RecordMeta } from './spool/spool.js';
import type { PulledSegment } from './sources/types.js';

export interface SealedBatch {
  meta: Omit<RecordMeta, 'seq'>;
  /** Valid until the next seal(): uncompressed, it is a view of the batcher's reused buffers. */
  body: Buffer;
}

/** Room kept before a batch's first line for its document head (agent id, host, stream, source path). */
const HEAD_ROOM = 8 * 1024;

interface OpenSegment {
  stream: string;
  source: string;
  start: number;
  end: number;
  /** [from, to) in the scratch buffer of the JSON of the lines, without enclosing brackets; pulls
   * that follow each other in the buffer are one piece (the comma between them is written there) */
  chunks: number[];
}

export class Batcher {
  private segments: OpenSegment[] = [];
  private last = new Map<string, OpenSegment>();
  private scratch: Buffer;
  private used = HEAD_ROOM;
  private body: Buffer;
  lines = 0;
  bytes = 0;
  firstAt: number | undefined;

  constructor(
    private readonly limits: { maxLines: number; maxBytes: number; lingerMs: number },
    private readonly identity: { agentId: string; host: string; ephemeral?: boolean },
  ) {
    // Sized once for a full batch (JSON is ~1.5× the text; twice leaves room for escaping). Pages
    // never written stay unallocated, and growing by steps would leave each old step as garbage.
    const size = Math.min(2 * limits.maxBytes + 64 * 1024, 32 * 1024 * 1024);
    this.scratch = Buffer.allocUnsafe(HEAD_ROOM + size);
    this.body = Buffer.allocUnsafe(size);
  }

  get empty(): boolean {
    return this.segments.length === 0;
  }

  add(pulled: readonly PulledSegment[], now: number): void {
    for (const p of pulled) {
      const prev = this.last.get(p.stream);
      if (prev && prev.end === p.start) {
        prev.end = p.end;
        if (p.lines.length > 0) {
          const n = prev.chunks.length;
          if (n > 0 && prev.chunks[n - 1] === this.used) prev.chunks[n - 1] = this.write(JSON.stringify(p.lines), true)[1];
          else prev.chunks.push(...this.write(JSON.stringify(p.lines), false));
        }
      } else {
        const json = p.lines.length > 0 ? this.write(JSON.stringify(p.lines), false) : null;
        const seg: OpenSegment = { stream: p.stream, source: p.source, start: p.start, end: p.end, chunks: json ? json : [] };
        this.segments.push(seg);
        this.last.set(p.stream, seg);
      }
      this.lines += p.lines.length;
      this.bytes += p.bytes;
      this.firstAt ??= now;
    }
  }

  /** Copies a JSON array's items (without its brackets, after a comma if it continues the piece
   * before it) into the scratch buffer; their [from, to). */
  private write(array: string, continues: boolean): [number, number] {
    // + 4: the document's tail, written after the last piece when the body is a view (seal()).
    const need = this.used + Buffer.byteLength(array) - 1 + 4;
    if (need > this.scratch.length) this.scratch = grow(this.scratch, this.used, need);
    if (continues) this.scratch[this.used++] = 0x2c; // ','
    const from = this.used;
    // A slice of a long string is a view (V8 does not copy it).
    this.used += this.scratch.write(array.slice(1, -1), from, 'utf8');
    return [from, this.used];
  }

  get full(): boolean {
    return this.lines >= this.limits.maxLines || this.bytes >= this.limits.maxBytes;
  }

  /** When the batch must go even if not full. */
  get deadline(): number | undefined {
    return this.firstAt === undefined ? undefined : this.firstAt + this.limits.lingerMs;
  }

  due(now: number): boolean {
    return !this.empty && (this.full || now >= (this.deadline ?? Infinity));
  }

  /** Room left for the next pull. */
  budget(): { lines: number; bytes: number } {
    return { lines: this.limits.maxLines - this.lines, bytes: this.limits.maxBytes - this.bytes };
  }

  async seal(now: number, gzipLevel: number): Promise<SealedBatch> {
    const ranges = this.segments.map((s): [string, number, number] => [s.stream, s.start, s.end]);
    const lines = this.lines;
    const json = this.inPlace() ?? this.joined();
    this.segments = [];
    this.last = new Map();
    this.lines = 0;
    this.bytes = 0;
    this.used = HEAD_ROOM;
    this.firstAt = undefined;
    // Compressed here, synchronously (a few ms per batch): run on the thread pool, the Gzip stream's
    // output chunks outlived scavenges while the loop waited, were promoted, and their ~100 KB per
    // batch stayed allocated until a rare full GC (~14 MB more peak RSS over a million lines).
    // Uncompressed, the body is the view itself (a copy per batch piled up as ~60 MB of garbage
    // Buffers at full speed): the agent appends it to the spool before it seals the next batch.
    const body = gzipLevel > 0 ? gzipSync(json, { level: gzipLevel }) : json;
    return { meta: { lines, sealed_at: now, encoding: gzipLevel > 0 ? 'gzip' : 'identity', ranges }, body };
  }

  /** The document head up to a segment's first line. The same document as JSON.stringify(IngestBatch),
   * key order included (shared/wire.ts). */
  private head(): string {
    // `ephemeral` only when true: a permanent agent's batches stay valid for older collectors
    const ephemeral = this.identity.ephemeral ? ',"ephemeral":true' : '';
    return `{"version":${WIRE_VERSION},"agent_id":${JSON.stringify(this.identity.agentId)},"host":${JSON.stringify(this.identity.host)}${ephemeral},"segments":[`;
  }

  private segmentHead(s: OpenSegment, i: number): string {
    return `${i > 0 ? ',' : ''}{"stream":${JSON.stringify(s.stream)},"source":${JSON.stringify(s.source)},"start":${s.start},"end":${s.end},"lines":[`;
  }

  /** One segment whose lines are one piece: its head goes into the room before it, its tail after. */
  private inPlace(): Buffer | undefined {
    const s = this.segments[0];
    if (this.segments.length !== 1 || s!.chunks.length !== 2) return undefined;
    const [from, to] = s!.chunks as [number, number];
    const head = this.head() + this.segmentHead(s!, 0);
    const headLen = Buffer.byteLength(head);
    if (headLen > from) return undefined;
    this.scratch.write(head, from - headLen, 'utf8');
    const end = to + this.scratch.write(']}]}', to, 'latin1');
    return this.scratch.subarray(from - headLen, end);
  }

  /** Any batch: the pieces copied into the body buffer between their segments' heads and tails. */
  private joined(): Buffer {
    let len = 0;
    const put = (text: string): void => {
      const need = len + Buffer.byteLength(text);
      if (need > this.body.length) this.body = grow(this.body, len, need);
      len += this.body.write(text, len, 'utf8');
    };
    const copy = (from: number, to: number): void => {
      if (len + to - from > this.body.length) this.body = grow(this.body, len, len + to - from);
      len += this.scratch.copy(this.body, len, from, to);
    };
    put(this.head());
    this.segments.forEach((s, i) => {
      put(this.segmentHead(s, i));
      for (let j = 0; j < s.chunks.length; j += 2) {
        if (j > 0) put(',');
        copy(s.chunks[j]!, s.chunks[j + 1]!);
      }
      put(']}');
    });
    put(']}');
    return this.body.subarray(0, len);
  }
}

/** A larger Buffer holding the first `used` bytes of `buf`; grows by doubling to amortise copies. */
function grow(buf: Buffer, used: number, need: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
  buf.copy(next, 0, 0, used);
  return next;
}
