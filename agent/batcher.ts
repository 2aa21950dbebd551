// Builds one batch from pulled segments: adjacent ranges of a stream merge into one segment,
// and the batch is due when it holds enough lines or bytes or its first line has waited the
// linger time. Lines are serialised to JSON as soon as they are pulled, into Buffers outside the
// JS heap: the line objects then die young instead of surviving into the old generation while
// the batch fills, which is what kept the agent's heap (and RSS) growing. Sealing joins the
// pieces into the request body and compresses it (zlib runs off the main thread).
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { WIRE_VERSION } from '../shared/wire.js';
import type { RecordMeta } from './spool/spool.js';
import type { PulledSegment } from './sources/types.js';

const gzipAsync = promisify(gzip);
const COMMA = Buffer.from(',');

export interface SealedBatch {
  meta: Omit<RecordMeta, 'seq'>;
  body: Buffer;
}

interface OpenSegment {
  stream: string;
  source: string;
  start: number;
  end: number;
  /** JSON of the lines, comma-separated pieces without the enclosing brackets */
  chunks: Buffer[];
}

export class Batcher {
  private segments: OpenSegment[] = [];
  private last = new Map<string, OpenSegment>();
  lines = 0;
  bytes = 0;
  firstAt: number | undefined;

  constructor(
    private readonly limits: { maxLines: number; maxBytes: number; lingerMs: number },
    private readonly identity: { agentId: string; host: string },
  ) {}

  get empty(): boolean {
    return this.segments.length === 0;
  }

  add(pulled: readonly PulledSegment[], now: number): void {
    for (const p of pulled) {
      const json = p.lines.length > 0 ? Buffer.from(JSON.stringify(p.lines).slice(1, -1), 'utf8') : null;
      const prev = this.last.get(p.stream);
      if (prev && prev.end === p.start) {
        prev.end = p.end;
        if (json) prev.chunks.push(json);
      } else {
        const seg: OpenSegment = { stream: p.stream, source: p.source, start: p.start, end: p.end, chunks: json ? [json] : [] };
        this.segments.push(seg);
        this.last.set(p.stream, seg);
      }
      this.lines += p.lines.length;
      this.bytes += p.bytes;
      this.firstAt ??= now;
    }
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
    const parts: Buffer[] = [
      Buffer.from(`{"version":${WIRE_VERSION},"agent_id":${JSON.stringify(this.identity.agentId)},"host":${JSON.stringify(this.identity.host)},"segments":[`),
    ];
    this.segments.forEach((s, i) => {
      parts.push(
        Buffer.from(`${i > 0 ? ',' : ''}{"stream":${JSON.stringify(s.stream)},"source":${JSON.stringify(s.source)},"start":${s.start},"end":${s.end},"lines":[`),
      );
      s.chunks.forEach((c, j) => {
        if (j > 0) parts.push(COMMA);
        parts.push(c);
      });
      parts.push(Buffer.from(']}'));
    });
    parts.push(Buffer.from(']}'));
    this.segments = [];
    this.last = new Map();
    this.lines = 0;
    this.bytes = 0;
    this.firstAt = undefined;
    const json = Buffer.concat(parts);
    const body = gzipLevel > 0 ? await gzipAsync(json, { level: gzipLevel }) : json;
    return { meta: { lines, sealed_at: now, encoding: gzipLevel > 0 ? 'gzip' : 'identity', ranges }, body };
  }
}
