// One followed file generation (a stream): an open descriptor, so a renamed or deleted file can
// still be read to its end, and three offsets in order: spooled <= emitted <= read. `read` is
// where the next read starts; `emitted` ends the last complete line handed on (a held multiline
// event lies between the two); `spooled` is durable in the spool.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { splitLines, type RawLine, type SplitState } from './lines.js';
import type { MultilineJoiner } from './multiline.js';

/** How many first bytes identify a file (with device and inode). */
export const FINGERPRINT_BYTES = 256;

export interface Fingerprint {
  hash: string;
  length: number;
  head: Buffer;
}

export function readHead(fd: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

export function fingerprintOf(fd: number, size: number): Fingerprint {
  const head = readHead(fd, Math.min(size, FINGERPRINT_BYTES));
  return { hash: hashOf(head), length: head.length, head };
}

export function hashOf(head: Buffer): string {
  return createHash('sha256').update(head).digest('hex').slice(0, 32);
}

export function openFile(path: string): { fd: number; st: Stats } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      return null;
    }
    return { fd, st };
  } catch {
    closeSync(fd);
    return null;
  }
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

export class TailedFile {
  read: number;
  emitted: number;
  spooled: number;
  /** the glob no longer leads to this inode: read it to the end, then let it go */
  detached = false;
  /** reading a copytruncate copy: its content is final and may end before `read` */
  copy = false;
  lastGrowth: number;
  readonly split: SplitState = { skipping: false };
  private fd: number | null;

  constructor(
    readonly stream: string,
    /** path the stream was first found at, reported as the lines' source */
    readonly source: string,
    public path: string,
    public dev: number,
    public ino: number,
    fd: number,
    public fp: Fingerprint,
    offset: number,
    now: number,
    readonly rule: number,
    readonly joiner: MultilineJoiner | null,
  ) {
    this.fd = fd;
    this.read = offset;
    this.emitted = offset;
    this.spooled = offset;
    this.lastGrowth = now;
    // Resuming inside a line can only mean we stopped while skipping an overlong one.
    if (offset > 0) {
      const b = Buffer.alloc(1);
      if (readSync(fd, b, 0, 1, offset - 1) === 1 && b[0] !== 0x0a) this.split.skipping = true;
    }
  }

  get open(): boolean {
    return this.fd !== null;
  }

  size(): number {
    return this.fd === null ? this.read : fstatSync(this.fd).size;
  }

  /** The first bytes are still the ones we identified the file by (not truncated and rewritten). */
  sameHead(): boolean {
    if (this.fd === null || this.fp.length === 0) return true;
    return readHead(this.fd, this.fp.length).equals(this.fp.head);
  }

  /** While a file is young its fingerprint covers fewer bytes; widen it as it grows. */
  widenFingerprint(size: number): boolean {
    if (this.fd === null || this.fp.length >= FINGERPRINT_BYTES || size <= this.fp.length) return false;
    this.fp = fingerprintOf(this.fd, size);
    return true;
  }

  /**
   * Reads up to `buf.length` bytes after `read` and splits them into lines. Returns the bytes
   * consumed; 0 when nothing new (or only an incomplete line) is there.
   */
  readLines(buf: Buffer, size: number, maxLineBytes: number, final: boolean, out: RawLine[], maxLines = Infinity): number {
    if (this.fd === null || size <= this.read) return 0;
    const want = Math.min(size - this.read, buf.length);
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, buf, got, want - got, this.read + got);
      if (n === 0) break;
      got += n;
    }
    const used = splitLines(buf, got, this.read, this.split, { maxLineBytes, final: final && this.read + got >= size, maxLines }, out);
    this.read += used;
    return used;
  }

  /** Continue this stream in another inode (the copy copytruncate left behind). */
  moveTo(path: string, fd: number, dev: number, ino: number): void {
    this.close();
    this.fd = fd;
    this.path = path;
    this.dev = dev;
    this.ino = ino;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
