// Builds one batch from pulled segments: adjacent ranges of a stream merge into one segment,
// and the batch is due when it holds enough lines or bytes or its first line has waited the
// linger time. Sealing serialises and compresses it (zlib runs off the main thread).
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { WIRE_VERSION, type IngestBatch, type WireSegment } from '../shared/wire.js';
import type { RecordMeta } from './spool/spool.js';
import type { PulledSegment } from './sources/types.js';

const gzipAsync = promisify(gzip);

export interface SealedBatch {
  meta: Omit<RecordMeta, 'seq'>;
  body: Buffer;
}

export class Batcher {
  private segments: WireSegment[] = [];
  private last = new Map<string, WireSegment>();
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
      const prev = this.last.get(p.stream);
      if (prev && prev.end === p.start) {
        prev.end = p.end;
        for (const l of p.lines) prev.lines.push(l);
      } else {
        const seg: WireSegment = { stream: p.stream, source: p.source, start: p.start, end: p.end, lines: p.lines };
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
    const batch: IngestBatch = { version: WIRE_VERSION, agent_id: this.identity.agentId, host: this.identity.host, segments: this.segments };
    const ranges = this.segments.map((s): [string, number, number] => [s.stream, s.start, s.end]);
    const lines = this.lines;
    this.segments = [];
    this.last = new Map();
    this.lines = 0;
    this.bytes = 0;
    this.firstAt = undefined;
    const json = Buffer.from(JSON.stringify(batch), 'utf8');
    const body = gzipLevel > 0 ? await gzipAsync(json, { level: gzipLevel }) : json;
    return { meta: { lines, sealed_at: now, encoding: gzipLevel > 0 ? 'gzip' : 'identity', ranges }, body };
  }
}
