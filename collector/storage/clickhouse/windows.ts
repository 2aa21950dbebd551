// Newest-first pages without reading every day. A page is the top of (ts desc, id desc), but
// the table is sorted by (host, ts, …), so ClickHouse cannot read it in that order: it read
// every day of the table to keep the newest 101 matches (a common word: all 200,000 rows of
// the search benchmark, 2 of 30 days would have done). The page is asked day windows at a
// time instead, newest first, from the days that hold parts (system.parts, metadata only):
// the newest day, then the 7 before it, then everything older, stopping as soon as the page
// is full. Windows are ts ranges that touch end to end, so rows of one ts never straddle two
// and the concatenated answers are the single query's answer; the last window has no lower
// bound, so a line in an unexpected partition is still found.
import type { ClickHouseClient } from '@clickhouse/client';

export const DAY_MS = 86_400_000;
/** days in the windows after the first (the rest, unbounded, comes last) */
const SECOND_WINDOW_DAYS = 7;
/** with fewer days than this to read, one query reads them all */
const MIN_DAYS = 3;

/** how long a store reuses the list of days (ms) */
export const DAYS_TTL_MS = 10_000;

/**
 * partitionDays, read again at most every DAYS_TTL_MS: the days only place the window
 * bounds, and a stale list costs reading more, never a wrong page (a day added since is above
 * the first bound, which has no upper limit; a dropped one bounds an empty window).
 */
export function cachedPartitionDays(client: ClickHouseClient, now = () => Date.now()): () => Promise<number[]> {
  let days: Promise<number[]> | undefined;
  let at = 0;
  return () => {
    if (!days || now() - at >= DAYS_TTL_MS) {
      at = now();
      days = partitionDays(client).catch((err: unknown) => {
        days = undefined;
        throw err;
      });
    }
    return days;
  };
}

/** the days (partition ids: intDiv(ts, DAY_MS)) of the active parts of logs, newest first */
export async function partitionDays(client: ClickHouseClient): Promise<number[]> {
  const rs = await client.query({
    query: `SELECT DISTINCT partition_id AS d FROM system.parts WHERE database = currentDatabase() AND table = 'logs' AND active`,
    format: 'JSONEachRow',
  });
  return ((await rs.json()) as Array<{ d: string }>)
    .map((r) => Number(r.d))
    .filter((d) => Number.isSafeInteger(d))
    .sort((a, b) => b - a);
}

/**
 * The lower bounds (ts, inclusive) of the windows of a page newest first: window k holds
 * bounds[k] <= ts < bounds[k-1] (the first none above, the last none below: there is one window
 * more than bounds). `upper`/`lower` are the page's own inclusive ts limits, if any.
 */
export function windowBounds(days: number[], upper?: number, lower?: number): number[] {
  const inRange = days.filter((d) => (upper === undefined || d * DAY_MS <= upper) && (lower === undefined || (d + 1) * DAY_MS > lower));
  if (inRange.length < MIN_DAYS) return [];
  const bounds = [inRange[0]! * DAY_MS];
  if (inRange.length > SECOND_WINDOW_DAYS + 1) bounds.push(inRange[SECOND_WINDOW_DAYS]! * DAY_MS);
  return bounds;
}
