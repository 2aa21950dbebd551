// A series' archives in the round-robin store's database (sqlite-store.ts): its state in
// `rrd_series`, its rows in chunks (chunks.ts) in `rrd_chunk`. Applying a series' arguments reads
// only the chunks its new rows fall in and writes back each once; a chunk never written reads as
// unknown rows, so a series costs only the chunks that hold something. Kept apart from the
// store's journal and catalog: this is rrdtool's arithmetic meeting the file, and nothing here
// knows whether the arguments come from the journal or from a direct update.
import {
  allUnknown,
  chunkCount,
  chunkId,
  chunkLength,
  decodeChunkInto,
  encodeChunk,
  rowsPerChunk,
} from './chunks.js';
import type { DefTable } from './def-table.js';
import { applyChecked, checkUpdate } from './engine.js';
import { leadingTime } from './journal-text.js';
import type { StoreStatements } from './sqlite-file.js';
import { decodeState, encodeState } from './state-codec.js';
import type { SeriesDef } from './types.js';

export class SeriesArchives {
  /** chunk buffers free for reuse, by length (see chunkBuffer) */
  private readonly chunkPool = new Map<number, Float64Array[]>();

  constructor(
    private readonly st: StoreStatements,
    /** one definition object per distinct definition, shared with the store */
    private readonly defs: DefTable,
    /** the definitions of series the store holds memos of, by id, shared with the store */
    private readonly defsById: Map<number, SeriesDef>,
    /** arguments come from the journal: one already applied (by a read) is skipped */
    private readonly journaling: boolean,
    private readonly now: () => number,
  ) {}

  /** Applies arguments in order, stopping at the first bad one; writes what was applied. */
  applySeries(id: number, args: string[]): { applied: number; lastUp: number; error?: Error } {
    const row = this.st.seriesById.get(id) as { def: string; state: string } | undefined;
    if (!row) return { applied: 0, lastUp: 0 }; // deleted after its updates were journaled
    let def = this.defsById.get(id);
    if (!def) this.defsById.set(id, (def = this.defs.ofText(row.def)));
    const state = decodeState(row.state);
    const nds = def.ds.length;
    // null: the chunk does not exist and every row put to it so far was unknown
    const chunks = new Map<number, Float64Array | null>();
    const stored = new Set<number>();
    const per = rowsPerChunk(def);
    // the chunk each archive wrote last: consecutive rows nearly always share it
    const lastCid: number[] = def.rra.map(() => -1);
    const lastData: Array<Float64Array | null> = def.rra.map(() => null);
    const sink = {
      put: (rra: number, rowIndex: number, values: number[]): void => {
        // locate(), without its object: this runs for every row of every archive
        const rows = def.rra[rra]!.rows;
        const slot = ((rowIndex % rows) + rows) % rows;
        const chunk = Math.floor(slot / per);
        const offset = (slot % per) * nds;
        const cid = chunkId(id, rra, chunk);
        if (cid === lastCid[rra]) {
          const d = lastData[rra]!;
          for (let i = 0; i < values.length; i++) d[offset + i] = values[i]!;
          return;
        }
        let data = chunks.get(cid);
        if (data === undefined) {
          const blob = this.st.getChunk.get(cid) as Buffer | undefined;
          data = null;
          if (blob) {
            data = this.chunkBuffer(chunkLength(def, rra, chunk));
            decodeChunkInto(blob, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, nds);
            stored.add(cid);
          }
          chunks.set(cid, data);
        }
        if (data === null) {
          // A gap's unknown rows over a chunk never written: it reads as unknown already.
          if (allUnknown(values)) return;
          chunks.set(cid, (data = this.chunkBuffer(chunkLength(def, rra, chunk))));
        }
        for (let d = 0; d < values.length; d++) data[offset + d] = values[d]!;
        lastCid[rra] = cid;
        lastData[rra] = data;
      },
    };
    let applied = 0;
    let error: Error | undefined;
    for (const arg of args) {
      // already applied by a read of this series (flushSeries) before its journal slice came
      if (this.journaling && leadingTime(arg) <= state.lastUp) continue;
      try {
        applyChecked(def, state, checkUpdate(def, state, arg, this.now), sink);
        applied++;
      } catch (err) {
        // Replaying the journal this is only possible when another process journaled for the
        // same series concurrently; such an argument is dropped, as rrdtool would refuse it.
        error = err as Error;
        if (!this.journaling) break;
      }
    }
    for (const [cid, data] of chunks) {
      if (!data) continue;
      this.writeChunk(cid, data, nds, stored.has(cid));
      this.chunkPool.get(data.length)!.push(data);
    }
    this.st.saveState.run(encodeState(state), id);
    return { applied, lastUp: state.lastUp, error };
  }

  /**
   * A chunk's values, all unknown, from buffers the previous series used: a checkpoint goes
   * through thousands of chunks, and a fresh 4 KiB array each (memory outside V8's heap,
   * allocated and freed through malloc) was a fifth of its garbage.
   */
  private chunkBuffer(length: number): Float64Array {
    let free = this.chunkPool.get(length);
    if (!free) this.chunkPool.set(length, (free = []));
    return (free.pop() ?? new Float64Array(length)).fill(NaN);
  }

  /** Stores a chunk's values in their shortest form; one left all unknown is deleted. */
  writeChunk(cid: number, data: Float64Array, nds: number, exists: boolean): void {
    const blob = encodeChunk(data, nds);
    if (exists) {
      if (blob) this.st.putChunk.run(blob, cid);
      else this.st.deleteChunk.run(cid);
    } else if (blob) this.st.insertChunk.run(cid, blob);
  }

  /** An archive's rows in slot order, all chunks concatenated; unknown where no chunk exists. */
  readRing(id: number, rra: number, def: SeriesDef): Float64Array {
    const lo = chunkId(id, rra, 0);
    const rows = this.st.getChunks.all(lo, chunkId(id, rra, chunkCount(def, rra) - 1)) as Array<{ id: number; data: Buffer }>;
    const out = new Float64Array(def.rra[rra]!.rows * def.ds.length).fill(NaN);
    const bytes = new Uint8Array(out.buffer);
    const per = rowsPerChunk(def) * def.ds.length * 8;
    for (const r of rows) decodeChunkInto(r.data, bytes, (r.id - lo) * per, def.ds.length);
    return out;
  }
}
