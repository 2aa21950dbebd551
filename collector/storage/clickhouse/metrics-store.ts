// The metric series store on ClickHouse (--storage clickhouse, issue 16 item 3): rrdtool's
// arithmetic in this process (PersistedSeriesStore), definitions, states and rows in ClickHouse
// (metrics.ts), and a lease per host so one collector at a time consolidates a host's series
// (metrics-lease.ts). Writes (create, update, delete) check the lease of each series' host;
// reads need none. Every failure to reach ClickHouse is a 503 with Retry-After (`guarded`).
import { hostname } from 'node:os';
import type { ClickHouseClient } from '@clickhouse/client';
import { ConfigError } from '../../../shared/errors.js';
import { PersistedSeriesStore } from '../../rrd/persistence.js';
import type { RecentAnswer, RecentQuery, SeriesOverview, SharedSeriesStore } from '../../rrd/series-store.js';
import type { Cf, CreateOptions, FetchResult, SeriesDef, SeriesInfo, UpdateManyItem, UpdateManyResult } from '../../rrd/types.js';
import { connectDatabase, guarded } from './connection.js';
import { SeriesLeases } from './metrics-lease.js';
import { clickhouseRecent, type DefCache } from './metrics-recent.js';
import { ensureMetricsSchema } from './metrics-schema.js';
import { ClickHouseSeriesPersistence } from './metrics.js';
import { checkDatabaseName, checkTtlDays } from './schema.js';
import type { ClickHouseLogOptions } from './types.js';

export interface ClickHouseSeriesOptions extends Pick<ClickHouseLogOptions, 'url' | 'database' | 'requestTimeoutMs' | 'username' | 'password' | 'cluster' | 'zookeeperPath'> {
  /** names this collector in leases and refusals; default `<hostname>:<pid>` (`#n` after the first store a process opens) */
  collectorId?: string;
  /** ms a lease lasts unless renewed (DEFAULT_LEASE_MS) */
  leaseMs?: number;
  /** ms since the epoch, for leases (tests) */
  clock?: () => number;
  /** seconds since the epoch, for rrdtool's `N` and creation defaults */
  now?: () => number;
  /** archive rows older than this many days are dropped by the table's TTL; absent: when they leave their archive */
  ttlDays?: number;
}

/**
 * The host whose lease covers a series: the collector names series `<host>/<metric key>`
 * (collector/metrics/key.ts: the last '/' before any '{'); a name without one is its own owner.
 */
export function seriesOwner(name: string): string {
  const brace = name.indexOf('{');
  const slash = (brace < 0 ? name : name.slice(0, brace)).lastIndexOf('/');
  return slash <= 0 ? name : name.slice(0, slash);
}

export class ClickHouseSeriesStore implements SharedSeriesStore {
  constructor(
    private readonly engine: PersistedSeriesStore,
    readonly leases: SeriesLeases,
    private readonly url: string,
    private readonly persistence: ClickHouseSeriesPersistence,
    private readonly client: ClickHouseClient,
  ) {}

  claim(hosts: readonly string[]): Promise<{ refused: Map<string, Error>; taken: string[] }> {
    return this.own(hosts.map((h) => `${h}/`));
  }

  describe(hosts?: readonly string[]): Promise<SeriesOverview[]> {
    return this.g('list series', () => this.persistence.describe(hosts));
  }

  holding(): string[] {
    return this.leases.holding();
  }

  /** definitions of the series recent() has answered with (a few hundred thousand at most: cleared past a million) */
  private readonly defs: DefCache = new Map();

  /** what other collectors wrote lately, for the designated alert evaluator (metrics-recent.ts) */
  recent(q: RecentQuery): Promise<RecentAnswer> {
    if (this.defs.size > 1_000_000) this.defs.clear();
    return this.g('read recent series', () => clickhouseRecent(this.client, q, this.defs));
  }

  private g<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return guarded(what, this.url, fn);
  }

  /** leases for these series' hosts: refused hosts' errors; caches of hosts just taken dropped */
  private async own(names: readonly string[]): Promise<{ refused: Map<string, Error>; taken: string[] }> {
    const { refused, taken } = await this.g('take the hosts\u2019 leases', () => this.leases.ensure([...new Set(names.map(seriesOwner))]));
    if (taken.length > 0) {
      const t = new Set(taken);
      this.engine.forget((n) => t.has(seriesOwner(n)));
    }
    return { refused, taken };
  }

  private async ownAll(names: readonly string[]): Promise<void> {
    const { refused } = await this.own(names);
    const first = refused.values().next();
    if (!first.done) throw first.value;
  }

  async create(name: string, def: SeriesDef, options?: CreateOptions): Promise<void> {
    await this.ownAll([name]);
    await this.g('create a series', () => this.engine.create(name, def, options));
  }

  async createMany(items: Array<{ name: string; def: SeriesDef; start?: number }>): Promise<void> {
    await this.ownAll(items.map((it) => it.name));
    await this.g('create series', () => this.engine.createMany(items));
  }

  async update(name: string, args: string[]): Promise<void> {
    const res = await this.updateMany([{ series: name, args }]);
    const err = res.errors.get(0);
    if (err) throw err;
  }

  /** items of hosts whose lease another collector holds are refused whole (503), the rest applied */
  async updateMany(items: UpdateManyItem[]): Promise<UpdateManyResult> {
    const { refused } = await this.own(items.map((it) => it.series));
    const mine: number[] = [];
    items.forEach((it, i) => {
      if (!refused.has(seriesOwner(it.series))) mine.push(i);
    });
    const res = mine.length > 0 ? await this.g('store metric updates', () => this.engine.updateMany(mine.map((i) => items[i]!))) : { accepted: [], errors: new Map<number, Error>() };
    const accepted = items.map(() => 0);
    const errors = new Map<number, Error>();
    mine.forEach((i, k) => {
      accepted[i] = res.accepted[k]!;
      const e = res.errors.get(k);
      if (e) errors.set(i, e);
    });
    items.forEach((it, i) => {
      const e = refused.get(seriesOwner(it.series));
      if (e) errors.set(i, e);
    });
    return { accepted, errors };
  }

  fetch(name: string, cf: Cf, opts: { start: number; end: number; resolution?: number }): Promise<FetchResult> {
    return this.g('read a series', () => this.engine.fetch(name, cf, opts));
  }

  info(name: string): Promise<SeriesInfo> {
    return this.g('read a series', () => this.engine.info(name));
  }

  list(): Promise<string[]> {
    return this.g('list series', () => this.engine.list());
  }

  async delete(name: string): Promise<boolean> {
    await this.ownAll([name]);
    return this.g('delete a series', () => this.engine.delete(name));
  }

  rows(name: string, rra: number): Promise<Float64Array> {
    return this.g('read a series', () => this.engine.rows(name, rra));
  }

  async close(): Promise<void> {
    try {
      await this.leases.release();
    } catch {
      // unreachable: the leases expire on their own
    }
    await this.engine.close();
  }
}

/** stores this process has opened (each is a writer of its own) */
let opened = 0;

export async function openClickHouseSeriesStore(opts: ClickHouseSeriesOptions): Promise<ClickHouseSeriesStore> {
  const database = checkDatabaseName(opts.database);
  if (opts.leaseMs !== undefined && !(Number.isInteger(opts.leaseMs) && opts.leaseMs >= 1000)) {
    throw new ConfigError('clickhouse.lease_ms', `expected a whole number of milliseconds, at least 1000, got ${opts.leaseMs}`);
  }
  checkTtlDays(opts.ttlDays);
  const { client, layout, url } = await connectDatabase(opts, database);
  await guarded('set up the metric tables', url, () => ensureMetricsSchema(client, database, opts.ttlDays, layout));
  // two stores opened by one process are two writers, each with its own remembered states
  opened++;
  const collectorId = opts.collectorId ?? `${hostname()}:${process.pid}${opened > 1 ? `#${opened}` : ''}`;
  const leases = new SeriesLeases(client, { collectorId, leaseMs: opts.leaseMs, clock: opts.clock, layout });
  const persistence = new ClickHouseSeriesPersistence(client, collectorId, (name) => leases.epochOf(seriesOwner(name)));
  return new ClickHouseSeriesStore(new PersistedSeriesStore(persistence, opts.now), leases, url, persistence, client);
}
