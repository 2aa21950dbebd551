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
// What syslog-parse still decides: the HOSTNAME / TAG / PID / MSG split (rfc3164-split.ts,
// asked once per header).
import { splitDirect, splitRest } from './rfc3164-split.js';
import type { Pri } from './pri.js';
import type { HostTagMessage } from './header.js';
import { inferYear, inferYearUncached, isPlausibleWallTime, monthIndex, type WallTime } from './time.js';

// Day space-padded or zero-padded, optional fraction (rsyslog high precision off, some
// appliances add it); anchored at the start of what follows the PRI.
const HEAD_RE = /^([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:\s+|$)/;

export interface Rfc3164Parts extends HostTagMessage {
  ts: number;
  facility?: number;
  severity?: number;
}

// The last stamp's time: a file has many lines per second and the agent parses a chunk with one
// `now`. inferYear is a function of the wall time, the zone and `now` only, and the wall time
// of the matched text only (HEAD_RE's groups are unambiguous), so equal keys give equal times.
let lastStamp = '';
let lastZone = '';
let lastNow = NaN;
let lastTs = 0;
/** lastStamp ends with white space (HEAD_RE's `\s+`, not its `$`): a line starting with it may skip the regex */
let lastOpen = false;

const WS_RE = /\s/;
/** Whether HEAD_RE, having matched `stamp` (ending in white space) in another line, matches exactly
 * `stamp` at the start of `body`: the same characters up to its end, where `\s+` stops when the next
 * one is not white space. Every step of the match before that reads only the stamp's characters,
 * so it takes the same path. */
function sameStampAt(body: string, stamp: string): boolean {
  if (!body.startsWith(stamp)) return false;
  const c = body.charCodeAt(stamp.length);
  return c !== c || (c > 32 && c < 127) || !WS_RE.test(body[stamp.length]!);
}

/** `body` is the text after the PRI (if any). Null when it does not start with an RFC 3164 stamp. */
export function parseRfc3164(body: string, pri: Pri | null, zone: string, now: number): Rfc3164Parts | null {
  return parse(body, pri, zone, now, true);
}

/** The same without the caches (stamp, year of `now`, header memo), for tests that compare. */
export function parseRfc3164Uncached(body: string, pri: Pri | null, zone: string, now: number): Rfc3164Parts | null {
  return parse(body, pri, zone, now, false);
}

function parse(body: string, pri: Pri | null, zone: string, now: number, cached: boolean): Rfc3164Parts | null {
  // Lines of a file come many to a second: the same stamp as the line before is recognised by
  // comparing its characters, without the regex and its seven substrings (logs bench: 100 lines a second).
  if (cached && lastOpen && now === lastNow && zone === lastZone && sameStampAt(body, lastStamp)) return finish(body, lastStamp, lastTs, pri, true);
  const m = HEAD_RE.exec(body);
  if (!m) return null;
  const stamp = m[0];
  let ts: number;
  if (cached && stamp === lastStamp && now === lastNow && zone === lastZone) ts = lastTs;
  else {
    const wall: WallTime = {
      month: monthIndex(m[1]!),
      day: Number(m[2]),
      hour: Number(m[3]),
      minute: Number(m[4]),
      second: Number(m[5]),
      ms: m[6] ? Math.floor(Number(`0.${m[6]}`) * 1000) : 0,
    };
    if (!isPlausibleWallTime(wall)) return null;
    ts = cached ? inferYear(wall, zone, now) : inferYearUncached(wall, zone, now);
    if (cached) {
      lastStamp = stamp;
      lastZone = zone;
      lastNow = now;
      lastTs = ts;
      lastOpen = WS_RE.test(stamp[stamp.length - 1]!);
    }
  }
  return finish(body, stamp, ts, pri, cached);
}

function finish(body: string, stamp: string, ts: number, pri: Pri | null, cached: boolean): Rfc3164Parts {
  const rest = body.slice(stamp.length);
  // The split is a fresh object: it becomes the result (a spread copy cost ~10% of a line).
  const out = (cached ? splitRest(rest, pri) : splitDirect(rest, pri)) as Rfc3164Parts;
  out.ts = ts;
  if (pri) {
    out.facility = pri.facility;
    out.severity = pri.severity;
  }
  return out;
}
