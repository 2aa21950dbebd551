// The round-robin store on one SQLite database (better-sqlite3), holding many series.
//
// Writes are journaled the way rrdcached journals, but inside the same database: an update
// call validates its arguments against each series' last update time, appends the accepted
// ones to `rrd_journal` and commits (WAL, synchronous=FULL), so it is durable when it returns
// while touching one small row. Applying the journal to the archives — rrdtool's arithmetic on
// the series state and its chunks — happens in one transaction per checkpoint: after
// `checkpointUpdates` journaled updates, before any read, and on close. A crash at any point
// leaves the last committed journal and archives; opening the store applies what is pending.
import { existsSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ErrorCodes } from '../../shared/errors.js';
import { CHUNK_BYTES, MAX_CHUNKS_PER_RRA, MAX_RRAS, chunkCount, chunkId, chunkLength, locate, seriesChunkRange } from './chunks.js';
import { applyChecked, checkUpdate } from './engine.js';
import { RrdError, notFound } from './errors.js';
import { fetchRows, planFetch } from './fetch.js';
import { initialState } from './pdp.js';
import { decodeDef, decodeState, encodeJson } from './state-codec.js';
import type { Cf, CreateOptions, FetchResult, RrdStore, SeriesDef, SeriesInfo, SeriesState, UpdateManyItem, UpdateManyResult } from './types.js';

const FORMAT = 'ringtail-rrd';
const FORMAT_VERSION = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rrd_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rrd_series (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  def TEXT NOT NULL,
  state TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rrd_chunk (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS rrd_journal (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
`;

export interface OpenRrdOptions {
  /** create the database file when missing (rrd create); otherwise a missing file is an error */
  create?: boolean;
  /** seconds since the epoch, for `N` and defaults */
  now?: () => number;
  /** journaled updates that trigger applying the journal to the archives */
  checkpointUpdates?: number;
}

interface Meta {
  id: number;
  def: SeriesDef;
  lastUp: number;
}

const nowSeconds = (): number => Date.now() / 1000;

export function openRrdStore(path: string, options: OpenRrdOptions = {}): SqliteRrdStore {
  return new SqliteRrdStore(path, options);
}

export class SqliteRrdStore implements RrdStore {
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly checkpointUpdates: number;
  private readonly meta = new Map<string, Meta>();
  private pending = 0;
  private readonly st;

  constructor(
    readonly path: string,
    options: OpenRrdOptions = {},
  ) {
    this.now = options.now ?? nowSeconds;
    this.checkpointUpdates = options.checkpointUpdates ?? 200_000;
    const existed = existsSync(path);
    if (!existed && !options.create) throw new RrdError(`opening '${path}': No such file or directory`, ErrorCodes.NOT_FOUND, 404);
    let db: Database.Database | undefined;
    try {
      db = new Database(path, { fileMustExist: !options.create });
      this.db = db;
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      if (!existed) {
        this.db.exec(SCHEMA);
        this.db.prepare('INSERT INTO rrd_meta (key, value) VALUES (?, ?), (?, ?)').run('format', FORMAT, 'version', FORMAT_VERSION);
      }
      const fmt = this.db.prepare("SELECT value FROM rrd_meta WHERE key = 'format'").pluck().get();
      if (fmt !== FORMAT) throw new Error('no ringtail format marker');
    } catch (err) {
      try {
        db?.close();
      } catch {
        // already failing
      }
      if (err instanceof RrdError) throw err;
      throw new RrdError(`'${path}' is not a ringtail store (${(err as Error).message})`, ErrorCodes.STORAGE, 400);
    }
    this.st = {
      seriesByName: this.db.prepare('SELECT id, def, state FROM rrd_series WHERE name = ?'),
      seriesById: this.db.prepare('SELECT def, state FROM rrd_series WHERE id = ?'),
      names: this.db.prepare('SELECT name FROM rrd_series ORDER BY name').pluck(),
      insertSeries: this.db.prepare('INSERT INTO rrd_series (name, def, state) VALUES (?, ?, ?)'),
      deleteSeries: this.db.prepare('DELETE FROM rrd_series WHERE id = ?'),
      saveState: this.db.prepare('UPDATE rrd_series SET state = ? WHERE id = ?'),
      insertChunk: this.db.prepare('INSERT INTO rrd_chunk (id, data) VALUES (?, ?)'),
      getChunk: this.db.prepare('SELECT data FROM rrd_chunk WHERE id = ?').pluck(),
      getChunks: this.db.prepare('SELECT id, data FROM rrd_chunk WHERE id BETWEEN ? AND ?'),
      putChunk: this.db.prepare('UPDATE rrd_chunk SET data = ? WHERE id = ?'),
      deleteChunks: this.db.prepare('DELETE FROM rrd_chunk WHERE id BETWEEN ? AND ?'),
      journal: this.db.prepare('INSERT INTO rrd_journal (body) VALUES (?)'),
      journalAll: this.db.prepare('SELECT id, body FROM rrd_journal ORDER BY id'),
      journalAny: this.db.prepare('SELECT 1 FROM rrd_journal LIMIT 1').pluck(),
      journalClear: this.db.prepare('DELETE FROM rrd_journal WHERE id <= ?'),
    };
    this.checkpoint();
  }

  private load(name: string): Meta {
    let m = this.meta.get(name);
    if (m) return m;
    const row = this.st.seriesByName.get(name) as { id: number; def: string; state: string } | undefined;
    if (!row) throw notFound(`no series '${name}' in '${this.path}'`);
    m = { id: row.id, def: decodeDef(row.def), lastUp: decodeState(row.state).lastUp };
    this.meta.set(name, m);
    return m;
  }

  create(name: string, def: SeriesDef, options: CreateOptions = {}): void {
    if (def.rra.length > MAX_RRAS) throw new RrdError(`at most ${MAX_RRAS} RRAs per series`);
    def.rra.forEach((_, i) => {
      if (chunkCount(def, i) > MAX_CHUNKS_PER_RRA) throw new RrdError(`RRA ${i} has too many rows for one series`);
    });
    const start = Math.floor(options.start ?? this.now() - 10);
    const state = initialState(def, start);
    this.db
      .transaction(() => {
        const old = this.st.seriesByName.get(name) as { id: number } | undefined;
        if (old) {
          if (!options.overwrite) throw new RrdError(`creating '${name}': File exists`);
          this.removeSeries(old.id);
        }
        const id = Number(this.st.insertSeries.run(name, encodeJson(def), encodeJson(state)).lastInsertRowid);
        for (let r = 0; r < def.rra.length; r++) {
          for (let c = 0; c < chunkCount(def, r); c++) {
            const values = new Float64Array(chunkLength(def, r, c)).fill(NaN);
            this.st.insertChunk.run(chunkId(id, r, c), Buffer.from(values.buffer));
          }
        }
        this.meta.set(name, { id, def, lastUp: start });
      })
      .immediate();
  }

  private removeSeries(id: number): void {
    const [lo, hi] = seriesChunkRange(id);
    this.st.deleteChunks.run(lo, hi);
    this.st.deleteSeries.run(id);
    for (const [n, m] of this.meta) if (m.id === id) this.meta.delete(n);
  }

  delete(name: string): boolean {
    this.checkpoint();
    const row = this.st.seriesByName.get(name) as { id: number } | undefined;
    if (!row) return false;
    this.db.transaction(() => this.removeSeries(row.id)).immediate();
    return true;
  }

  list(): string[] {
    return this.st.names.all() as string[];
  }

  update(name: string, args: string[]): void {
    const res = this.updateMany([{ series: name, args }]);
    const err = res.errors.get(0);
    if (err) throw err;
  }

  updateMany(items: UpdateManyItem[]): UpdateManyResult {
    const accepted: number[] = [];
    const errors = new Map<number, Error>();
    const lines: string[] = [];
    const newLastUp: Array<[Meta, number]> = [];
    items.forEach((item, i) => {
      let n = 0;
      try {
        const m = this.load(item.series);
        // Validation needs only the last update time: readings are checked with an unknown
        // previous reading, which is all rrdtool's checks depend on.
        const probe: SeriesState = { lastUp: m.lastUp, ds: m.def.ds.map(() => ({ lastDs: 'U', scratch: NaN, unknSec: 0 })), cdp: [] };
        for (const arg of item.args) {
          const { parsed } = checkUpdate(m.def, probe, arg, this.now);
          probe.lastUp = parsed.time;
          lines.push(`${m.id}\t${parsed.time}:${parsed.values.join(':')}`);
          n++;
        }
        newLastUp.push([m, probe.lastUp]);
      } catch (err) {
        errors.set(i, err as Error);
        const m = this.meta.get(item.series);
        if (m && n > 0) newLastUp.push([m, lastTimeOf(lines[lines.length - 1]!)]);
      }
      accepted.push(n);
    });
    if (lines.length > 0) {
      this.st.journal.run(lines.join('\n'));
      for (const [m, t] of newLastUp) m.lastUp = t;
      this.pending += lines.length;
      if (this.pending >= this.checkpointUpdates) this.checkpoint();
    }
    return { accepted, errors };
  }

  /** Applies the journal to the archives in one transaction. */
  checkpoint(): void {
    if (this.st.journalAny.get() === undefined) {
      this.pending = 0;
      return;
    }
    this.db
      .transaction(() => {
        const entries = this.st.journalAll.all() as Array<{ id: number; body: string }>;
        if (entries.length === 0) return;
        const bySeries = new Map<number, string[]>();
        for (const e of entries) {
          for (const line of e.body.split('\n')) {
            const tab = line.indexOf('\t');
            const id = Number(line.slice(0, tab));
            let list = bySeries.get(id);
            if (!list) bySeries.set(id, (list = []));
            list.push(line.slice(tab + 1));
          }
        }
        for (const [id, args] of bySeries) this.applySeries(id, args);
        this.st.journalClear.run(entries[entries.length - 1]!.id);
      })
      .immediate();
    this.pending = 0;
  }

  private applySeries(id: number, args: string[]): void {
    const row = this.st.seriesById.get(id) as { def: string; state: string } | undefined;
    if (!row) return; // deleted after its updates were journaled
    const def = decodeDef(row.def);
    const state = decodeState(row.state);
    const chunks = new Map<number, Float64Array>();
    const sink = {
      put: (rra: number, rowIndex: number, values: number[]): void => {
        const { chunk, offset } = locate(def, rra, rowIndex);
        const cid = chunkId(id, rra, chunk);
        let data = chunks.get(cid);
        if (!data) {
          data = toFloats(this.st.getChunk.get(cid) as Buffer);
          chunks.set(cid, data);
        }
        for (let d = 0; d < values.length; d++) data[offset + d] = values[d]!;
      },
    };
    for (const arg of args) {
      try {
        applyChecked(def, state, checkUpdate(def, state, arg, this.now), sink);
      } catch {
        // Only possible when another process journaled for the same series concurrently;
        // the argument was never acknowledged as applied in order, so it is dropped.
      }
    }
    for (const [cid, data] of chunks) this.st.putChunk.run(Buffer.from(data.buffer, data.byteOffset, data.byteLength), cid);
    this.st.saveState.run(encodeJson(state), id);
  }

  info(name: string): SeriesInfo {
    this.checkpoint();
    const row = this.st.seriesByName.get(name) as { id: number; def: string; state: string } | undefined;
    if (!row) throw notFound(`no series '${name}' in '${this.path}'`);
    return { name, def: decodeDef(row.def), state: decodeState(row.state) };
  }

  fetch(name: string, cf: Cf, opts: { start: number; end: number; resolution?: number }): FetchResult {
    const { def, state } = this.info(name);
    const id = this.load(name).id;
    const plan = planFetch(def, state, cf, opts.start, opts.end, opts.resolution);
    const rstep = plan.step;
    return fetchRows(def, plan, (times) => {
      if (times.length === 0) return [];
      const chunks = this.readChunks(id, plan.rra, def);
      return times.map((t) => {
        const { chunk, offset } = locate(def, plan.rra, t / rstep);
        const data = chunks.get(chunk)!;
        return Array.from(data.subarray(offset, offset + def.ds.length));
      });
    });
  }

  private readChunks(id: number, rra: number, def: SeriesDef): Map<number, Float64Array> {
    const out = new Map<number, Float64Array>();
    const lo = chunkId(id, rra, 0);
    const rows = this.st.getChunks.all(lo, chunkId(id, rra, chunkCount(def, rra) - 1)) as Array<{ id: number; data: Buffer }>;
    for (const r of rows) out.set(r.id - lo, toFloats(r.data));
    return out;
  }

  rows(name: string, rra: number): Float64Array {
    const { def, state } = this.info(name);
    const id = this.load(name).id;
    const r = def.rra[rra];
    if (!r) throw notFound(`no RRA ${rra} in series '${name}'`);
    const chunks = this.readChunks(id, rra, def);
    const rstep = def.step * r.pdpPerRow;
    const last = state.lastUp - (state.lastUp % rstep);
    const nds = def.ds.length;
    const out = new Float64Array(r.rows * nds);
    for (let i = 0; i < r.rows; i++) {
      const { chunk, offset } = locate(def, rra, (last - (r.rows - 1 - i) * rstep) / rstep);
      out.set(chunks.get(chunk)!.subarray(offset, offset + nds), i * nds);
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
        for (const [cid, data] of chunks) this.st.putChunk.run(Buffer.from(data.buffer), cid);
        this.st.saveState.run(encodeJson(state), id);
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

function lastTimeOf(line: string): number {
  const tab = line.indexOf('\t');
  return Number(line.slice(tab + 1, line.indexOf(':', tab)));
}

function toFloats(buf: Buffer): Float64Array {
  // Copy: better-sqlite3's buffers may not be 8-byte aligned.
  const out = new Float64Array(buf.length / 8);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Removes a store file and its WAL companions (a failed create leaves nothing behind). */
export function removeStoreFiles(path: string): void {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) rmSync(p, { force: true });
}

export { CHUNK_BYTES };
