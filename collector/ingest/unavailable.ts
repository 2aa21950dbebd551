// 503s that say when to come back. A collector whose disk is full or whose writer has more
// queued than it commits in a few seconds refuses new batches instead of piling them up in
// memory, and tells the sender, in `Retry-After`, when trying again is worth it: a thousand
// agents retrying on their own short backoff would hammer a collector that is already failing.
// The agent honours the header (and keeps its own exponential backoff as the floor).
import { ErrorCodes, RingtailError } from '../../shared/errors.js';

/** a full disk frees up when an operator (or retention) acts: not within seconds */
export const DISK_FULL_RETRY_S = 30;
/** any other commit failure (the writer thread died, an I/O error) */
export const STORAGE_RETRY_S = 5;
/** the most a saturated writer asks a sender to wait */
export const MAX_SATURATED_RETRY_S = 30;

/** A RingtailError that is a 503 with a Retry-After (app.ts sets the header). */
export class UnavailableError extends RingtailError {
  constructor(
    message: string,
    /** seconds, for the Retry-After header */
    readonly retryAfterS: number,
    /** what ringtail_events_total{event="ingest.unavailable"} and the log say */
    readonly reason: 'disk_full' | 'storage' | 'saturated',
  ) {
    super(ErrorCodes.STORAGE, message, 503);
    this.name = 'UnavailableError';
  }
}

const DISK_FULL = /SQLITE_FULL|database or disk is full|ENOSPC|no space left on device/i;

export function isDiskFull(err: unknown): boolean {
  return DISK_FULL.test(String((err as Error)?.message ?? err)) || (err as { code?: string })?.code === 'SQLITE_FULL';
}

/** The 503 for a commit (or series creation) that failed: nothing of it is acknowledged. */
export function storageUnavailable(what: string, err: unknown): UnavailableError {
  // already a 503 that says why (an unreachable ClickHouse: collector/storage/clickhouse/connection.ts)
  if (err instanceof UnavailableError) return err;
  const msg = (err as Error)?.message ?? String(err);
  if (isDiskFull(err)) return new UnavailableError(`disk full: ${what} could not be stored, retry later: ${msg}`, DISK_FULL_RETRY_S, 'disk_full');
  return new UnavailableError(`storage could not commit ${what}, retry later: ${msg}`, STORAGE_RETRY_S, 'storage');
}

/**
 * The 503 of a writer whose queue would pass its bound: Retry-After is the time the groups ahead
 * take (`groupsAhead` × a group's recent time, in seconds, 1 to MAX_SATURATED_RETRY_S).
 */
export function writerSaturated(queued: number, max: number, groupsAhead: number, groupMs: number, what: string): UnavailableError {
  const s = Math.min(MAX_SATURATED_RETRY_S, Math.max(1, Math.ceil((groupsAhead * groupMs) / 1000)));
  return new UnavailableError(`the writer is saturated (${queued} queued, at most ${max}): ${what} was not stored, retry in ${s} s`, s, 'saturated');
}
