// What a round-robin store persists, as a seam: per series its definition (fixed at creation),
// its state (rrdtool's live head and cdp_prep: last update, per-DS scratch, per-RRA
// consolidation so far) with a version, and its archives' rows keyed by (archive, row end time).
// `PersistedSeriesStore` does everything else — parsing and checking updates, PDPs, consolidation,
// fetch planning — with the same code as the SQLite store (engine.ts, fetch.ts), so any
// persistence gives rrdtool's answers.
//
// Writes are idempotent by construction: a row's key is its time, and the same updates applied
// to the same state give the same rows. A write stores the rows first and the state after; a
// crash between leaves rows ahead of the stored state, and the updates, not acknowledged, come
// again and rewrite those rows identically.
//
// One writer per series at a time (the caller's guarantee: a ClickHouse store takes a lease per
// host, metrics-lease.ts): this store keeps the states it wrote in memory and does not reread
// them before each update. Reads (fetch, info, rows) always go to the persistence, so any
// collector answers them.
import { randomBytes } from 'node:crypto';
import { applyChecked, checkUpdate } from './engine.js';
import { RrdError, notFound } from './errors.js';
import { fetchRows, planFetch } from './fetch.js';
import { initialState } from './pdp.js';
import { scanRecent, type RecentAnswer, type RecentQuery, type SeriesStore } from './series-store.js';
import type { Cf, CreateOptions, FetchResult, SeriesDef, SeriesInfo, SeriesState, UpdateManyItem, UpdateManyResult } from './types.js';

export interface StoredSeries {
  /** the persistence's key for the series' state and rows (a re-created name gets a new id) */
  id: number;
  def: SeriesDef;
  state: SeriesState;
  /** the stored state's version: each write stores version + 1 */
  version: number;
}

export interface ArchiveRow {
  rra: number;
  /** the row's end time (seconds) */
  time: number;
  values: number[];
}

export interface SeriesWrite {
  name: string;
  id: number;
  /** the series' definition (a persistence may derive each row's lifetime from its archive) */
  def: SeriesDef;
  state: SeriesState;
  version: number;
  /** rows closed by this write, oldest first; rows with every value unknown are left out */
  rows: ArchiveRow[];
}

export interface SeriesPersistence {
  /** definitions and states of the named series that exist */
  load(names: readonly string[]): Promise<Map<string, StoredSeries>>;
  /** stores new series with their initial states (the caller has checked none exists) */
  create(items: Array<{ name: string; id: number; def: SeriesDef; state: SeriesState }>): Promise<void>;
  /** stores rows, then states; durable when it resolves */
  write(changes: SeriesWrite[]): Promise<void>;
  /** an archive's rows with from ≤ time ≤ to (any order; missing rows are unknown) */
  readRows(id: number, rra: number, from: number, to: number): Promise<ArchiveRow[]>;
  list(): Promise<string[]>;
  delete(name: string): Promise<boolean>;
  close(): Promise<void>;
}

/** 53 random bits: a series id that is exact as a JSON number */
export function newSeriesId(): number {
  return Number(randomBytes(8).readBigUInt64BE() >> 11n);
}

const nowSeconds = (): number => Date.now() / 1000;

export class PersistedSeriesStore implements SeriesStore {
  /** series this store has loaded or written, with their state as stored */
  private readonly held = new Map<string, StoredSeries>();
  /** updates run one call at a time: a call's states must not move under another's write */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly persistence: SeriesPersistence,
    private readonly now: () => number = nowSeconds,
  ) {}

  /** drops remembered states (another writer may have moved them: a lease taken over) */
  forget(match: (name: string) => boolean): void {
    for (const name of this.held.keys()) if (match(name)) this.held.delete(name);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  create(name: string, def: SeriesDef, options: CreateOptions = {}): Promise<void> {
    return this.serial(async () => {
      const start = Math.floor(options.start ?? this.now() - 10);
      const old = (await this.persistence.load([name])).get(name);
      if (old) {
        if (!options.overwrite) throw new RrdError(`creating '${name}': File exists`);
        await this.persistence.delete(name);
        this.held.delete(name);
      }
      await this.insert([{ name, def, start }]);
    });
  }

  createMany(items: Array<{ name: string; def: SeriesDef; start?: number }>): Promise<void> {
    return this.serial(async () => {
      const names = new Set<string>();
      for (const it of items) {
        if (names.has(it.name)) throw new RrdError(`creating '${it.name}': File exists`);
        names.add(it.name);
      }
      const existing = await this.persistence.load([...names]);
      for (const it of items) if (existing.has(it.name)) throw new RrdError(`creating '${it.name}': File exists`);
      await this.insert(items.map((it) => ({ name: it.name, def: it.def, start: Math.floor(it.start ?? this.now() - 10) })));
    });
  }

  private async insert(items: Array<{ name: string; def: SeriesDef; start: number }>): Promise<void> {
    const made = items.map((it) => ({ name: it.name, id: newSeriesId(), def: it.def, state: initialState(it.def, it.start) }));
    await this.persistence.create(made);
    for (const m of made) this.held.set(m.name, { id: m.id, def: m.def, state: structuredClone(m.state), version: 0 });
  }

  async update(name: string, args: string[]): Promise<void> {
    const res = await this.updateMany([{ series: name, args }]);
    const err = res.errors.get(0);
    if (err) throw err;
  }

  updateMany(items: UpdateManyItem[]): Promise<UpdateManyResult> {
    return this.serial(() => this.apply(items));
  }

  private async apply(items: UpdateManyItem[]): Promise<UpdateManyResult> {
    const missing = [...new Set(items.map((it) => it.series))].filter((n) => !this.held.has(n));
    if (missing.length > 0) for (const [n, s] of await this.persistence.load(missing)) this.held.set(n, s);
    const accepted: number[] = [];
    const errors = new Map<number, Error>();
    const changes = new Map<string, SeriesWrite>();
    items.forEach((item, i) => {
      const s = this.held.get(item.series);
      accepted.push(0);
      if (!s) {
        errors.set(i, notFound(`no series '${item.series}'`));
        return;
      }
      let change = changes.get(item.series);
      if (!change) changes.set(item.series, (change = { name: item.series, id: s.id, def: s.def, state: s.state, version: s.version + 1, rows: [] }));
      const rows = change.rows;
      const def = s.def;
      const sink = {
        put: (rra: number, rowIndex: number, values: number[]): void => {
          if (values.every((v) => Number.isNaN(v))) return; // reads as unknown when absent
          rows.push({ rra, time: rowIndex * def.step * def.rra[rra]!.pdpPerRow, values: values.slice() });
        },
      };
      for (const arg of item.args) {
        try {
          applyChecked(def, s.state, checkUpdate(def, s.state, arg, this.now), sink);
          accepted[i]!++;
        } catch (err) {
          errors.set(i, err as Error);
          break;
        }
      }
    });
    const moved = new Set(items.filter((it, i) => accepted[i]! > 0).map((it) => it.series));
    const writes = [...changes.values()].filter((c) => moved.has(c.name));
    try {
      if (writes.length > 0) await this.persistence.write(writes);
    } catch (err) {
      // the states in memory moved past what is stored: read them again next time
      for (const c of changes.values()) this.held.delete(c.name);
      throw err;
    }
    for (const c of writes) {
      // forgotten meanwhile (a lease taken over): read again next time
      const h = this.held.get(c.name);
      if (h?.id === c.id) h.version = c.version;
    }
    return { accepted, errors };
  }

  async info(name: string): Promise<SeriesInfo> {
    const s = (await this.persistence.load([name])).get(name);
    if (!s) throw notFound(`no series '${name}'`);
    return { name, def: s.def, state: s.state };
  }

  async fetch(name: string, cf: Cf, opts: { start: number; end: number; resolution?: number }): Promise<FetchResult> {
    const s = (await this.persistence.load([name])).get(name);
    if (!s) throw notFound(`no series '${name}'`);
    const plan = planFetch(s.def, s.state, cf, opts.start, opts.end, opts.resolution);
    const from = Math.max(plan.start + plan.step, plan.first);
    const to = Math.min(plan.end, plan.last);
    return fetchRows(s.def, plan, await this.ring(s, plan.rra, from, to));
  }

  /** an archive's rows in [from, to] laid out as the SQLite store's ring (slot = time / step mod rows) */
  private async ring(s: StoredSeries, rra: number, from: number, to: number): Promise<Float64Array> {
    const r = s.def.rra[rra]!;
    const nds = s.def.ds.length;
    const rstep = s.def.step * r.pdpPerRow;
    const out = new Float64Array(r.rows * nds).fill(NaN);
    if (from > to) return out;
    for (const row of await this.persistence.readRows(s.id, rra, from, to)) {
      if (row.time < from || row.time > to) continue;
      out.set(row.values.slice(0, nds), ((row.time / rstep) % r.rows) * nds);
    }
    return out;
  }

  async rows(name: string, rra: number): Promise<Float64Array> {
    const s = (await this.persistence.load([name])).get(name);
    if (!s) throw notFound(`no series '${name}'`);
    const r = s.def.rra[rra];
    if (!r) throw notFound(`no RRA ${rra} in series '${name}'`);
    const rstep = s.def.step * r.pdpPerRow;
    const last = s.state.lastUp - (s.state.lastUp % rstep);
    const first = last - (r.rows - 1) * rstep;
    const ring = await this.ring(s, rra, first, last);
    const nds = s.def.ds.length;
    const out = new Float64Array(r.rows * nds);
    for (let i = 0; i < r.rows; i++) {
      const slot = ((first + i * rstep) / rstep) % r.rows;
      out.set(ring.subarray(slot * nds, (slot + 1) * nds), i * nds);
    }
    return out;
  }

  list(): Promise<string[]> {
    return this.persistence.list();
  }

  /** every series read (a shared store's persistence answers with one query instead: ClickHouseSeriesStore) */
  recent(q: RecentQuery): Promise<RecentAnswer> {
    return scanRecent(this, q);
  }

  delete(name: string): Promise<boolean> {
    return this.serial(async () => {
      this.held.delete(name);
      return this.persistence.delete(name);
    });
  }

  async close(): Promise<void> {
    await this.chain;
    await this.persistence.close();
  }
}
