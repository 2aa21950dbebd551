// Timestamps of application logs: the value of a JSON/logfmt time key, and the leading stamp of a
// plain line in the common shapes (tried by first character, so a line pays one or two anchored
// regexes, never the whole list). A zone-less stamp is read in the source's zone; a year-less one
// (RFC 3164, glog) gets the year that puts it nearest to now, at most FUTURE_WINDOW_MS ahead.
import { inferYear, isPlausibleWallTime, monthIndex } from './time.js';
import { wallToEpoch } from './zone.js';

/** Plausible event times: 1973 (below that a number is read as seconds anyway) … 2100. */
const MIN_TS = 1e11;
const MAX_TS = 4_102_444_800_000;

function plausible(ts: number): number | undefined {
  return ts >= MIN_TS && ts < MAX_TS ? Math.floor(ts) : undefined;
}

/**
 * Epoch ms of a number whose unit is guessed from its size: seconds (fractional allowed) below
 * 10^11, milliseconds below 10^14, microseconds (journald's __REALTIME_TIMESTAMP) below 10^17,
 * nanoseconds above.
 */
export function epochFromNumber(n: number): number | undefined {
  if (!Number.isFinite(n) || n <= 0) return undefined;
  if (n < 1e11) return plausible(n * 1000);
  if (n < 1e14) return plausible(n);
  if (n < 1e17) return plausible(n / 1000);
  return plausible(n / 1e6);
}

const NUMERIC_RE = /^\d{9,19}(?:\.\d{1,9})?$/;

/** The value of a time key (`time`, `ts`, `@timestamp`, …): a number or a string. Undefined when unreadable. */
export function timeFromValue(v: unknown, zone: string, now: number): number | undefined {
  if (typeof v === 'number') return epochFromNumber(v);
  if (typeof v !== 'string' || v.length < 8 || v.length > 64) return undefined;
  if (NUMERIC_RE.test(v)) return epochFromNumber(Number(v));
  const s = v.trim();
  const r = leadingTime(s, zone, now, false);
  // The whole value must be the stamp (a trailing zone name we do not know is not ours to drop).
  return r && r.end === s.length ? r.ts : undefined;
}

export interface LeadingTime {
  ts: number;
  /** index just after the stamp */
  end: number;
  /** glog's and Redis's level character, when the stamp carries one */
  level?: number;
}

// 2026-12-06T23:40:46.123Z · 2026-12-06 23:40:46,123 · 2026-12-06 23:40:46.123 UTC · …+01:00 · …-0500
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?: ?([Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?(?=$|[\s\]|,;)"'])/;
// nginx error log, Go's log package: 2026/12/06 23:40:46
const SLASH_RE = /^(\d{4})\/(\d{2})\/(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?=$|\s)/;
// Java (Tomcat, JUL): 06-Dec-2026 23:40:46.123
const JAVA_RE = /^(\d{2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?=$|\s)/;
// Redis: 1234:M 06 Dec 2026 23:40:46.123 * Ready (the character after the stamp is the level)
const REDIS_RE = /^\d{1,10}:[XCSM] (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? ([.\-*#]) /;
// glog / klog: I1206 23:40:46.123456 (no year)
const GLOG_RE = /^([IWEF])(\d{2})(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?=\s)/;
// RFC 3164 without header: Dec  6 23:40:46 (no year)
const BSD_RE = /^([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?=$|\s)/;
// Apache error log: [Sun Dec 06 23:40:46.123456 2026]
const APACHE_ERR_RE = /^\[[A-Za-z]{3} ([A-Za-z]{3}) (\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))? (\d{4})\]/;
// Apache/nginx access (common/combined log format), anywhere in the head: [06/Dec/2026:23:40:46 +0000]
const CLF_RE = /\[(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?: ([+-]\d{2}):?(\d{2}))?\]/;
const CLF_HEAD = 512;

const GLOG_LEVEL: Record<string, number> = { I: 6, W: 4, E: 3, F: 0 };
const REDIS_LEVEL: Record<string, number> = { '.': 7, '-': 7, '*': 5, '#': 4 };

function msOf(frac: string | undefined): number {
  return frac ? Number((frac + '00').slice(0, 3)) : 0;
}

/** Wall time with a year, in `offsetMin` (minutes east) or, when undefined, the source's zone. */
function stamp(y: number, mo: number, d: number, h: number, mi: number, s: number, frac: string | undefined, zone: string, offsetMin?: number): number | undefined {
  if (mo < 0 || !isPlausibleWallTime({ month: mo, day: d, hour: h, minute: mi, second: s, ms: 0 })) return undefined;
  if (d > new Date(Date.UTC(y, mo + 1, 0)).getUTCDate()) return undefined;
  // A leap second (:60) is stored as :59.999, as time.ts does.
  const sec = Math.min(s, 59);
  const ms = s === 60 ? 999 : msOf(frac);
  const ts = offsetMin === undefined ? wallToEpoch(zone, y, mo, d, h, mi, sec, ms) : Date.UTC(y, mo, d, h, mi, sec, ms) - offsetMin * 60_000;
  return plausible(ts);
}

function zoneOffset(z: string | undefined): number | undefined | null {
  if (z === undefined) return undefined;
  if (z === 'Z' || z === 'z' || z === 'UTC' || z === 'GMT') return 0;
  const hh = Number(z.slice(1, 3));
  const mm = z.length > 3 ? Number(z.slice(-2)) : 0;
  if (hh > 23 || mm > 59) return null;
  return (z[0] === '-' ? -1 : 1) * (hh * 60 + mm);
}

function yearless(mo: number, d: number, h: number, mi: number, s: number, frac: string | undefined, zone: string, now: number): number | undefined {
  const wall = { month: mo, day: d, hour: h, minute: mi, second: s, ms: msOf(frac) };
  if (mo < 0 || !isPlausibleWallTime(wall)) return undefined;
  return plausible(inferYear(wall, zone, now));
}

function iso(m: RegExpExecArray, zone: string): number | undefined {
  const off = zoneOffset(m[8]);
  if (off === null) return undefined;
  return stamp(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7], zone, off);
}

/**
 * The timestamp a plain line starts with (or, for access logs, holds in its head). `anywhere`
 * false: only a stamp at the start (a JSON/logfmt time value).
 */
export function leadingTime(text: string, zone: string, now: number, anywhere = true): LeadingTime | null {
  const c = text.charCodeAt(0);
  let m: RegExpExecArray | null;
  let ts: number | undefined;
  if (c >= 48 && c <= 57) {
    const c4 = text.charCodeAt(4);
    if (c4 === 45 /* - */ && (m = ISO_RE.exec(text)) && (ts = iso(m, zone)) !== undefined) return { ts, end: m[0].length };
    if (c4 === 47 /* / */ && (m = SLASH_RE.exec(text)) && (ts = stamp(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7], zone)) !== undefined) {
      return { ts, end: m[0].length };
    }
    if (text.charCodeAt(2) === 45 && (m = JAVA_RE.exec(text)) && (ts = stamp(+m[3]!, monthIndex(m[2]!), +m[1]!, +m[4]!, +m[5]!, +m[6]!, m[7], zone)) !== undefined) {
      return { ts, end: m[0].length };
    }
    if ((m = REDIS_RE.exec(text)) && (ts = stamp(+m[3]!, monthIndex(m[2]!), +m[1]!, +m[4]!, +m[5]!, +m[6]!, m[7], zone)) !== undefined) {
      return { ts, end: m[0].length - 3, level: REDIS_LEVEL[m[8]!] };
    }
  } else if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) {
    const c1 = text.charCodeAt(1);
    if (c1 >= 48 && c1 <= 57) {
      if ((m = GLOG_RE.exec(text)) && (ts = yearless(+m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, m[7], zone, now)) !== undefined) {
        return { ts, end: m[0].length, level: GLOG_LEVEL[m[1]!] };
      }
    } else if ((m = BSD_RE.exec(text)) && (ts = yearless(monthIndex(m[1]!), +m[2]!, +m[3]!, +m[4]!, +m[5]!, m[6], zone, now)) !== undefined) {
      return { ts, end: m[0].length };
    }
  } else if (c === 91 /* [ */) {
    const c1 = text.charCodeAt(1);
    if (c1 >= 48 && c1 <= 57) {
      // [2026-12-06 23:40:46] (PHP, many Java layouts)
      const inner = leadingTime(text.slice(1), zone, now, false);
      if (inner && text.charCodeAt(inner.end + 1) === 93) return { ts: inner.ts, end: inner.end + 2, level: inner.level };
    } else if ((m = APACHE_ERR_RE.exec(text)) && (ts = stamp(+m[7]!, monthIndex(m[1]!), +m[2]!, +m[3]!, +m[4]!, +m[5]!, m[6], zone)) !== undefined) {
      return { ts, end: m[0].length };
    }
  }
  if (!anywhere) return null;
  const head = text.length > CLF_HEAD ? text.slice(0, CLF_HEAD) : text;
  if (head.indexOf('/') < 0 || (m = CLF_RE.exec(head)) === null) return null;
  const off = m[8] !== undefined ? (m[8][0] === '-' ? -1 : 1) * (Math.abs(+m[8]) * 60 + +m[9]!) : undefined;
  ts = stamp(+m[3]!, monthIndex(m[2]!), +m[1]!, +m[4]!, +m[5]!, +m[6]!, m[7], zone, off);
  return ts === undefined ? null : { ts, end: m.index + m[0].length };
}
