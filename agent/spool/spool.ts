// The disk spool: sealed batches wait here, in order, until the collector acknowledges them. It
// is what lets the agent go on reading while the collector is down, with memory bounded: only
// the batch being built and the one in flight are held in memory; the backlog is on disk.
//
// Layout: numbered segment files of records `[magic][meta length][body length][crc32] meta body`.
// A record is durable for a restart once written (SIGKILL keeps the page cache); segments are
// fsynced when they are rolled and about once a second. After a crash a torn or corrupt tail is
// cut off and the bytes it held are read again from their files: where a stream resumes is
// computed from the records that survived (see state.ts), so nothing is skipped.
//
// Acknowledged records are known by sequence number from the state file. The agent saves the
// state *before* the spool deletes a segment, so a crash in between only re-sends records the
// collector will recognise as duplicates.
import { closeSync, fdatasyncSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, rmSync, ftruncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const MAGIC = 0x52545331; // "RTS1"
const HEADER = 16;

export interface RecordMeta {
  seq: number;
  lines: number;
  /** when the batch was sealed (ms), for the shipping lag */
  sealed_at: number;
  encoding: 'gzip' | 'identity';
  /** [stream, start, end] of every segment in the batch */
  ranges: Array<[string, number, number]>;
}

/** Bytes of log text a record's batch holds: the sum of its byte ranges. */
function textBytes(meta: RecordMeta): number {
  let n = 0;
  for (const [, start, end] of meta.ranges) n += end - start;
  return n;
}

interface Entry {
  meta: RecordMeta;
  segment: number;
  pos: number;
  len: number;
}

interface Segment {
  id: number;
  size: number;
  unacked: number;
}

export interface Dropped {
  records: number;
  lines: number;
  bytes: number;
  /** [stream, start, end] of the dropped records */
  ranges: Array<[string, number, number]>;
}

export interface SpoolOptions {
  maxBytes: number;
  /** size at which a segment file is closed and a new one started */
  segmentBytes?: number;
}

export class Spool {
  private readonly entries: Entry[] = [];
  private readonly segments = new Map<number, Segment>();
  /**
   * Records are read back (from the page cache, usually) into this one buffer, which grows to the
   * largest record: a Buffer per record, or a cache of recent ones, is external memory that V8
   * frees only on a full GC, and that piled up by ~20 MB over a million lines.
   */
  private readonly scratch: Scratch = { buf: Buffer.allocUnsafe(64 * 1024) };
  private writeFd: number | null = null;
  private writeSeg: Segment | null = null;
  private nextSegment = 1;
  private nextSeq = 1;
  private dirty = false;
  private total = 0;
  readonly segmentBytes: number;

  constructor(
    private readonly dir: string,
    private readonly opts: SpoolOptions,
  ) {
    this.segmentBytes = opts.segmentBytes ?? Math.max(64 * 1024, Math.min(16 * 1024 * 1024, Math.floor(opts.maxBytes / 8)));
  }

  /**
   * Reads what a previous run left. Returns the end offset of each stream's records still to be
   * sent and how many bytes of damaged tail were cut off.
   */
  open(ackedSeq: number): { spooledEnds: Map<string, number>; cut: number } {
    mkdirSync(this.dir, { recursive: true });
    const ids = readdirSync(this.dir)
      .map((n) => /^seg-(\d+)\.rts$/.exec(n)?.[1])
      .filter((x): x is string => x !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const ends = new Map<string, number>();
    let cut = 0;
    let maxSeq = ackedSeq;
    for (const id of ids) {
      const path = this.segPath(id);
      const fd = openSync(path, 'r+');
      const seg: Segment = { id, size: 0, unacked: 0 };
      try {
        const size = fstatSync(fd).size;
        let pos = 0;
        while (pos < size) {
          const rec = readRecord(fd, pos, size, this.scratch);
          if (!rec) break;
          maxSeq = Math.max(maxSeq, rec.meta.seq);
          if (rec.meta.seq > ackedSeq) {
            this.entries.push({ meta: rec.meta, segment: id, pos, len: rec.len });
            seg.unacked++;
            for (const [stream, , end] of rec.meta.ranges) ends.set(stream, Math.max(ends.get(stream) ?? 0, end));
          }
          pos += rec.len;
        }
        if (pos < size) {
          cut += size - pos;
          ftruncateSync(fd, pos);
          fdatasyncSync(fd);
        }
        seg.size = pos;
      } finally {
        closeSync(fd);
      }
      if (seg.unacked === 0) {
        rmSync(path, { force: true });
      } else {
        this.segments.set(id, seg);
        this.total += seg.size;
      }
      this.nextSegment = Math.max(this.nextSegment, id + 1);
    }
    this.entries.sort((a, b) => a.meta.seq - b.meta.seq);
    this.nextSeq = maxSeq + 1;
    return { spooledEnds: ends, cut };
  }

  get bytes(): number {
    return this.total;
  }

  get records(): number {
    return this.entries.length;
  }

  get lines(): number {
    let n = 0;
    for (const e of this.entries) n += e.meta.lines;
    return n;
  }

  /** When the oldest waiting record was sealed. */
  get oldestSealedAt(): number | undefined {
    return this.entries[0]?.meta.sealed_at;
  }

  /** An empty spool takes any record, so one oversized batch cannot wedge the agent. */
  hasRoom(len: number): boolean {
    return this.total === 0 || this.total + len + HEADER <= this.opts.maxBytes;
  }

  append(meta: Omit<RecordMeta, 'seq'>, body: Buffer): number {
    const seq = this.nextSeq++;
    const full: RecordMeta = { seq, ...meta };
    const metaBuf = Buffer.from(JSON.stringify(full), 'utf8');
    const head = Buffer.allocUnsafe(HEADER);
    head.writeUInt32BE(MAGIC, 0);
    head.writeUInt32BE(metaBuf.length, 4);
    head.writeUInt32BE(body.length, 8);
    head.writeUInt32BE(crc32(body, crc32(metaBuf)), 12);
    const len = HEADER + metaBuf.length + body.length;
    if (this.writeSeg && this.writeSeg.size > 0 && this.writeSeg.size + len > this.segmentBytes) this.roll();
    if (!this.writeSeg) {
      const id = this.nextSegment++;
      this.writeFd = openSync(this.segPath(id), 'a');
      this.writeSeg = { id, size: 0, unacked: 0 };
      this.segments.set(id, this.writeSeg);
    }
    const seg = this.writeSeg;
    writeAll(this.writeFd!, head);
    writeAll(this.writeFd!, metaBuf);
    writeAll(this.writeFd!, body);
    this.entries.push({ meta: full, segment: seg.id, pos: seg.size, len });
    seg.size += len;
    seg.unacked++;
    this.total += len;
    this.dirty = true;
    return seq;
  }

  /** The oldest record not yet acknowledged. Its body is valid until the next peek() or open(). */
  peek(): { meta: RecordMeta; body: Buffer } | undefined {
    const e = this.entries[0];
    return e ? { meta: e.meta, body: this.readBody(e) } : undefined;
  }

  /**
   * The oldest records not yet acknowledged after `afterSeq` (the last one already in flight), in
   * order, to be sent together: at most `max.records`, `max.lines` lines and `max.textBytes` bytes
   * of log text (the first always), all of one encoding. Each body is handed to `onBody` as a view of the read buffer, valid only
   * during the call (the caller copies it into its request body: no Buffer per record).
   */
  peekMany(max: { records: number; lines: number; textBytes: number }, afterSeq: number, onBody: (body: Buffer, meta: RecordMeta) => void): RecordMeta[] {
    const out: RecordMeta[] = [];
    let lines = 0;
    let text = 0;
    for (const e of this.entries) {
      if (e.meta.seq <= afterSeq) continue;
      if (out.length >= max.records) break;
      const bytes = textBytes(e.meta);
      if (out.length > 0 && (lines + e.meta.lines > max.lines || text + bytes > max.textBytes || e.meta.encoding !== out[0]!.encoding)) break;
      onBody(this.readBody(e), e.meta);
      out.push(e.meta);
      lines += e.meta.lines;
      text += bytes;
    }
    return out;
  }

  /** A record's body, read into the scratch buffer: valid until the next read. */
  private readBody(e: Entry): Buffer {
    const fd = openSync(this.segPath(e.segment), 'r');
    try {
      const rec = readRecord(fd, e.pos, e.pos + e.len, this.scratch);
      if (!rec?.body) throw new Error(`spool record ${e.meta.seq} in ${this.segPath(e.segment)} is damaged`);
      return rec.body;
    } finally {
      closeSync(fd);
    }
  }

  /** The head record is acknowledged (and the state saying so is saved): forget it. */
  ack(seq: number): void {
    const e = this.entries[0];
    if (!e || e.meta.seq !== seq) return;
    this.entries.shift();
    this.forget(e);
  }

  /**
   * Makes room for `len` bytes by deleting the oldest whole segments, never the one holding the
   * record in flight (the head).
   */
  dropOldest(len: number): Dropped {
    const dropped: Dropped = { records: 0, lines: 0, bytes: 0, ranges: [] };
    const head = this.entries[0]?.segment;
    for (const seg of [...this.segments.values()].sort((a, b) => a.id - b.id)) {
      if (this.hasRoom(len)) break;
      if (seg.id === head) continue;
      if (seg === this.writeSeg) this.roll();
      for (let i = this.entries.length - 1; i >= 0; i--) {
        const e = this.entries[i]!;
        if (e.segment !== seg.id) continue;
        dropped.records++;
        dropped.lines += e.meta.lines;
        dropped.ranges.push(...e.meta.ranges);
        this.entries.splice(i, 1);
      }
      dropped.bytes += seg.size;
      this.removeSegment(seg);
    }
    return dropped;
  }

  /** Flushes written records to the disk (called about once a second and on shutdown). */
  sync(): void {
    if (this.dirty && this.writeFd !== null) fdatasyncSync(this.writeFd);
    this.dirty = false;
  }

  close(): void {
    this.sync();
    if (this.writeFd !== null) closeSync(this.writeFd);
    this.writeFd = null;
    this.writeSeg = null;
  }

  private forget(e: Entry): void {
    const seg = this.segments.get(e.segment);
    if (!seg) return;
    seg.unacked--;
    if (seg.unacked === 0) this.removeSegment(seg);
  }

  private removeSegment(seg: Segment): void {
    if (seg === this.writeSeg) {
      closeSync(this.writeFd!);
      this.writeFd = null;
      this.writeSeg = null;
      this.dirty = false;
    }
    this.segments.delete(seg.id);
    this.total -= seg.size;
    rmSync(this.segPath(seg.id), { force: true });
  }

  private roll(): void {
    this.sync();
    closeSync(this.writeFd!);
    this.writeFd = null;
    this.writeSeg = null;
  }

  private segPath(id: number): string {
    return join(this.dir, `seg-${String(id).padStart(12, '0')}.rts`);
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

interface Scratch {
  buf: Buffer;
}

function readExact(fd: number, len: number, pos: number, into?: Scratch): Buffer | null {
  if (into && into.buf.length < len) into.buf = Buffer.allocUnsafe(Math.max(len, into.buf.length * 2));
  const buf = into ? into.buf.subarray(0, len) : Buffer.allocUnsafe(len);
  let got = 0;
  while (got < len) {
    const n = readSync(fd, buf, got, len - got, pos + got);
    if (n === 0) return null;
    got += n;
  }
  return buf;
}

/** One record at `pos`, read into `scratch` (its body is a view of it), or null when it is torn, corrupt or not a record. */
function readRecord(fd: number, pos: number, limit: number, scratch: Scratch): { meta: RecordMeta; len: number; body: Buffer } | null {
  if (pos + HEADER > limit) return null;
  const head = readExact(fd, HEADER, pos);
  if (!head || head.readUInt32BE(0) !== MAGIC) return null;
  const metaLen = head.readUInt32BE(4);
  const bodyLen = head.readUInt32BE(8);
  const len = HEADER + metaLen + bodyLen;
  if (pos + len > limit || metaLen > 16 * 1024 * 1024) return null;
  const rest = readExact(fd, metaLen + bodyLen, pos + HEADER, scratch);
  if (!rest) return null;
  const metaBuf = rest.subarray(0, metaLen);
  const body = rest.subarray(metaLen);
  if (crc32(body, crc32(metaBuf)) !== head.readUInt32BE(12)) return null;
  let meta: RecordMeta;
  try {
    meta = JSON.parse(metaBuf.toString('utf8')) as RecordMeta;
  } catch {
    return null;
  }
  return { meta, len, body };
}
