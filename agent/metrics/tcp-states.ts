// TCP connections by state, from /proc/net/tcp and tcp6: one line per socket, the state in hex in
// the fourth column. A busy host has thousands of sockets (~150 bytes a line, MBs in all). Read
// whole into a string and split into lines and fields, that was tens of thousands of strings and
// a Buffer of the file's size every 10 s: the agent's heap grew by MBs, and each large Buffer
// freed raised glibc's mmap and trim thresholds, after which freed memory stayed in the process.
// So the files are read through one 64 KB buffer, reused, and scanned where the bytes lie.
import { closeSync, openSync, readSync } from 'node:fs';

/** The `st` column of /proc/net/tcp{,6}, as include/net/tcp_states.h numbers them. */
export const TCP_STATES: Record<string, string> = {
  '01': 'established',
  '02': 'syn_sent',
  '03': 'syn_recv',
  '04': 'fin_wait1',
  '05': 'fin_wait2',
  '06': 'time_wait',
  '07': 'close',
  '08': 'close_wait',
  '09': 'last_ack',
  '0A': 'listen',
  '0B': 'closing',
  '0C': 'new_syn_recv',
};

export const TCP_FILES = ['/proc/net/tcp', '/proc/net/tcp6'];

const CHUNK = 64 * 1024;
let scratch: Buffer | undefined;

/** State names by the number the `st` column gives in hex. */
const BY_CODE: (string | undefined)[] = [];
for (const [hex, name] of Object.entries(TCP_STATES)) BY_CODE[parseInt(hex, 16)] = name;

function zeroCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of Object.values(TCP_STATES)) out[s] = 0;
  return out;
}

/** 0–15 for a hex digit's byte, -1 otherwise. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20; // lower case
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 13;

/** Counts the line buf[from, to) (no newline) by its fourth field, when that is a known state. */
function countLine(buf: Buffer, from: number, to: number, out: Record<string, number>): void {
  let j = from;
  // Skip three fields (and the blanks around them) to the fourth.
  for (let field = 0; field <= 3 && j < to; field++) {
    while (j < to && isSpace(buf[j]!)) j++;
    if (field < 3) while (j < to && !isSpace(buf[j]!)) j++;
  }
  if (j + 2 > to || (j + 2 < to && !isSpace(buf[j + 2]!))) return;
  const hi = hexDigit(buf[j]!);
  const lo = hexDigit(buf[j + 1]!);
  const name = hi >= 0 && lo >= 0 ? BY_CODE[hi * 16 + lo] : undefined;
  if (name) out[name]! += 1;
}

/** Counts every line of buf[0, len) but the first (the header); for texts already read. */
function countText(buf: Buffer, len: number, out: Record<string, number>): void {
  let start = buf.indexOf(10) + 1;
  if (start === 0 || start > len) return;
  while (start < len) {
    let end = buf.indexOf(10, start);
    if (end < 0 || end > len) end = len;
    countLine(buf, start, end, out);
    start = end + 1;
  }
}

/** Connections by state in the given texts of /proc/net/tcp{,6} (captured copies, in tests). */
export function countTcpStates(texts: string[]): Record<string, number> {
  const out = zeroCounts();
  for (const text of texts) {
    const buf = Buffer.from(text, 'latin1');
    countText(buf, buf.length, out);
  }
  return out;
}

/** Connections by state in these files, read through the reused buffer; a file missing counts nothing. */
export function countTcpStatesInFiles(paths: string[] = TCP_FILES): Record<string, number> {
  const out = zeroCounts();
  const buf = (scratch ??= Buffer.allocUnsafe(CHUNK));
  for (const path of paths) {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      continue; // no IPv6 in this kernel, or /proc/net hidden
    }
    try {
      let have = 0; // bytes of an unfinished line kept at the start of the buffer
      let header = true;
      let skipping = false; // inside a line longer than the buffer (no socket line is)
      for (;;) {
        const n = readSync(fd, buf, have, CHUNK - have, null);
        const len = have + n;
        let start = 0;
        for (let nl = buf.indexOf(10, start); nl >= 0 && nl < len; nl = buf.indexOf(10, start)) {
          if (!header && !skipping) countLine(buf, start, nl, out);
          header = false;
          skipping = false;
          start = nl + 1;
        }
        if (n === 0) {
          if (start < len && !header && !skipping) countLine(buf, start, len, out);
          break;
        }
        if (start === 0 && len === CHUNK) {
          skipping = true;
          have = 0;
        } else {
          have = buf.copy(buf, 0, start, len);
        }
      }
    } finally {
      closeSync(fd);
    }
  }
  return out;
}
