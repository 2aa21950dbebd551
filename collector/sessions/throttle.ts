// Failed-credential throttling, the same for the sign-in form and for bearer tokens on every
// route (collector/plugins/auth.ts): a token that matches nothing is a failure, counted per
// client address (an IPv6 address by its /64, which one host usually owns whole).
//
// Per client: 10 failures in 15 min and the address is refused (429) until the oldest leaves the
// window, whatever it presents next, a valid token included: answering a valid token while
// refusing wrong ones would tell a guesser which guess was right, so the limit would be none.
//
// Global: ringtail's credential is a token with no user name, so "per account" (ASVS V2.2.1: at
// most 100 failed attempts per hour) is the whole collector. Past 100 failures an hour it does
// not refuse everyone (that let anyone lock every operator out): it refuses only addresses with
// a failure of their own in their window, so a distributed guess gets one try per address per
// 15 min instead of ten, and a valid token from an address that has not failed always passes.
// The trade-off: an attacker with many addresses can exceed 100 guesses an hour; a generated
// token (192 random bits) makes that harmless, a weak --admin-token does not (README, "Failed
// credentials").
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

/** Addresses remembered at most; past it the oldest are forgotten (a spray of addresses). */
const MAX_CLIENTS = 100_000;
/** The global window counts in this many buckets, so its memory is fixed whatever the rate. */
const GLOBAL_BUCKETS = 60;

export interface CredentialThrottle {
  /** ms before a client at this address may present a credential again, or 0 */
  retryAfter(address: string, now: number): number;
  /** a credential from this address matched no token */
  fail(address: string, now: number): void;
}

/** The key a client is counted under: IPv4 (also IPv4-mapped) as is, IPv6 by its /64 prefix. */
export function clientKey(ip: string): string {
  if (!ip.includes(':')) return ip;
  if (ip.startsWith('::ffff:') && ip.includes('.')) return ip.slice(7);
  const bare = ip.split('%')[0]!.toLowerCase();
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const halves = bare.split('::');
  const head = groups(halves[0]!);
  const tail = halves.length > 1 ? groups(halves[1]!) : [];
  const width = (g: string[]) => g.reduce((n, x) => n + (x.includes('.') ? 2 : 1), 0);
  const all = [...head, ...Array<string>(Math.max(0, 8 - width(head) - width(tail))).fill('0'), ...tail];
  return all.slice(0, 4).map((g) => (parseInt(g, 16) || 0).toString(16)).join(':') + '::/64';
}

export function createCredentialThrottle(limits: ThrottleLimits = DEFAULT_THROTTLE): CredentialThrottle {
  const perClient = new Map<string, number[]>();
  const global = bucketedWindow(limits.globalWindowMs);
  const prune = (list: number[], now: number) => {
    while (list.length && list[0]! <= now - limits.perClientWindowMs) list.shift();
  };
  return {
    retryAfter(address, now) {
      // the common case, on every bearer request: no client has failed lately
      if (perClient.size === 0) return 0;
      const client = clientKey(address);
      const mine = perClient.get(client);
      if (mine === undefined) return 0;
      prune(mine, now);
      if (mine.length === 0) {
        perClient.delete(client);
        return 0;
      }
      let until = mine.length >= limits.perClient ? mine[mine.length - limits.perClient]! + limits.perClientWindowMs : 0;
      const globalUntil = global.belowAt(limits.global, now);
      if (globalUntil > 0) until = Math.max(until, Math.min(globalUntil, mine[mine.length - 1]! + limits.perClientWindowMs));
      return until > now ? until - now : 0;
    },
    fail(address, now) {
      const client = clientKey(address);
      global.add(now);
      let mine = perClient.get(client);
      if (!mine) perClient.set(client, (mine = []));
      mine.push(now);
      if (perClient.size > MAX_CLIENTS) {
        for (const [k, v] of perClient) {
          prune(v, now);
          if (v.length === 0) perClient.delete(k);
        }
        // still too many: forget the longest-known addresses (Map order is insertion order)
        for (const k of perClient.keys()) {
          if (perClient.size <= MAX_CLIENTS * 0.9) break;
          perClient.delete(k);
        }
      }
    },
  };
}

/** Failures in a sliding window, counted per 1/60 of it (a failure ages out up to one bucket late). */
function bucketedWindow(windowMs: number) {
  const width = windowMs / GLOBAL_BUCKETS;
  const starts = new Array<number>(GLOBAL_BUCKETS).fill(-1);
  const counts = new Array<number>(GLOBAL_BUCKETS).fill(0);
  return {
    add(now: number): void {
      const b = Math.floor(now / width);
      const i = b % GLOBAL_BUCKETS;
      if (starts[i] !== b) {
        starts[i] = b;
        counts[i] = 0;
      }
      counts[i]!++;
    },
    /** when the count falls below `limit` (a time), or 0 when it is below already */
    belowAt(limit: number, now: number): number {
      const live: Array<[number, number]> = [];
      let total = 0;
      for (let i = 0; i < GLOBAL_BUCKETS; i++) {
        const b = starts[i]!;
        if (b >= 0 && (b + 1) * width + windowMs > now) {
          live.push([b, counts[i]!]);
          total += counts[i]!;
        }
      }
      if (total < limit) return 0;
      live.sort((x, y) => x[0] - y[0]);
      for (const [b, n] of live) {
        total -= n;
        if (total < limit) return (b + 1) * width + windowMs;
      }
      return 0;
    },
  };
}
