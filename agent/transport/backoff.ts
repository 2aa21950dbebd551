// Exponential backoff with jitter for retries: the wait doubles from 0.5 s up to the cap, and
// each wait is drawn from its upper half so that many agents behind one recovering collector
// do not retry in step.
export function backoffMs(attempt: number, capMs = 30_000, random: () => number = Math.random): number {
  const cap = Math.min(capMs, 500 * 2 ** Math.min(attempt, 16));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

/**
 * A Retry-After header (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) as ms from `now`;
 * undefined when absent or unreadable. A date in the past is 0.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Math.min(Number(v), 1e9) * 1000;
  // Every HTTP-date form starts with the day's name; Date.parse alone takes '-5' or '1.5' as dates.
  if (!/^[A-Za-z]{3,9},? /.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * The retry policy of one sender (the log shipper, the metrics runner). A failed attempt is
 * followed by the exponential wait; a Retry-After from the collector lengthens it, never shortens
 * it, and is itself bounded by the cap (`transport.backoff_max_ms`): the operator's longest wait is
 * the longest wait, so a collector that asks for an hour (or a broken clock in an HTTP-date) does
 * not silence the agent for that long.
 */
export class Backoff {
  private n = 0;

  constructor(
    readonly capMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** failed attempts since the last success */
  get attempts(): number {
    return this.n;
  }

  /** The wait before the next attempt, after one that failed (`retryAfterMs`: what the collector asked). */
  next(retryAfterMs?: number): number {
    const drawn = backoffMs(this.n++, this.capMs, this.random);
    return retryAfterMs === undefined ? drawn : Math.max(drawn, Math.min(retryAfterMs, this.capMs));
  }

  /** An attempt succeeded: the next failure starts from the shortest wait again. */
  reset(): void {
    this.n = 0;
  }
}
