// The narrow data sources the evaluator reads. Each kind of rule needs one question answered per
// (rule, host); adapters map those questions onto whichever store holds the answer, so the
// evaluator does not care whether metrics live in the round-robin store or elsewhere.
import { QueryError, validateSearch } from '../query/lang/index.js';
import { SYNC_LOGS, type Storage } from '../storage/types.js';
import { consolidate } from './consolidate.js';
import { CHECK_SERIES, checkVerdict } from './metric-sources.js';

export type CF = 'AVERAGE' | 'MIN' | 'MAX' | 'LAST';

export interface HostSeen {
  host: string;
  /** last time anything arrived from the host (ms), null when unknown */
  lastSeen: number | null;
  /** the host reports at an interval (an agent sending metrics), so its silence means down */
  reports?: boolean;
  /** lifecycle state (collector/hosts/), when the host registry is there; retired hosts are never listed */
  state?: 'up' | 'stale' | 'down';
  /** the host's agent declared it short-lived */
  ephemeral?: boolean;
  /** what it was heard through: 'logs' (agent), 'metrics' (agent), 'syslog'; only hosts with
   * 'metrics' declare an interval (a quiet syslog sender is not necessarily a dead one) */
  sources?: string[];
}

export type CheckType = 'process' | 'http' | 'tcp';

export interface CheckOptions {
  /** down only when this many consecutive results are down */
  samples?: number;
  types?: readonly CheckType[];
}

/** The host registry as the alert sources see it (collector/hosts/registry.ts). */
export interface LiveHosts {
  live(): Array<{ host: string; last_seen: number; state: string; ephemeral: boolean; sources: string[] }>;
  /** whether the registry knows the host at all (a retired one included) */
  has?(host: string): boolean;
}

export interface AlertSources {
  /** every host a rule without a host glob applies to */
  hosts(): HostSeen[];
  /**
   * the series consolidated over the last `windowSec` seconds; null when there is no data;
   * undefined when the answer is not ready yet (then the instance keeps its state this cycle)
   */
  seriesWindow(host: string, metric: string, cf: CF, windowSec: number, now: number, minSpanMs?: number): number | null | undefined;
  /** time of the last update of a series (ms), null when unknown, undefined when not ready */
  seriesLastUpdate(host: string, metric: string, now: number): number | null | undefined;
  /** times and values of the last `windowSec` seconds (for trends); same null/undefined meaning */
  seriesPoints(host: string, metric: string, windowSec: number, now: number): { t: number[]; v: number[] } | null | undefined;
  /** keys of every series of a metric name the host sent (`df.used_pct{mount=/}` …) */
  seriesKeys(host: string, name: string): Iterable<string>;
  /** lines matching a search (collector/query/lang) since `sinceMs`, counted up to `cap`; undefined when not read yet */
  countLogs(query: string, host: string, sinceMs: number, cap: number): number | undefined;
  /** time of the newest line of one host, optionally of one source (ms); undefined when not read yet */
  lastLogAt(host: string, source?: string): number | null | undefined;
  /**
   * Reads, before a cycle at `now`, what it will ask of an asynchronous store (the log store):
   * `plan` says which questions, given the hosts. Sources that answer synchronously omit it.
   */
  prepare?(now: number, plan: (hosts: HostSeen[]) => LogReads): Promise<void>;
  /** latest result of a process/HTTP/TCP check */
  checkStatus(host: string, check: string, now: number, opts?: CheckOptions): 'up' | 'down' | null | undefined;
  /** throws SourceError when a log rule's query cannot run */
  validateLogQuery(query: string): void;
}

/** The log-store questions of one cycle (Evaluator.logReads). */
export interface LogReads {
  counts: Array<{ query: string; host: string; sinceMs: number; cap: number }>;
  last: Array<{ host: string; source: string }>;
}

/** Raised to the evaluator when a rule's question cannot be answered (e.g. a bad search). */
export class SourceError extends Error {
  constructor(
    message: string,
    /** for a search that cannot be read: where, as in the logs API's 400 */
    readonly position?: number,
  ) {
    super(message);
  }
}

/**
 * Checks a log rule's query with the search parser, the same check as GET /api/v1/logs, the
 * histogram and the live tail (collector/query/lang), so a rule cannot hold a search the log
 * pages would refuse.
 */
export function checkLogQuery(query: string): void {
  try {
    validateSearch(query);
  } catch (err) {
    if (err instanceof QueryError) throw new SourceError(`invalid search: ${err.reason}`, err.position);
    throw err;
  }
}

/**
 * Logs and hosts from the collector's log store; metrics and checks answer "no data" until a
 * metric store is plugged in.
 *
 * The log store is asynchronous (it may be ClickHouse) and a cycle is one synchronous step, so
 * the store is read before the cycle (`prepare`, with the evaluator's logReads): counts, newest
 * lines and the host list are kept for the cycle that follows (the last two preparations, so
 * that a periodic cycle and one on arrival prepared at nearly the same time both find theirs).
 * A question nobody prepared (a test driving cycle() by hand) is answered by the store itself
 * when it can answer synchronously (SQLite), and otherwise "not read yet" (undefined: the
 * instance keeps its state this cycle).
 */
export function logStoreSources(
  storage: Storage,
  metrics?: Partial<Pick<AlertSources, 'seriesWindow' | 'seriesLastUpdate' | 'seriesPoints' | 'seriesKeys' | 'checkStatus'>> & { hosts?(now: number): HostSeen[] },
  clock: () => number = Date.now,
  lifecycle?: LiveHosts,
): AlertSources {
  interface Prepared {
    counts: Map<string, number | SourceError>;
    last: Map<string, number | null>;
    hosts?: Array<{ host: string; last_seen: number }>;
  }
  let current: Prepared | null = null;
  let previous: Prepared | null = null;
  const countKey = (query: string, host: string, sinceMs: number, cap: number) => `${query}\u0000${host}\u0000${sinceMs}\u0000${cap}`;
  const lastKey = (host: string, source: string | undefined) => `${host}\u0000${source ?? ''}`;
  const find = <T>(pick: (p: Prepared) => Map<string, T>, k: string): T | undefined => {
    for (const p of [current, previous]) if (p && pick(p).has(k)) return pick(p).get(k);
    return undefined;
  };
  const sync = () => storage.logs[SYNC_LOGS];

  function logHosts(): Array<{ host: string; last_seen: number }> {
    const h = current?.hosts ?? previous?.hosts ?? sync()?.hosts();
    return h ?? [];
  }

  function hosts(): HostSeen[] {
    // With the host registry: every host not retired, whatever it sends (retired hosts leave
    // host-scoped rules, so an absence rule never fires for an instance that ended).
    if (lifecycle) {
      const live: HostSeen[] = lifecycle.live().map((h) => ({ host: h.host, lastSeen: h.last_seen, state: h.state as HostSeen['state'], ephemeral: h.ephemeral, sources: h.sources, reports: h.sources.includes('metrics') }));
      // A log store other collectors share (ClickHouse) holds lines of hosts this collector's
      // registry never heard (their agents reach another collector): the evaluator sees them too.
      if (sync()) return live;
      const known = new Set(live.map((h) => h.host));
      // (a host the registry knows, retired ones included, is its to answer for: with host states
      // shared too, every collector's registry knows every host, a retired one included, which
      // must not come back into rules through its logs or its series)
      // A metric store they share: hosts whose series another collector consolidates report at an
      // interval (heard before the registry's next pull of host states)
      for (const h of metrics?.hosts?.(clock()) ?? []) {
        if (known.has(h.host) || lifecycle.has?.(h.host)) continue;
        known.add(h.host);
        live.push({ ...h, reports: true });
      }
      for (const h of current?.hosts ?? previous?.hosts ?? []) if (!known.has(h.host) && !lifecycle.has?.(h.host)) live.push({ host: h.host, lastSeen: h.last_seen });
      return live;
    }
    // Hosts that ship logs, metrics or both; last seen is the latest of the two.
    const by = new Map<string, HostSeen>(logHosts().map((h) => [h.host, { host: h.host, lastSeen: h.last_seen }]));
    for (const h of metrics?.hosts?.(clock()) ?? []) {
      const known = by.get(h.host);
      if (known) known.reports = true;
      if (!known) by.set(h.host, { ...h, reports: true });
      else if (h.lastSeen !== null && (known.lastSeen === null || h.lastSeen > known.lastSeen)) known.lastSeen = h.lastSeen;
    }
    return [...by.values()];
  }

  return {
    hosts,
    seriesWindow: metrics?.seriesWindow ?? (() => null),
    seriesLastUpdate: metrics?.seriesLastUpdate ?? (() => null),
    seriesPoints: metrics?.seriesPoints ?? (() => null),
    seriesKeys: metrics?.seriesKeys ?? (() => []),
    checkStatus: metrics?.checkStatus ?? (() => null),
    countLogs(query, host, sinceMs, cap) {
      const got = find((p) => p.counts, countKey(query, host, sinceMs, cap));
      if (got instanceof SourceError) throw got;
      if (got !== undefined) return got;
      const s = sync();
      if (!s) return undefined;
      try {
        return s.query({ q: query, host, start: sinceMs, limit: cap }).items.length;
      } catch (err) {
        throw new SourceError((err as Error).message);
      }
    },
    validateLogQuery: checkLogQuery,
    lastLogAt(host, source) {
      const k = lastKey(host, source);
      const got = find((p) => p.last, k);
      if (got !== undefined || [current, previous].some((p) => p?.last.has(k))) return got;
      const s = sync();
      if (!s) return undefined;
      const item = s.query({ host, source, limit: 1 }).items[0];
      return item ? item.ts : null;
    },
    async prepare(_now, plan) {
      const p: Prepared = { counts: new Map(), last: new Map() };
      if (!lifecycle || !sync()) p.hosts = await storage.logs.hosts();
      // the plan reads the host list: this preparation's, not an older one
      const before = current;
      current = p;
      let reads: LogReads;
      try {
        reads = plan(hosts());
      } finally {
        current = before;
      }
      await Promise.all([
        ...reads.counts.map(async (c) => {
          const k = countKey(c.query, c.host, c.sinceMs, c.cap);
          try {
            p.counts.set(k, (await storage.logs.query({ q: c.query, host: c.host, start: c.sinceMs, limit: c.cap })).items.length);
          } catch (err) {
            // a store that cannot answer (503) leaves the instance as it is; a bad search is the rule's error
            if ((err as { status?: number }).status === 503) return;
            p.counts.set(k, new SourceError((err as Error).message));
          }
        }),
        ...reads.last.map(async (l) => {
          try {
            const item = (await storage.logs.query({ host: l.host, source: l.source, limit: 1 })).items[0];
            p.last.set(lastKey(l.host, l.source), item ? item.ts : null);
          } catch (err) {
            if ((err as { status?: number }).status !== 503) throw err;
          }
        }),
      ]);
      previous = current;
      current = p;
    },
  };
}

/**
 * An in-memory source for the benchmark and unit tests: values set by hand per (host, metric),
 * checks per (host, check), last-seen times per host.
 */
export function memorySources(): AlertSources & {
  set(host: string, metric: string, value: number | null): void;
  /** a sample at a time, for trends and consecutive check results */
  point(host: string, key: string, t: number, v: number): void;
  /** marks the host as one reporting at an interval (an agent) */
  reporting(host: string): void;
  setCheck(host: string, check: string, status: 'up' | 'down' | null): void;
  seen(host: string, at: number): void;
} {
  const values = new Map<string, number | null>();
  const checks = new Map<string, 'up' | 'down' | null>();
  const lastSeen = new Map<string, number | null>();
  const points = new Map<string, { t: number[]; v: number[] }>();
  const reporting = new Set<string>();
  const nameOf = (key: string) => (key.includes('{') ? key.slice(0, key.indexOf('{')) : key);
  return {
    point(host, key, t, v) {
      if (!lastSeen.has(host)) lastSeen.set(host, null);
      const id = `${host}\u0000${key}`;
      let p = points.get(id);
      if (!p) points.set(id, (p = { t: [], v: [] }));
      p.t.push(t);
      p.v.push(v);
    },
    reporting(host) {
      reporting.add(host);
    },
    seriesPoints(host, key, windowSec, now) {
      const p = points.get(`${host}\u0000${key}`);
      if (!p) return null;
      const since = now - windowSec * 1000;
      const out = { t: [] as number[], v: [] as number[] };
      p.t.forEach((t, i) => {
        if (t > since && t <= now) (out.t.push(t), out.v.push(p.v[i]!));
      });
      return out;
    },
    seriesKeys(host, name) {
      const out = new Set<string>();
      for (const id of [...values.keys(), ...points.keys()]) {
        const [h, key] = id.split('\u0000') as [string, string];
        if (h === host && nameOf(key) === name) out.add(key);
      }
      return out;
    },
    set(host, metric, value) {
      if (!lastSeen.has(host)) lastSeen.set(host, null);
      values.set(`${host}\u0000${metric}`, value);
    },
    setCheck(host, check, status) {
      if (!lastSeen.has(host)) lastSeen.set(host, null);
      checks.set(`${host}\u0000${check}`, status);
    },
    seen(host, at) {
      lastSeen.set(host, at);
    },
    hosts() {
      return [...lastSeen].map(([host, seen]) => ({ host, lastSeen: seen, reports: reporting.has(host) }));
    },
    seriesWindow(host, metric, cf, windowSec, now, minSpanMs = 0) {
      const id = `${host}\u0000${metric}`;
      if (values.has(id)) return values.get(id) ?? null;
      const p = points.get(id);
      if (!p) return null;
      const since = now - windowSec * 1000;
      const idx = p.t.map((t, i) => (t > since && t <= now ? i : -1)).filter((i) => i >= 0);
      if (idx.length === 0 || p.t[idx[idx.length - 1]!]! - p.t[idx[0]!]! < minSpanMs) return null;
      return consolidate(idx.map((i) => p.v[i]!), cf);
    },
    seriesLastUpdate() {
      return null;
    },
    countLogs() {
      return 0;
    },
    lastLogAt() {
      return null;
    },
    validateLogQuery: checkLogQuery,
    checkStatus(host, check, now, opts = {}) {
      const set = checks.get(`${host}\u0000${check}`);
      if (set !== undefined) return set;
      // otherwise from check series given with point(), as the agent names them
      for (const type of opts.types ?? (['process', 'http', 'tcp'] as const)) {
        const p = points.get(`${host}\u0000${CHECK_SERIES[type]}{check=${check}}`);
        if (!p || p.t.length === 0) continue;
        const samples = opts.samples ?? 1;
        return checkVerdict(p.v.filter((_, i) => p.t[i]! <= now), samples);
      }
      return null;
    },
  };
}
