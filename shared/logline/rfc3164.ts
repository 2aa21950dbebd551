// RFC 3164 (`<PRI>Mmm dd hh:mm:ss HOSTNAME TAG: MSG`) and the traditional file form without PRI,
// through syslog-parse 2.0.0 wrapped against its defects (see docs/REFERENCE §3):
// - unanchored regex: it may match a timestamp in the middle of the message → we match the
//   head (PRI, stamp) ourselves, anchored, and check that its HOSTNAME/TAG split starts right
//   after our stamp;
// - no PRI gives priority 0 (kern.emerg) → we pass the PRI only when the line had one and
//   ignore its priority otherwise;
// - its Date is built in the process zone from `new Date()` (current year, leftover ms,
//   setMonth before setDate: "Feb 05" on Jan 31 → Mar 5; "Feb 29" in a non-leap year → Mar 1;
//   "OCT" → December) → the time cannot be repaired afterwards, so we hand it a fixed stamp
//   and compute the time from the text (time.ts), case-insensitive months, configured zone;
// - `undefined` for tags without colon or an empty MSG, and `(.+)` stops at the first CR/LF of
//   a multi-line message → our own split (header.ts) and the message taken by position.
// What syslog-parse still decides: the PRI decoding and the HOSTNAME / TAG / PID / MSG split.
import syslogParse from 'syslog-parse';
import { splitHostTag, TAG_WORD_RE, type HostTagMessage } from './header.js';
import type { Pri } from './pri.js';
import { inferYear, isPlausibleWallTime, monthIndex, type WallTime } from './time.js';

// Day space-padded or zero-padded, optional fraction (rsyslog high precision off, some
// appliances add it); anchored at the start of what follows the PRI.
const HEAD_RE = /^([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:\s+|$)/;

export interface Rfc3164Parts extends HostTagMessage {
  ts: number;
  facility?: number;
  severity?: number;
}

/** `body` is the text after the PRI (if any). Null when it does not start with an RFC 3164 stamp. */
export function parseRfc3164(body: string, pri: Pri | null, zone: string, now: number): Rfc3164Parts | null {
  const m = HEAD_RE.exec(body);
  if (!m) return null;
  const wall: WallTime = {
    month: monthIndex(m[1]!),
    day: Number(m[2]),
    hour: Number(m[3]),
    minute: Number(m[4]),
    second: Number(m[5]),
    ms: m[6] ? Math.floor(Number(`0.${m[6]}`) * 1000) : 0,
  };
  if (!isPlausibleWallTime(wall)) return null;
  const ts = inferYear(wall, zone, now);
  const rest = body.slice(m[0].length);
  const parts = viaSyslogParse(rest, pri) ?? splitHostTag(rest);
  const out: Rfc3164Parts = { ts, ...parts };
  if (pri) {
    out.facility = pri.facility;
    out.severity = pri.severity;
  }
  return out;
}

const FIXED_STAMP = 'Jan  1 00:00:00 ';

function viaSyslogParse(rest: string, pri: Pri | null): HostTagMessage | null {
  const priText = pri ? `<${pri.facility * 8 + pri.severity}>` : '';
  const r = syslogParse(priText + FIXED_STAMP + rest);
  if (!r) return null;
  // Where its match must have started for the split to be ours: HOSTNAME? TAG [PID]? ':'
  let pos = 0;
  if (!r.host) {
    // Without HOSTNAME its tag must be the first word: "fe80::1 sshd: x" is not program "fe80".
    if (!TAG_WORD_RE.test(rest.split(/\s/, 1)[0]!)) return null;
  } else {
    if (!rest.startsWith(r.host)) return null;
    pos = r.host.length;
    const ws = /^\s+/.exec(rest.slice(pos));
    if (!ws) return null;
    pos += ws[0].length;
  }
  if (!rest.startsWith(r.process, pos)) return null;
  pos += r.process.length;
  let procText: string | undefined;
  if (rest[pos] === '[') {
    const close = rest.indexOf(']', pos);
    if (close < 0) return null;
    procText = rest.slice(pos + 1, close);
    pos = close + 1;
  }
  if (rest[pos] !== ':') return null;
  const tail = rest.slice(pos + 1);
  const out: HostTagMessage = {
    program: r.process,
    // Its `(.+)` does not cross line breaks; a joined multi-line message is taken by position.
    message: /[\r\n\u2028\u2029]/.test(tail) ? tail.trim() : r.message,
  };
  if (r.host) out.hostname = r.host;
  if (r.pid !== undefined && Number.isSafeInteger(r.pid) && r.pid > 0) out.pid = r.pid;
  else if (procText !== undefined && !/^\d+$/.test(procText)) out.procid = procText;
  return out;
}
