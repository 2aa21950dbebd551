// Failed-login throttling: a sliding window per client address and one for the whole
// collector. Ringtail's credential is a token with no user name, so "per account" (ASVS
// V2.2.1: at most 100 failed attempts per hour) becomes the global window: a distributed guess
// at a weak operator-chosen --admin-token is capped too. Only the login form is throttled;
// existing sessions and bearer-token clients keep working while it is.
export interface ThrottleLimits {
  perClient: number;
  perClientWindowMs: number;
  global: number;
  globalWindowMs: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = {
  perClient: 10,
  perClientWindowMs: 15 * 60_000,
  global: 100,
  globalWindowMs: 3600_000,
};

export interface LoginThrottle {
  /** ms to wait before another attempt is allowed, or 0 */
  retryAfter(client: string, now: number): number;
  fail(client: string, now: number): void;
}

export function createLoginThrottle(limits: ThrottleLimits = DEFAULT_THROTTLE): LoginThrottle {
  const perClient = new Map<string, number[]>();
  const global: number[] = [];
  const prune = (list: number[], windowMs: number, now: number) => {
    while (list.length && list[0]! <= now - windowMs) list.shift();
  };
  const wait = (list: number[], max: number, windowMs: number) => (list.length >= max ? list[list.length - max]! + windowMs : 0);
  return {
    retryAfter(client, now) {
      prune(global, limits.globalWindowMs, now);
      const mine = perClient.get(client) ?? [];
      prune(mine, limits.perClientWindowMs, now);
      if (mine.length === 0) perClient.delete(client);
      const until = Math.max(wait(mine, limits.perClient, limits.perClientWindowMs), wait(global, limits.global, limits.globalWindowMs));
      return until > now ? until - now : 0;
    },
    fail(client, now) {
      global.push(now);
      let mine = perClient.get(client);
      if (!mine) perClient.set(client, (mine = []));
      mine.push(now);
      // Bound memory under a spray of source addresses: the global window caps the useful state.
      if (perClient.size > 10_000) {
        for (const [k, v] of perClient) {
          prune(v, limits.perClientWindowMs, now);
          if (v.length === 0) perClient.delete(k);
        }
      }
    },
  };
}
