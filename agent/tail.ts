// One followed file generation: an open descriptor (so a renamed or deleted file can still be
// read to its end), the acknowledged offset, and the offset read ahead of it. Only whole lines
// leave this module; an unterminated last line waits for its newline unless the file is gone.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';

export const FINGERPRINT_BYTES = 256;

export interface RawLine {
  offset: number;
  /** byte length including the newline */
  length: number;
  text: string;
  truncated: boolean;
}

const decoder = new TextDecoder('utf-8', { fatal: false });

export function fingerprintOf(fd: number, size: number): { fingerprint: string; length: number } {
  const length = Math.min(size, FINGERPRINT_BYTES);
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, got);
    if (n === 0) break;
    got += n;
  }
  return { fingerprint: createHash('sha256').update(buf.subarray(0, got)).digest('hex').slice(0, 32), length: got };
}

export class TailedFile {
  /** bytes before this offset are acknowledged by the collector */
  acked: number;
  /** bytes before this offset have been read into lines (acked <= readTo) */
  readTo: number;
  /** the path no longer leads to this file: read it to the end, then release it */
  detached = false;
  lastGrowth: number;
  private fd: number | null;

  constructor(
    readonly stream: string,
    public path: string,
    readonly dev: number,
    readonly ino: number,
    fd: number,
    offset: number,
    now: number,
  ) {
    this.fd = fd;
    this.acked = offset;
    this.readTo = offset;
    this.lastGrowth = now;
  }

  static open(path: string): { fd: number; st: Stats } | null {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return null;
    }
    return { fd, st: fstatSync(fd) };
  }

  stat(): Stats | null {
    return this.fd === null ? null : fstatSync(this.fd);
  }

  fingerprint(size: number): { fingerprint: string; length: number } {
    return fingerprintOf(this.fd!, size);
  }

  /**
   * Reads whole lines after `readTo`, at most about `maxBytes`. When `final` is set (the file
   * is detached and idle) an unterminated last line is emitted too.
   */
  readLines(maxBytes: number, maxLineBytes: number, final: boolean): RawLine[] {
    if (this.fd === null) return [];
    const size = fstatSync(this.fd).size;
    if (size <= this.readTo) return [];
    const want = Math.min(size - this.readTo, Math.max(maxBytes, maxLineBytes + 2));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(this.fd, buf, got, want - got, this.readTo + got);
      if (n === 0) break;
      got += n;
    }
    const lines: RawLine[] = [];
    let start = 0;
    while (start < got) {
      const nl = buf.indexOf(0x0a, start);
      if (nl === -1 || nl >= got) {
        const rest = got - start;
        const eof = this.readTo + got >= size;
        if (rest > maxLineBytes) {
          // A line longer than the limit: cut it and go on, rather than stall the file.
          lines.push(this.line(buf, start, start + maxLineBytes, maxLineBytes, true));
          start += maxLineBytes;
          continue;
        }
        if (final && eof && rest > 0) {
          lines.push(this.line(buf, start, got, rest, false));
          start = got;
        }
        break;
      }
      const len = nl - start;
      if (len > maxLineBytes) {
        lines.push(this.line(buf, start, start + maxLineBytes, maxLineBytes, true));
        start += maxLineBytes;
        continue;
      }
      const end = len > 0 && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      lines.push(this.line(buf, start, end, nl + 1 - start, false));
      start = nl + 1;
      if (start - 0 >= maxBytes) break;
    }
    this.readTo += start;
    return lines;
  }

  private line(buf: Buffer, from: number, to: number, length: number, truncated: boolean): RawLine {
    return { offset: this.readTo + from, length, text: decoder.decode(buf.subarray(from, to)), truncated };
  }

  /** A delivery failed: what was read ahead is read again on the next attempt. */
  rewind(): void {
    this.readTo = this.acked;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
