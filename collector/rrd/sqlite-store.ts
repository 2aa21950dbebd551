// The round-robin store on one SQLite database (better-sqlite3), holding many series.
//
// Writes are journaled the way rrdcached journals, but inside the same database: an update
// call validates its arguments against each series' last update time, appends the accepted
// ones to `rrd_journal` and commits (WAL, synchronous=FULL), so it is durable when it returns
// while touching one small row. Applying the journal to the archives — rrdtool's arithmetic on
// the series state and its chunks — happens per series, from the pending arguments this handle
// keeps in memory: a read applies its own series' first; once `checkpointUpdates` updates are
// pending, each update call also applies the series that have waited longest, twice as many
// updates as it journaled (most of a series' cost is reading and writing its chunks, so a
// series is best applied with all its pending arguments at once, and no call stalls the
// collector's event loop for the whole journal). Journal rows older than the oldest pending
// argument are then deleted. On open, delete and close the whole journal is applied; an
// argument whose time is not after its series' last applied update was applied already and is
// skipped. A crash at any point leaves the last committed journal and archives; opening the
// store applies what is pending. One process journals into a store: the collector (the CLI
// applies its updates directly).
//
// This file is the store's face and its catalog of series (memos, creation, removal); the
// rest is in its parts: the database file and its statements (sqlite-file.ts), a series'
// archives and applying arguments to them (sqlite-archives.ts), what this handle journaled and
// applying it (sqlite-journal.ts), and one call's journal text (journal-text.ts).
import type Database from 'better-sqlite3';
import { MAX_CHUNKS_PER_RRA, MAX_RRAS, chunkCount, chunkId, chunkLength, locate, seriesChunkRange } from './chunks.js';
import { RrdError, notFound } from './errors.js';
import { fetchRows, planFetch } from './fetch.js';
import { initialState } from './pdp.js';
import { JournalLines, type JournalSeries } from './journal-text.js';
import { DefTable } from './def-table.js';
import { SeriesArchives } from './sqlite-archives.js';
import { openStoreDb, storeStatements, type OpenRrdOptions, type StoreStatements } from './sqlite-file.js';
import { StoreJournal } from './sqlite-journal.js';
import { decodeDef, decodeState, encodeState, stateLastUp } from './state-codec.js';
import type { Cf, CreateOptions, FetchResult, RrdStore, SeriesDef, SeriesInfo, SeriesState, UpdateManyItem, UpdateManyResult } from './types.js';

export { FORMAT_VERSION, openWalCheckpointer, removeStoreFiles, type OpenRrdOptions } from './sqlite-file.js';

/** A series' memo: its journal fields (journal-text.ts); lastUp is also the applied time without a journal. */
type Meta = JournalSeries;

function newMeta(id: number, def: SeriesDef, lastUp: number): Meta {
  return { id, def, lastUp, prefix: `${id}\t`, nlPrefix: `\n${id}\t`, callLastUp: 0, call: 0 };
}

const nowSeconds = (): number => Date.now() / 1000;

/**
 * Series memos kept, at most. A collector that created every series of a month of a fleet kept
 * them all (2.6 M, nearly all of retired hosts: ~1 GB of the store thread's heap, which its
 * full collections marked while writes waited); the live ones are a few tens of thousands.
 */
export const DEFAULT_META_CACHE = 200_000;

export function openRrdStore(path: string, options: OpenRrdOptions = {}): SqliteRrdStore {
  return new SqliteRrdStore(path, options);
}

export class SqliteRrdStore implements RrdStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly checkpointUpdates: number;
  private readonly checkpointSlice: number;
  private readonly meta = new Map<string, Meta>();
  /** update calls so far: a Meta whose `call` is this one has `callLastUp` set by it */
  private calls = 0;
  /** one update call's journaled lines and touched series (reused) */
  private readonly lines = new JournalLines();
  private readonly loaded = (name: string): Meta | undefined => this.meta.get(name);
  private readonly defsById = new Map<number, SeriesDef>();
  /** one definition object per distinct definition (def-table.ts) */
  private readonly defs = new DefTable();
  private readonly autoApply: boolean;
  private readonly metaCache: number;
  private readonly journaling: boolean;
  private readonly synchronous: 'FULL' | 'NORMAL';
  private readonly st: StoreStatements;
  /** the series' states and chunks (sqlite-archives.ts) */
  private readonly archives: SeriesArchives;
  /** what this handle journaled and not yet applied (sqlite-journal.ts) */
  private readonly journal: StoreJournal;

  constructor(
    readonly path: string,
    options: OpenRrdOptions = {},
  ) {
    this.now = options.now ?? nowSeconds;
    this.checkpointUpdates = options.checkpointUpdates ?? 200_000;
    this.checkpointSlice = options.checkpointSlice ?? 20_000;
    this.journaling = options.journal ?? true;
    this.autoApply = options.autoApply ?? true;
    this.metaCache = Math.max(1, options.metaCache ?? DEFAULT_META_CACHE);
    this.synchronous = options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL';
    this.db = openStoreDb(path, options.create ?? false, this.synchronous, options.cacheKb);
    this.st = storeStatements(this.db);
    this.archives = new SeriesArchives(this.st, this.defs, this.defsById, this.journaling, this.now);
    this.journal = new StoreJournal(this.db, this.st, this.archives, this.synchronous);
    this.checkpoint();
  }

  private load(name: string): Meta {
    let m = this.meta.get(name);
    if (m) return m;
    const row = this.st.seriesByName.get(name) as { id: number; def: string; state: string } | undefined;
    if (!row) throw notFound(`no series '${name}' in '${this.path}'`);
    m = newMeta(row.id, this.defs.ofText(row.def), decodeState(row.state).lastUp);
    this.meta.set(name, m);
    return m;
  }

  create(name: string, def: SeriesDef, options: CreateOptions = {}): void {
    checkCreatable(def);
    const start = Math.floor(options.start ?? this.now() - 10);
    // The journal names series by id, and a new series may take the id of the one it replaces.
    if (options.overwrite && this.st.seriesByName.get(name)) this.checkpoint();
    this.db
      .transaction(() => {
        const old = this.st.seriesByName.get(name) as { id: number } | undefined;
        if (old) {
          if (!options.overwrite) throw new RrdError(`creating '${name}': File exists`);
          this.removeSeries(old.id, name);
        }
        this.insertSeries(name, def, start);
      })
      .immediate();
  }

  /**
   * New series in one durable commit: a fleet of agents starting at once brings thousands, and
   * the commit per series was the cost (collector load benchmark, 60,000 series: 15–55 s →
   * 2.3–2.7 s). A new series writes only its definition and state (its archives' chunks come
   * with its first known rows), so creating one no longer costs writing ~593 KB of unknown rows
   * (the default layout's year of archives: ~2.2 ms per series). All or nothing: a bad
   * definition or an existing name throws before anything is written.
   *
   * `deferSync`: the commit does not wait for the disk (synchronous=NORMAL for it); the next
   * durable commit (an update call) fsyncs the WAL, which holds this one too. The collector
   * creates a request's series just before journaling its values, so a new agent costs one
   * fsync on the event loop instead of two (5–20 ms each on a busy disk).
   */
  createMany(items: Array<{ name: string; def: SeriesDef; start?: number }>, options: { deferSync?: boolean } = {}): void {
    const names = new Set<string>();
    for (const it of items) {
      checkCreatable(it.def);
      if (names.has(it.name)) throw new RrdError(`creating '${it.name}': File exists`);
      names.add(it.name);
    }
    // An existing name fails the insert (name is UNIQUE) and rolls the transaction back: one
    // index probe per series instead of a lookup and then the insert (the fleet benchmark's
    // 83,000 series appearing in a minute).
    const made: Array<{ name: string; id: number; def: SeriesDef; start: number }> = [];
    const relax = options.deferSync === true && this.synchronous === 'FULL';
    if (relax) this.db.pragma('synchronous = NORMAL');
    try {
      this.db
        .transaction(() => {
          // A request's series share a few definitions and one first time: one initial state
          // text per (definition, start). Only the previous pair was kept, and a host's gauges
          // and counters alternate (the load bench: every second series), so half of its series
          // encoded the ~500-byte state again.
          const states = new Map<SeriesDef, Map<number, string>>();
          for (const it of items) {
            const start = Math.floor(it.start ?? this.now() - 10);
            const { def, text } = this.defs.intern(it.def);
            let byStart = states.get(def);
            if (!byStart) states.set(def, (byStart = new Map()));
            let stateText = byStart.get(start);
            if (stateText === undefined) byStart.set(start, (stateText = encodeState(initialState(def, start))));
            let id: number;
            try {
              id = Number(this.st.insertSeries.run(it.name, text, stateText).lastInsertRowid);
            } catch (err) {
              if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new RrdError(`creating '${it.name}': File exists`);
              throw err;
            }
            made.push({ name: it.name, id, def, start });
          }
        })
        .immediate();
    } finally {
      if (relax) this.db.pragma('synchronous = FULL');
    }
    for (const m of made) {
      this.meta.set(m.name, newMeta(m.id, m.def, m.start));
      this.defsById.set(m.id, m.def);
    }
    this.trimMeta();
  }

  /**
   * Past metaCache memos, drops the oldest tenth of them that have nothing pending: their last
   * update is then the stored state's (what load() reads again), so exactly-once holds. One with
   * pending arguments stays (its memo's last update is ahead of the stored one).
   */
  private trimMeta(): void {
    // after a failed slice the memos' last updates may be ahead of what is pending: none dropped
    // until a whole checkpoint has applied the journal
    if (this.meta.size <= this.metaCache || this.journal.disowned) return;
    let excess = this.meta.size - Math.floor(this.metaCache * 0.9);
    for (const [name, m] of this.meta) {
      if (excess <= 0) break;
      if (this.journal.pendingArgs.has(m.id)) continue;
      this.meta.delete(name);
      this.defsById.delete(m.id);
      excess--;
    }
  }

  /** series memos held (tests) */
  get cachedSeries(): number {
    return this.meta.size;
  }

  /** the connection's page cache in KiB, as SQLite reads it back (tests) */
  get pageCacheKb(): number {
    const n = this.db.pragma('cache_size', { simple: true }) as number;
    return n < 0 ? -n : (n * (this.db.pragma('page_size', { simple: true }) as number)) / 1024;
  }

  /**
   * Copies series (definition, state and archived chunks) to new names, in one commit: the
   * fleet benchmark seeds a month of 31,000 hosts this way (bench/fleet.ts --seed) instead of
   * replaying 100 M updates. The copies are left for load() to find (not kept in memory).
   * `chunks: false`: the definition and state only (its archives read as unknown rows).
   */
  cloneSeries(items: Array<{ from: string; name: string; chunks?: boolean }>): void {
    const sources = new Map<string, { def: string; state: string; lo: number; hi: number }>();
    for (const { from } of items) {
      if (sources.has(from)) continue;
      const src = this.load(from);
      this.journal.flushSeries(src.id);
      const row = this.st.seriesById.get(src.id) as { def: string; state: string };
      const [lo, hi] = seriesChunkRange(src.id);
      sources.set(from, { ...row, lo, hi });
    }
    const copyChunks = this.db.prepare('INSERT INTO rrd_chunk (id, data) SELECT id + ?, data FROM rrd_chunk WHERE id BETWEEN ? AND ?');
    this.db
      .transaction(() => {
        for (const { from, name, chunks } of items) {
          const src = sources.get(from)!;
          const id = Number(this.st.insertSeries.run(name, src.def, src.state).lastInsertRowid);
          if (chunks !== false) copyChunks.run(seriesChunkRange(id)[0] - src.lo, src.lo, src.hi);
        }
      })
      .immediate();
  }

  private insertSeries(name: string, def: SeriesDef, start: number): void {
    const shared = this.defs.intern(def);
    const state = initialState(shared.def, start);
    // no chunks: a missing chunk reads as unknown rows (chunks.ts)
    const id = Number(this.st.insertSeries.run(name, shared.text, encodeState(state)).lastInsertRowid);
    this.meta.set(name, newMeta(id, shared.def, start));
    this.defsById.set(id, shared.def);
  }

  /** `name` is the series' only memo: a memo is keyed by the name that was looked up */
  private removeSeries(id: number, name: string): void {
    const [lo, hi] = seriesChunkRange(id);
    this.st.deleteChunks.run(lo, hi);
    this.st.deleteSeries.run(id);
    this.defsById.delete(id);
    this.journal.pendingArgs.take(id);
    this.meta.delete(name);
  }

  delete(name: string): boolean {
    return this.deleteMany([name]) === 1;
  }

  /**
   * Deletes series in one durable commit; how many existed. A purge withdraws a host's 83 series
   * at once: one commit each, a whole-journal checkpoint before each and a walk of every memo
   * per series held the store thread (and the event loop waiting on it) 1.35–10.3 s per purge
   * at a month of a fleet. The journal names series by id, lines of series already applied stay
   * in it until older rows go, and a new series takes the highest id + 1: so the whole journal is
   * applied first only when the highest id is among the deleted (its id will be taken again).
   * Otherwise a deleted series' lines left in the journal name an id below the highest, which no
   * new series takes while they are there (deleting the highest empties the journal), and
   * replaying them finds no series (sqlite-archives.ts applySeries).
   */
  deleteMany(names: readonly string[]): number {
    const found: Array<{ id: number; name: string }> = [];
    for (const name of names) {
      const row = this.st.seriesByName.get(name) as { id: number } | undefined;
      if (row) found.push({ id: row.id, name });
    }
    if (found.length === 0) return 0;
    const highest = this.st.maxSeriesId.get() as number;
    if (this.journal.disowned || found.some((f) => f.id >= highest)) this.checkpoint();
    this.db.transaction(() => {
      for (const f of found) this.removeSeries(f.id, f.name);
    }).immediate();
    return found.length;
  }

  list(): string[] {
    return this.st.names.all() as string[];
  }

  /**
   * Every series' name, type (its first data source's), step and last update, `limit` at most
   * with an id above `after`, in id order: the metric catalog at start, in pages. One scan of the
   * series table with each distinct definition decoded once; a name list and an info() per
   * series (an index probe and two JSON decodes each) took longer than a minute at a month of a
   * fleet (2.5 M series), and the collector failed to start.
   */
  describe(after: number, limit: number): { items: Array<{ name: string; type: string | null; step: number; lastUp: number }>; last: number } {
    // what is journaled shows in the states (nothing is, right after opening)
    if (this.journal.pendingArgs.size > 0) this.checkpoint();
    const items: Array<{ name: string; type: string | null; step: number; lastUp: number }> = [];
    let last = after;
    for (const r of this.st.describe.iterate(after, limit) as IterableIterator<{ id: number; name: string; def: string; state: string }>) {
      const def = this.defs.ofText(r.def);
      items.push({ name: r.name, type: def.ds[0]?.type ?? null, step: def.step, lastUp: stateLastUp(r.state) });
      last = r.id;
    }
    return { items, last };
  }

  update(name: string, args: string[]): void {
    const res = this.updateMany([{ series: name, args }]);
    const err = res.errors.get(0);
    if (err) throw err;
  }

  updateMany(items: UpdateManyItem[]): UpdateManyResult {
    if (!this.journaling) return this.updateDirect(items);
    const call = ++this.calls;
    const lines = this.lines;
    // the collector's rounds: every argument plain and in order, its text built in one piece
    let body = lines.plain(items, this.loaded, call);
    let accepted: number[];
    const errors = new Map<number, Error>();
    if (body !== undefined) {
      accepted = new Array<number>(items.length);
      for (let i = 0; i < items.length; i++) accepted[i] = items[i]!.args.length;
    } else ({ body, accepted } = lines.general(items, (name) => this.load(name), this.now, ++this.calls, errors));
    const count = lines.count;
    try {
      if (count > 0) {
        // Only a committed journal row moves the in-memory last update times.
        const row = Number(this.st.journal.run(body).lastInsertRowid);
        const touched = lines.touched;
        for (let i = 0; i < touched.length; i++) touched[i]!.lastUp = touched[i]!.callLastUp;
        this.journal.recordOwn(row, body, lines);
      }
    } finally {
      lines.reset();
    }
    // Twice this call's updates at least, so the journal shrinks however fast updates come.
    if (this.autoApply && count > 0 && this.journal.pendingArgs.size >= this.checkpointUpdates) this.journal.checkpointSome(Math.max(this.checkpointSlice, 2 * count));
    this.trimMeta();
    return { accepted, errors };
  }

  /** updates journaled by this handle and not yet applied to the archives */
  get pendingUpdates(): number {
    return this.journal.pendingArgs.size;
  }

  /** Applies the whole journal to the archives, in one transaction. */
  checkpoint(): void {
    this.journal.checkpoint();
  }

  /** As StoreJournal.applyUntil: the longest-waiting series until `until`; the updates applied. */
  applyUntil(until: number): number {
    return this.journal.applyUntil(until);
  }

  /** pending updates not yet filed by series (tests) */
  get unsortedUpdates(): number {
    return this.journal.pendingArgs.unsortedLines;
  }

  /** Copies what the WAL holds back into the database, as far as readers allow (PASSIVE). */
  walCheckpoint(): void {
    this.journal.walCheckpoint();
  }

  private updateDirect(items: UpdateManyItem[]): UpdateManyResult {
    const accepted: number[] = [];
    const errors = new Map<number, Error>();
    this.db
      .transaction(() => {
        items.forEach((item, i) => {
          try {
            const m = this.load(item.series);
            const r = this.archives.applySeries(m.id, item.args);
            m.lastUp = r.lastUp;
            accepted.push(r.applied);
            if (r.error) errors.set(i, r.error);
          } catch (err) {
            accepted.push(0);
            errors.set(i, err as Error);
          }
        });
      })
      .immediate();
    return { accepted, errors };
  }

  info(name: string): SeriesInfo {
    const m = this.meta.get(name);
    if (m) this.journal.flushSeries(m.id);
    const row = this.st.seriesByName.get(name) as { id: number; def: string; state: string } | undefined;
    if (!row) throw notFound(`no series '${name}' in '${this.path}'`);
    return { name, def: decodeDef(row.def), state: decodeState(row.state) };
  }

  fetch(name: string, cf: Cf, opts: { start: number; end: number; resolution?: number }): FetchResult {
    const { def, state } = this.info(name);
    const plan = planFetch(def, state, cf, opts.start, opts.end, opts.resolution);
    return fetchRows(def, plan, this.archives.readRing(this.load(name).id, plan.rra, def));
  }

  rows(name: string, rra: number): Float64Array {
    const { def, state } = this.info(name);
    const r = def.rra[rra];
    if (!r) throw notFound(`no RRA ${rra} in series '${name}'`);
    const ring = this.archives.readRing(this.load(name).id, rra, def);
    const rstep = def.step * r.pdpPerRow;
    const last = state.lastUp - (state.lastUp % rstep);
    const nds = def.ds.length;
    const out = new Float64Array(r.rows * nds);
    for (let i = 0; i < r.rows; i++) {
      const slot = ((last - (r.rows - 1 - i) * rstep) / rstep) % r.rows;
      out.set(ring.subarray(slot * nds, (slot + 1) * nds), i * nds);
    }
    return out;
  }

  restore(name: string, def: SeriesDef, state: SeriesState, rows: Float64Array[]): void {
    this.create(name, def, { start: state.lastUp, overwrite: true });
    const id = this.load(name).id;
    this.db
      .transaction(() => {
        const chunks = new Map<number, Float64Array>();
        def.rra.forEach((r, rra) => {
          const rstep = def.step * r.pdpPerRow;
          const last = state.lastUp - (state.lastUp % rstep);
          const data = rows[rra]!;
          for (let i = 0; i < r.rows; i++) {
            const { chunk, offset } = locate(def, rra, (last - (r.rows - 1 - i) * rstep) / rstep);
            const cid = chunkId(id, rra, chunk);
            let buf = chunks.get(cid);
            if (!buf) chunks.set(cid, (buf = new Float64Array(chunkLength(def, rra, chunk)).fill(NaN)));
            buf.set(data.subarray(i * def.ds.length, (i + 1) * def.ds.length), offset);
          }
        });
        // the series was just created: none of its chunks exists
        for (const [cid, data] of chunks) this.archives.writeChunk(cid, data, def.ds.length, false);
        this.st.saveState.run(encodeState(state), id);
      })
      .immediate();
  }

  close(): void {
    if (!this.db.open) return;
    this.checkpoint();
    this.db.close();
  }

  /** Bytes the database takes on disk after folding the WAL back into it (benchmarks). */
  compactSize(): number {
    this.checkpoint();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const size = this.db.pragma('page_size', { simple: true }) as number;
    return pages * size;
  }
}

function checkCreatable(def: SeriesDef): void {
  if (def.rra.length > MAX_RRAS) throw new RrdError(`at most ${MAX_RRAS} RRAs per series`);
  def.rra.forEach((_, i) => {
    if (chunkCount(def, i) > MAX_CHUNKS_PER_RRA) throw new RrdError(`RRA ${i} has too many rows for one series`);
  });
}
