// Which keys of a structured line (JSON object, logfmt pairs) hold its message, level and time.
// Names are compared in lower case (journald writes MESSAGE); among several candidates the first
// name of each list whose value is readable wins, and only that key leaves the fields: a
// `level` of 35 or a `time` of "soon" stays a field, and the line keeps its other sources of truth.
import { levelFromValue } from './levels.js';
import { timeFromValue } from './timestamps.js';

const MESSAGE_KEYS = ['msg', 'message', 'log', 'text'];
const LEVEL_KEYS = ['level', 'lvl', 'severity', 'levelname', 'log.level', 'priority'];
const TIME_KEYS = ['time', 'ts', 'timestamp', '@timestamp', 'date', 't', '__realtime_timestamp'];
const RANK = new Map<string, number>();
MESSAGE_KEYS.forEach((k, i) => RANK.set(k, i));
LEVEL_KEYS.forEach((k, i) => RANK.set(k, 100 + i));
TIME_KEYS.forEach((k, i) => RANK.set(k, 200 + i));
const LONGEST = 20;
// Rank per key as written (-1: no role), so a log's repeated keys are lower-cased once, not per
// line (JSON.parse interns property names: the lookup hashes nothing new). Cleared when full.
const seen = new Map<string, number>();
const SEEN_MAX = 4096;

function rankOf(k: string): number {
  let r = seen.get(k);
  if (r === undefined) {
    r = k.length > LONGEST ? -1 : (RANK.get(k.toLowerCase()) ?? -1);
    if (seen.size >= SEEN_MAX) seen.clear();
    seen.set(k, r);
  }
  return r;
}

export interface Roles {
  message?: string;
  severity?: number;
  ts?: number;
  /** the keys that were used, to leave out of the fields */
  used: string[];
}

/** `keys` in line order, `value(key)` their values. */
export function pickRoles(keys: readonly string[], value: (key: string) => unknown, zone: string, now: number): Roles {
  // Candidates by rank; a line has a handful of them at most.
  let cands: Array<[number, string]> | undefined;
  for (const k of keys) {
    const r = rankOf(k);
    if (r >= 0) (cands ??= []).push([r, k]);
  }
  const out: Roles = { used: [] };
  if (cands === undefined) return out;
  if (cands.length > 1) cands.sort((a, b) => a[0] - b[0]);
  for (const [r, k] of cands) {
    const v = value(k);
    if (r < 100) {
      if (out.message !== undefined || typeof v !== 'string') continue;
      // Docker's json-file `log` ends with the line's newline.
      out.message = v.endsWith('\n') ? v.slice(0, v.endsWith('\r\n') ? -2 : -1) : v;
    } else if (r < 200) {
      if (out.severity !== undefined) continue;
      const sev = levelFromValue(v, r === 105);
      if (sev === undefined) continue;
      out.severity = sev;
    } else {
      if (out.ts !== undefined) continue;
      const ts = timeFromValue(v, zone, now);
      if (ts === undefined) continue;
      out.ts = ts;
    }
    out.used.push(k);
  }
  return out;
}
