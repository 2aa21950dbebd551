// How one id window of a full-text page is searched when the page also filters by host.
//
// FTS5 always drives (its matches come newest-first by rowid, so the LIMIT stops the walk),
// but the host of a match is in the logs row: checking it costs one table lookup per match
// (~2–3 µs, the pages are rarely cached), which is most of the work when the word is frequent
// and the host one of many (`q=publickey&host=web-042`: ~20 k lookups for 100 answers). The
// other way is to collect the host's ids in the window from the (host, ts) index first (a
// covering range scan, a fraction of a lookup per id) and keep only matches in that set, so
// only the answers are looked up. Which is cheaper depends on how many matches and how many
// host lines the window holds; both are counted with bounded probes (FTS5 seeks a rowid range
// in a doclist cheaply once the bounds are integers, see RowidBounds below).
//
// A host with few lines in the window (a quiet server among chatty ones) and a frequent word
// make both ways walk every match of the word in the window to find a handful of answers (a
// word in 10 % of 10 M lines: ~1 M matches, the whole 250 ms budget, for a page that comes back
// incomplete). Then the host's own lines are read instead ('host': from the (host, ts) index)
// and checked against the search by FTS5 itself (num-plan.ts matchChecker): ~13 µs a line
// against ~0.2 µs a match walked, so it is chosen when the matches a walk would read before
// `need` answers outnumber the host's lines ROW_CHECK_PER_MATCH times, counted by a probe
// bounded at that many.
//
// The (host, ts) index is ordered by time, not id: the window's ids are mapped to the hours
// whose lines they can hold through log_spans (every line's id lies within its hour's span),
// which is a superset, so the set is exact after the id range check.
import type { Db } from './open.js';

const SPAN_MS = 3_600_000;
/** a table lookup per match costs about this many host-index entries collected into the set */
const LOOKUP_PER_SET_ENTRY = 10;
/** a host set of at most this many ids is built without asking whether it pays off (~1–2 ms at most) */
const SMALL_SET = 16_384;
/** matches counted per window at most, to decide; more only confirms that there are many */
const MATCH_PROBE_CAP = 4096;
/** a host line read and checked costs about this many matches walked (10 M lines: ~13 µs vs ~0.2 µs) */
const ROW_CHECK_PER_MATCH = 64;
/** the host's lines in a window are read and checked only up to this many (probe ≤ 16,384 matches) */
export const HOST_FIRST_MAX = 256;

/**
 * better-sqlite3 binds JS numbers as REAL, and FTS5 ignores a rowid bound that is not an
 * INTEGER (fts5GetRowidLimit): the bound was then checked row by row after walking the whole
 * doclist from its newest end (17 ms for a word in 1 M lines, per statement). The casts make
 * FTS5 seek (0.1 ms).
 */
export const ROWID_IN_WINDOW = 'f.rowid >= CAST(@wlo AS INTEGER) AND f.rowid <= CAST(@whi AS INTEGER)';

/** 'host': read the host's lines with ids in [lo, the window's hi] (lo is the window's, or lower: see plan) */
export type WindowPlan = { kind: 'skip' } | { kind: 'scan' } | { kind: 'member'; hlo: number; hhi: number } | { kind: 'host'; hlo: number; hhi: number; lo: number };
/** 'token' (and 'auto') search lines that have host tokens by them (host-tokens.ts); the others only older lines' way */
export type PlanChoice = 'auto' | 'scan' | 'member' | 'host' | 'token';

export interface WindowArgs {
  q: string;
  host: string;
  lo: number;
  hi: number;
  /** the page's own time range, if any */
  start?: number;
  end?: number;
  /** answers still wanted */
  need: number;
  /** the lowest id the page searches (default lo): a host with few lines down to it is read at once */
  bottom?: number;
}

export function hostWindowPlanner(db: Db, choice: PlanChoice = 'auto') {
  const countMatches = db
    .prepare('SELECT count(*) FROM (SELECT 1 FROM logs_fts f WHERE logs_fts MATCH @q AND ' + ROWID_IN_WINDOW + ' LIMIT @cap)')
    .pluck();
  const countHost = db
    .prepare('SELECT count(*) FROM (SELECT 1 FROM logs INDEXED BY logs_host_ts WHERE host = @host AND ts >= @hlo AND ts < @hhi AND id >= @wlo AND id <= @whi LIMIT @cap)')
    .pluck();
  const hoursOf = db.prepare('SELECT min(bucket) AS blo, max(bucket) AS bhi FROM log_spans WHERE max_id >= ? AND min_id <= ?');

  /** The times of the lines with ids in [lo, hi], as a half-open range (a superset). */
  function timesOf(a: WindowArgs): [number, number] | null {
    const h = hoursOf.get(a.lo, a.hi) as { blo: number | null; bhi: number | null };
    if (h.blo === null || h.bhi === null) return null;
    // buckets truncate toward zero, so bucket 0 holds (-1 h, 1 h); one hour of margin each side
    let hlo = (h.blo - 1) * SPAN_MS;
    let hhi = (h.bhi + 1) * SPAN_MS + 1;
    if (a.start !== undefined) hlo = Math.max(hlo, a.start);
    if (a.end !== undefined) hhi = Math.min(hhi, a.end);
    return [hlo, hhi];
  }

  /**
   * The 'host' plan for the window, extended down to `bottom` when the host has at most
   * HOST_FIRST_MAX lines there too: a quiet host's lines over the whole range are one read and
   * one check instead of one per window (10 M lines, a host of 1,000: 10 windows).
   */
  function readHost(a: WindowArgs, hlo: number, hhi: number): WindowPlan {
    if (a.bottom !== undefined && a.bottom < a.lo) {
      const all = timesOf({ ...a, lo: a.bottom });
      if (all !== null) {
        const n = countHost.get({ host: a.host, hlo: all[0], hhi: all[1], wlo: a.bottom, whi: a.hi, cap: HOST_FIRST_MAX + 1 }) as number;
        if (n <= HOST_FIRST_MAX) return { kind: 'host', hlo: all[0], hhi: all[1], lo: a.bottom };
      }
    }
    return { kind: 'host', hlo, hhi, lo: a.lo };
  }

  return function plan(a: WindowArgs): WindowPlan {
    if (choice === 'scan') return { kind: 'scan' };
    const times = timesOf(a);
    // no span covers the window: nothing to map the ids to hours with, so check every row
    if (times === null) return { kind: 'scan' };
    const [hlo, hhi] = times;
    if (choice === 'member') return { kind: choice, hlo, hhi };
    if (choice === 'host') return { kind: choice, hlo, hhi, lo: a.lo };
    const host = { host: a.host, hlo, hhi, wlo: a.lo, whi: a.hi };
    // a small set costs less than the probe that would tell whether it pays off
    const few = countHost.get({ ...host, cap: SMALL_SET + 1 }) as number;
    if (few === 0) return { kind: 'skip' };
    if (few <= HOST_FIRST_MAX) {
      // matches a walk reads before `need` answers if the host's lines mix evenly with the others
      const walk = (a.need * (a.hi - a.lo + 1)) / few;
      const cap = few * ROW_CHECK_PER_MATCH;
      if (walk > cap) {
        const m = countMatches.get({ q: a.q, wlo: a.lo, whi: a.hi, cap }) as number;
        if (m === 0) return { kind: 'skip' };
        if (m >= cap) return readHost(a, hlo, hhi);
      }
    }
    if (few <= SMALL_SET) return { kind: 'member', hlo, hhi };
    const m = countMatches.get({ q: a.q, wlo: a.lo, whi: a.hi, cap: MATCH_PROBE_CAP }) as number;
    if (m === 0) return { kind: 'skip' };
    // the set pays off only when it is smaller than LOOKUP_PER_SET_ENTRY × the lookups it saves
    const h = countHost.get({ ...host, cap: LOOKUP_PER_SET_ENTRY * m + 1 }) as number;
    // matches a scan looks up before `need` of them are the host's, if hosts mix evenly
    const scanned = Math.min(m, (a.need * (a.hi - a.lo + 1)) / h);
    return h < LOOKUP_PER_SET_ENTRY * scanned ? { kind: 'member', hlo, hhi } : { kind: 'scan' };
  };
}
