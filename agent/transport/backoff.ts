// Exponential backoff with jitter for retries: the wait doubles from 0.5 s up to the cap, and
// each wait is drawn from its upper half so that many agents behind one recovering collector
// do not retry in step.
export function backoffMs(attempt: number, capMs = 30_000, random: () => number = Math.random): number {
  const cap = Math.min(capMs, 500 * 2 ** Math.min(attempt, 16));
  return Math.round(cap / 2 + (random() * cap) / 2);
}
