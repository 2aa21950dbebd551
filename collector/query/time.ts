// Time parameters of every read API (logs, histogram, live tail, series, alert history), in
// the forms scripts and people write them:
//   - RFC 3339 / ISO 8601: 2026-12-06T23:40:46Z, 2026-12-06T23:40:46.123+01:00, 2026-12-06
//     (a date or time without a zone is UTC: the collector's own zone would make a URL mean
//     different times on different servers);
//   - a number: milliseconds since the epoch, or seconds (rrdtool, Prometheus, `date +%s`) when
//     below 10^11 — 10^11 ms is 1973-03-03, 10^11 s the year 5138, so no time anyone means is
//     ambiguous; seconds may have a fraction (1796601170.25);
//   - relative to the collector's clock: now, now-15m, now+1h, -1h, -7d, now-1h30m
//     (units ms, s, m, h, d, w).
// A time outside 1970-01-01 … 9999-12-31 is refused rather than clamped, so a typo cannot turn
// into a range that silently counts nothing.
import { ErrorCodes, RingtailError } from '../../shared/errors.js';

export const SECONDS_BELOW = 1e11;
export const MIN_TIME_MS = 0;
/** 9999-12-31T23:59:59.999Z */
export const MAX_TIME_MS = 253_402_300_799_999;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const RELATIVE = /^(now)?(?:([+-])((?:\d{1,9}(?:ms|s|m|h|d|w))+))?$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|z|[+-]\d{2}:?\d{2})?)?$/;

const FORMS = 'an RFC 3339 time, ms or s since the epoch, or a relative time such as now, now-15m or -1h';

function bad(name: string, raw: string, why = `expected ${FORMS}`): RingtailError {
  const shown = raw.length > 64 ? raw.slice(0, 64) + '…' : raw;
  return new RingtailError(ErrorCodes.BAD_QUERY, `${name}: ${why}, got '${shown}'`, 400, { parameter: name });
}

function relative(raw: string): number | null {
  const m = RELATIVE.exec(raw);
  if (!m || (m[1] === undefined && m[2] === undefined)) return null;
  // `-1h` and `now-1h` alike; a bare `+1h` means now+1h
  if (m[2] === undefined) return 0;
  let ms = 0;
  for (const part of m[3]!.matchAll(/(\d+)(ms|s|m|h|d|w)/g)) ms += Number(part[1]) * UNIT_MS[part[2]!]!;
  return m[2] === '-' ? -ms : ms;
}

/** ms since the epoch, or undefined when the parameter is absent or empty. Throws a 400 naming `name`. */
export function parseTimeParam(name: string, raw: string | undefined, now: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const text = raw.trim();
  let t: number;
  const rel = relative(text);
  if (rel !== null) {
    t = now + rel;
  } else if (/^\d{1,20}(\.\d{1,9})?$/.test(text)) {
    const n = Number(text);
    t = n < SECONDS_BELOW ? Math.round(n * 1000) : Math.round(n);
  } else {
    const m = ISO.exec(text);
    if (!m) throw bad(name, raw);
    const zoned = m[4] === undefined ? `${text}T00:00:00Z` : m[7] === undefined ? `${text.replace(' ', 'T')}Z` : text.replace(' ', 'T');
    t = Date.parse(zoned);
    if (Number.isNaN(t)) throw bad(name, raw, 'not a valid date or time');
    // Date.parse rolls 2026-02-30 over to March; a date that does not exist is a mistake
    const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (day.getUTCMonth() + 1 !== Number(m[2]) || day.getUTCDate() !== Number(m[3])) throw bad(name, raw, 'not a valid date or time');
  }
  if (!Number.isFinite(t) || t < MIN_TIME_MS || t > MAX_TIME_MS) throw bad(name, raw, 'time out of range (1970-01-01 to 9999-12-31)');
  return t;
}
