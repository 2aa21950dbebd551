// Builds one batch from pulled segments: adjacent ranges of a stream merge into one segment,
// and the batch is due when it holds enough lines or bytes or its first line has waited the
// linger time. Lines are serialised to JSON as soon as they are pulled, so the line objects die
// young instead of surviving into the old generation while the batch fills. The JSON goes into
// one scratch Buffer kept from batch to batch (and the request body into another), not into a
// Buffer per pull: short-lived Buffers are external memory that V8 frees only on a full GC, and
// at full reading speed they piled up by tens of MB. Sealing joins the pieces into the request
// body and compresses it.
import { gzipSync } from 'node:zlib';
import { WIRE_VERSION } from '../shared/wire.js';
import type { RecordMeta } from './spool/spool.js';
import type { PulledSegment } from './sources/types.js';

export interface SealedBatch {
  meta: Omit<RecordMeta, 'seq'>;
  body: Buffer;
}

interface OpenSegment {
  stream: string;
  source: string;
  start: number;
  end: number;
  /** [from, to) in the scratch buffer of the JSON of the lines, pieces without enclosing brackets */
  chunks: number[];
}

export class Batcher {
  private segments: OpenSegment[] = [];
  private last = new Map<string, OpenSegment>();
  private scratch: Buffer;
  private used = 0;
  private body: Buffer;
  lines = 0;
  bytes = 0;
  firstAt: number | undefined;

  constructor(
    private readonly limits: { maxLines: number; maxBytes: number; lingerMs: number },
    private readonly identity: { agentId: string; host: string },
  ) {
    // Sized once for a full batch (JSON is ~1.5× the text; twice leaves room for escaping). Pages
    // never written stay unallocated, and growing by steps would leave each old step as garbage.
    const size = Math.min(2 * limits.maxBytes + 64 * 1024, 32 * 1024 * 1024);
    this.scratch = Buffer.allocUnsafe(size);
    this.body = Buffer.allocUnsafe(size);
  }

  get empty(): boolean {
    return this.segments.length === 0;
  }

  add(pulled: readonly PulledSegment[], now: number): void {
    for (const p of pulled) {
      const json = p.lines.length > 0 ? this.write(JSON.stringify(p.lines)) : null;
      const prev = this.last.get(p.stream);
      if (prev && prev.end === p.start) {
        prev.end = p.end;
        if (json) prev.chunks.push(...json);
      } else {
        const seg: OpenSegment = { stream: p.stream, source: p.source, start: p.start, end: p.end, chunks: json ? json : [] };
        this.segments.push(seg);
        this.last.set(p.stream, seg);
      }
      this.lines += p.lines.length;
      this.bytes += p.bytes;
      this.firstAt ??= now;
    }
  }

  /** Copies a JSON array's items (without its brackets) into the scratch buffer; their [from, to). */
  private write(array: string): [number, number] {
    const need = this.used + Buffer.byteLength(array) - 2;
    if (need > this.scratch.length) this.scratch = grow(this.scratch, this.used, need);
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
    // The same document as JSON.stringify(IngestBatch), key order included (shared/wire.ts).
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
    put(`{"version":${WIRE_VERSION},"agent_id":${JSON.stringify(this.identity.agentId)},"host":${JSON.stringify(this.identity.host)},"segments":[`);
    this.segments.forEach((s, i) => {
      put(`${i > 0 ? ',' : ''}{"stream":${JSON.stringify(s.stream)},"source":${JSON.stringify(s.source)},"start":${s.start},"end":${s.end},"lines":[`);
      for (let j = 0; j < s.chunks.length; j += 2) {
        if (j > 0) put(',');
        copy(s.chunks[j]!, s.chunks[j + 1]!);
      }
      put(']}');
    });
    put(']}');
    this.segments = [];
    this.last = new Map();
    this.lines = 0;
    this.bytes = 0;
    this.used = 0;
    this.firstAt = undefined;
    const json = this.body.subarray(0, len);
    // Compressed here, synchronously (a few ms per batch): run on the thread pool, the Gzip stream's
    // output chunks outlived scavenges while the loop waited, were promoted, and their ~100 KB per
    // batch stayed allocated until a rare full GC (~14 MB more peak RSS over a million lines).
    // Uncompressed, the body is a copy: the next batch reuses this buffer.
    const body = gzipLevel > 0 ? gzipSync(json, { level: gzipLevel }) : Buffer.from(json);
    return { meta: { lines, sealed_at: now, encoding: gzipLevel > 0 ? 'gzip' : 'identity', ranges }, body };
  }
}

/** A larger Buffer holding the first `used` bytes of `buf`; grows by doubling to amortise copies. */
function grow(buf: Buffer, used: number, need: number): Buffer {
  const next = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
  buf.copy(next, 0, 0, used);
  return next;
}
