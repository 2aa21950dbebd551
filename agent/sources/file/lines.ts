// Splits the bytes read from a file into lines. Pure (no I/O), so every rule is unit-tested:
// `\n` ends a line and a `\r` before it is dropped; a line longer than the limit is cut at a
// character boundary, marked truncated, and the rest of it is skipped up to its newline (the
// file goes on being read, unlike Fluent Bit #370); invalid UTF-8 becomes U+FFFD, never a
// rejected batch. An unterminated last line waits for its newline unless `final` is set.
import { isAscii } from 'node:buffer';

export interface RawLine {
  /** byte offset of the line's first byte in its file */
  offset: number;
  /** byte offset just past the line's newline (or its last byte when cut or final) */
  end: number;
  text: string;
  truncated: boolean;
}

export interface SplitState {
  /** inside an overlong line whose head was already emitted: drop bytes up to the next newline */
  skipping: boolean;
}

export interface SplitOptions {
  maxLineBytes: number;
  /** the file is finished (detached and idle): emit an unterminated last line too */
  final: boolean;
  /** stop after this many lines (the rest is read again next time) */
  maxLines?: number;
}

/** The largest cut point <= `at` that does not split a UTF-8 sequence. */
export function utf8Boundary(buf: Uint8Array, from: number, at: number): number {
  let i = at;
  // Continuation bytes are 10xxxxxx; step back at most 3 of them to the lead byte.
  while (i > from && i > at - 4 && (buf[i]! & 0xc0) === 0x80) i--;
  return i > from ? i : at;
}

/**
 * Splits `buf[0, len)` which starts at file offset `base`. Appends lines to `out` and returns
 * how many bytes were consumed (the rest is an incomplete line to be read again later).
 */
export function splitLines(buf: Buffer, len: number, base: number, state: SplitState, opts: SplitOptions, out: RawLine[]): number {
  const max = opts.maxLineBytes;
  let start = 0;
  if (state.skipping) {
    const nl = buf.indexOf(0x0a, 0);
    if (nl === -1 || nl >= len) return len;
    state.skipping = false;
    start = nl + 1;
  }
  // ASCII chunks (the common case) decode once; offsets in the string are then byte offsets.
  const ascii = isAscii(buf.subarray(start, len));
  const str = ascii ? buf.toString('latin1', 0, len) : '';
  const text = (a: number, b: number): string => (ascii ? str.slice(a, b) : buf.toString('utf8', a, b));
  const limit = out.length + (opts.maxLines ?? Infinity);
  while (start < len && out.length < limit) {
    let nl = ascii ? str.indexOf('\n', start) : buf.indexOf(0x0a, start);
    if (nl >= len) nl = -1;
    if (nl !== -1) {
      let stop = nl;
      if (stop > start && buf[stop - 1] === 0x0d) stop--;
      if (stop - start > max) {
        const cut = ascii ? start + max : utf8Boundary(buf, start, start + max);
        out.push({ offset: base + start, end: base + nl + 1, text: text(start, cut), truncated: true });
      } else {
        out.push({ offset: base + start, end: base + nl + 1, text: text(start, stop), truncated: false });
      }
      start = nl + 1;
      continue;
    }
    const rest = len - start;
    if (rest > max) {
      // No newline within the limit: emit the head now and skip the remainder of this line.
      const cut = ascii ? start + max : utf8Boundary(buf, start, start + max);
      out.push({ offset: base + start, end: base + len, text: text(start, cut), truncated: true });
      state.skipping = true;
      return len;
    }
    if (opts.final && rest > 0) {
      let stop = len;
      if (buf[stop - 1] === 0x0d) stop--;
      out.push({ offset: base + start, end: base + len, text: text(start, stop), truncated: false });
      return len;
    }
    break;
  }
  return start;
}
