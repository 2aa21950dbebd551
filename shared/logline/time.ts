// Timestamps of the syslog formats. RFC 3164 stamps have no year and no zone: the zone comes from
// configuration and the year is the one that puts the line at most FUTURE_WINDOW_MS after the
// time of reading, so a "Dec 31" line read on Jan 1 lands in the previous year and a "Jan  1"
// line read on Dec 31 (a sender whose clock runs a little ahead) in the next.
import { wallToEpoch, yearIn } from './zone.js';

export const FUTURE_WINDOW_MS = 31 * 86_400_000;

const MONTHS = new Map(['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((m, i) => [m, i]));
const MAX_DAY = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Month index 0…11 of a three-letter English abbreviation in any case, or -1. */
export function monthIndex(name: string): number {
  return MONTHS.get(name.toLowerCase()) ?? -1;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysIn(y: number, month: number): number {
  return month === 1 ? (isLeap(y) ? 29 : 28) : MAX_DAY[month]!;
}

export interface WallTime {
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

/** False for fields no calendar has (Apr 31, 25:00); Feb 29 is valid (in leap years). */
export function isPlausibleWallTime(w: WallTime): boolean {
  return (
    w.month >= 0 && w.month < 12 && w.day >= 1 && w.day <= MAX_DAY[w.month]! &&
    w.hour < 24 && w.minute < 60 && w.second <= 60
  );
}

let yearZone = '';
let yearNow = NaN;
let yearAtNow = 0;

/**
 * Epoch ms of a year-less wall time written in `zone`: the latest occurrence that is not more
 * than FUTURE_WINDOW_MS after `now`. Feb 29 goes back to the last leap year that qualifies.
 */
export function inferYear(w: WallTime, zone: string, now: number): number {
  // The agent parses a chunk of lines with one `now`: its year in the zone is asked once.
  if (zone !== yearZone || now !== yearNow) {
    yearAtNow = yearIn(zone, now); // may throw (unknown zone): the key is set after it
    yearZone = zone;
    yearNow = now;
  }
  return inferYearFrom(w, zone, now, yearAtNow);
}

/** inferYear without the cached year of `now` (tests compare the two). */
export function inferYearUncached(w: WallTime, zone: string, now: number): number {
  return inferYearFrom(w, zone, now, yearIn(zone, now));
}

function inferYearFrom(w: WallTime, zone: string, now: number, year: number): number {
  // A leap second (:60) is stored as :59.999 so the line still sorts before the next second.
  const second = Math.min(w.second, 59);
  const ms = w.second === 60 ? 999 : w.ms;
  let last = NaN;
  for (let y = year + 1; y >= year - 8; y--) {
    if (w.day > daysIn(y, w.month)) continue;
    last = wallToEpoch(zone, y, w.month, w.day, w.hour, w.minute, second, ms);
    if (last <= now + FUTURE_WINDOW_MS) return last;
  }
  return last;
}

const RFC3339_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})?$/;

/**
 * The second of the last stamp read: its first 19 characters (date and time to the second), its
 * zone suffix and the configured zone, and the epoch ms they make. A sender's stamps share their
 * second with the stamp before nearly always (100,000 lines a second are 100,000 stamps of one
 * second), so the next only has its fraction read: the regex, nine strings and the calendar
 * arithmetic per stamp were ~9 % of the syslog receiver's main thread per RFC 5424 line.
 */
let memoHead = '';
let memoTail = '';
let memoZone = '';
let memoBase = 0;

/**
 * An RFC 3339 timestamp (RFC 5424's TIMESTAMP, Debian 12's file stamp) to epoch ms; a stamp
 * without zone is read in `zone`. Null when malformed or out of range.
 */
export function parseRfc3339(text: string, zone: string): number | null {
  if (text.length >= 19 && zone === memoZone && text.startsWith(memoHead)) {
    // `.fraction` (1–9 digits) and then exactly the zone suffix of the memo, or no fraction
    let at = 19;
    let ms = 0;
    if (text.charCodeAt(19) === 46 /* . */) {
      at = 20;
      let scale = 100;
      while (at < text.length && at < 29) {
        const d = text.charCodeAt(at) - 48;
        if (d < 0 || d > 9) break;
        ms += d * scale;
        scale /= 10;
        at++;
      }
      if (at === 20) return parseRfc3339Full(text, zone);
    }
    if (text.length - at === memoTail.length && text.endsWith(memoTail)) return memoBase + Math.floor(ms);
  }
  return parseRfc3339Full(text, zone);
}

/** parseRfc3339 without the memo (tests compare the two). */
export function parseRfc3339Uncached(text: string, zone: string): number | null {
  const m = RFC3339_RE.exec(text);
  if (!m) return null;
  const y = Number(m[1]);
  const month = Number(m[2]) - 1;
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  if (month < 0 || month > 11 || day < 1 || day > daysIn(y, month) || hour > 23 || minute > 59 || second > 60) return null;
  const sec = Math.min(second, 59);
  const msec = second === 60 ? 999 : ms;
  const z = m[8];
  if (z === undefined) return wallToEpoch(zone, y, month, day, hour, minute, sec, msec);
  const wall = Date.UTC(y, month, day, hour, minute, sec, msec);
  if (z === 'Z' || z === 'z') return wall;
  const oh = Number(z.slice(1, 3));
  const om = Number(z.slice(4, 6));
  if (oh > 23 || om > 59) return null;
  const off = (oh * 60 + om) * 60_000 * (z[0] === '-' ? -1 : 1);
  return wall - off;
}

/** Parses the stamp and remembers its second (not a leap second: :60 is stored as :59.999). */
function parseRfc3339Full(text: string, zone: string): number | null {
  const ts = parseRfc3339Uncached(text, zone);
  if (ts === null || text.charCodeAt(17) === 54 /* 6 of :60 */) return ts;
  const m = RFC3339_RE.exec(text)!;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  memoHead = text.slice(0, 19);
  memoTail = m[8] ?? '';
  memoZone = zone;
  memoBase = ts - ms;
  return ts;
}
