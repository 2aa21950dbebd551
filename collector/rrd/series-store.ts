// The asynchronous round-robin store (issue 16's metric series seam): RrdStore's calls with a
// promise wherever they reach storage, which a store behind a network connection needs. Two
// implementations:
//   - the SQLite store (sqlite-store.ts, synchronous, journaled) through `asyncRrdStore` below;
//   - a store over any `SeriesPersistence` (persistence.ts): the same rrdtool arithmetic, with
//     definitions, PDP state and archive rows kept by the persistence (ClickHouse:
//     collector/storage/clickhouse/metrics*.ts; memory, for tests).
// test/contract/series.contract.ts holds every implementation to the same fetch output, and to
// the real rrdtool's.
import { splitSeriesName } from '../metrics/key.js';
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
  /** series updated after a watermark, with their newest rows (RecentQuery) */
  recent(q: RecentQuery): Promise<RecentAnswer>;
  close(): Promise<void>;
}

/**
 * What an alert evaluator on another collector reads of the series it does not consolidate
 * (collector/alerts/remote-series.ts), incrementally: only series updated after `after`.
 * Series are named `<host>/<metric key>` (collector/metrics/key.ts).
 */
export interface RecentQuery {
  /** seconds: only series whose last update is later, and only their rows stamped later */
  after: number;
  /** metric keys whose series are wanted with rows (`cpu.idle`, `check.http.up{check=web}`) */
  keys: readonly string[];
  /** metric names whose every series is wanted with rows (`df.used_pct`: one per mount) */
  names: readonly string[];
  /** hosts whose series are left out of `series` (they still count in `hosts`): those the caller consolidates itself */
  except?: ReadonlySet<string>;
}

export interface RecentSeries {
  name: string;
  /** the first data source's type (null: a series without one) */
  type: string | null;
  /** seconds */
  step: number;
  /** seconds since the epoch */
  lastUp: number;
  /** the first data source's rows of the finest AVERAGE archive stamped after `after`, oldest first; unknown rows left out */
  rows: Array<{ time: number; value: number }>;
}

export interface RecentAnswer {
  /** the wanted series (keys, names) updated after `after` */
  series: RecentSeries[];
  /** every host with any series updated after `after`, with its newest update (seconds) */
  hosts: Array<{ host: string; lastUp: number }>;
}

/** whether a series' key is one a RecentQuery wants rows of */
export function wantedKey(key: string, keys: ReadonlySet<string>, names: ReadonlySet<string>): boolean {
  if (keys.has(key)) return true;
  const brace = key.indexOf('{');
  return names.has(brace < 0 ? key : key.slice(0, brace));
}

/** the finest AVERAGE archive of a definition (the one the rows of RecentSeries come from), -1 when none */
export function finestAverage(def: { step: number; rra: Array<{ cf: string; pdpPerRow: number }> }): number {
  let best = -1;
  def.rra.forEach((r, i) => {
    if (r.cf === 'AVERAGE' && (best < 0 || r.pdpPerRow < def.rra[best]!.pdpPerRow)) best = i;
  });
  return best;
}

/**
 * RecentQuery answered from a store's ordinary calls (list, info, fetch): every series is read,
 * which suits a store one collector owns (SQLite, memory); a shared store answers it with one
 * query over its tables (ClickHouse: collector/storage/clickhouse/metrics-recent.ts).
 */
export async function scanRecent(store: Pick<SeriesStore, 'list' | 'info' | 'fetch'>, q: RecentQuery): Promise<RecentAnswer> {
  const keys = new Set(q.keys);
  const names = new Set(q.names);
  const series: RecentSeries[] = [];
  const hosts = new Map<string, number>();
  for (const name of await store.list()) {
    const split = splitSeriesName(name);
    if (!split) continue;
    const info = await store.info(name);
    const lastUp = info.state.lastUp;
    if (!(lastUp > q.after)) continue;
    hosts.set(split.host, Math.max(hosts.get(split.host) ?? -Infinity, lastUp));
    if (q.except?.has(split.host) || !wantedKey(split.key, keys, names)) continue;
    const rows: RecentSeries['rows'] = [];
    const rra = finestAverage(info.def);
    if (rra >= 0) {
      const a = info.def.rra[rra]!;
      const rstep = info.def.step * a.pdpPerRow;
      // within that archive's window, so that the fetch picks it
      const start = Math.max(Math.floor(q.after), lastUp - (lastUp % rstep) - (a.rows - 1) * rstep);
      const r = await store.fetch(name, 'AVERAGE', { start, end: lastUp, resolution: rstep });
      const nds = r.dsNames.length;
      for (let i = 0; i < r.rowCount; i++) {
        const time = r.start + (i + 1) * r.step;
        const value = r.data[i * nds]!;
        if (time > q.after && time <= lastUp && !Number.isNaN(value)) rows.push({ time, value });
      }
    }
    series.push({ name, type: info.def.ds[0]?.type ?? null, step: info.def.step, lastUp, rows });
  }
  return { series, hosts: [...hosts].map(([host, lastUp]) => ({ host, lastUp })) };
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
  /** the hosts whose lease this collector holds now (it consolidates their series); absent: none known */
  holding?(): string[];
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
    recent: (q) => scanRecent({ list: async () => store.list(), info: async (n) => store.info(n), fetch: async (n, cf, o) => store.fetch(n, cf, o) }, q),
    close: () => run(() => store.close()),
  };
}
