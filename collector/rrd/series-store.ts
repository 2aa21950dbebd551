// The asynchronous round-robin store (issue 16's metric series seam): RrdStore's calls with a
// promise wherever they reach storage, which a store behind a network connection needs. Two
// implementations:
//   - the SQLite store (sqlite-store.ts, synchronous, journaled) through `asyncRrdStore` below;
//   - a store over any `SeriesPersistence` (persistence.ts): the same rrdtool arithmetic, with
//     definitions, PDP state and archive rows kept by the persistence (ClickHouse:
//     collector/storage/clickhouse/metrics*.ts; memory, for tests).
// test/contract/series.contract.ts holds every implementation to the same fetch output, and to
// the real rrdtool's.
import type { Cf, CreateOptions, FetchResult, RrdStore, SeriesDef, SeriesInfo, UpdateArg, UpdateManyItem, UpdateManyResult } from './types.js';

export interface SeriesStore {
  create(name: string, def: SeriesDef, options?: CreateOptions): Promise<void>;
  /** new series (none may exist yet), all or nothing */
  createMany(items: Array<{ name: string; def: SeriesDef; start?: number }>): Promise<void>;
  /** applies the arguments in order; rejects at the first bad one, keeping those before it */
  update(name: string, args: UpdateArg[]): Promise<void>;
  /** many series, durable when it resolves; per item, arguments accepted and the error that stopped it */
  updateMany(items: UpdateManyItem[]): Promise<UpdateManyResult>;
  fetch(name: string, cf: Cf, opts: { start: number; end: number; resolution?: number }): Promise<FetchResult>;
  info(name: string): Promise<SeriesInfo>;
  list(): Promise<string[]>;
  delete(name: string): Promise<boolean>;
  /** all archived rows of an RRA, oldest first (dump) */
  rows(name: string, rra: number): Promise<Float64Array>;
  close(): Promise<void>;
}

/** What a listing needs of a series, without its archives. */
export interface SeriesOverview {
  name: string;
  /** the first data source's type (null: a series without one) */
  type: string | null;
  step: number;
  /** seconds since the epoch */
  lastUp: number;
}

/**
 * A series store that several collectors share (ClickHouse): one collector at a time writes a
 * host's series, under a lease it claims here; the others read them. Series are named
 * `<host>/<metric key>` (collector/metrics/key.ts).
 */
export interface SharedSeriesStore extends SeriesStore {
  /**
   * Claims (or renews) the write leases of these hosts. `refused`: hosts another collector holds,
   * with the 503 to answer; `taken`: hosts this collector has just taken over, whose series
   * another collector may have written meanwhile (what the caller remembers of them is stale).
   */
  claim(hosts: readonly string[]): Promise<{ refused: Map<string, Error>; taken: string[] }>;
  /** every series (only those of `hosts` when given), whoever wrote them */
  describe(hosts?: readonly string[]): Promise<SeriesOverview[]>;
}

/** The synchronous store (SQLite) as a SeriesStore: each call runs at once, its result or error resolved. */
export function asyncRrdStore(store: RrdStore): SeriesStore {
  const run = <T>(fn: () => T): Promise<T> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err as Error);
    }
  };
  return {
    create: (name, def, options) => run(() => store.create(name, def, options)),
    createMany: (items) => run(() => store.createMany(items)),
    update: (name, args) => run(() => store.update(name, args)),
    updateMany: (items) => run(() => store.updateMany(items)),
    fetch: (name, cf, opts) => run(() => store.fetch(name, cf, opts)),
    info: (name) => run(() => store.info(name)),
    list: () => run(() => store.list()),
    delete: (name) => run(() => store.delete(name)),
    rows: (name, rra) => run(() => store.rows(name, rra)),
    close: () => run(() => store.close()),
  };
}
