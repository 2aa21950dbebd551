// Archived rows live in BLOB chunks: a row's place is (row end time / row step) mod rows, a ring
// indexed by time, and a chunk holds a fixed run of whole rows of that ring. A chunk at full
// extent fits one 4 KiB SQLite page with its cell header, which keeps the overhead near
// rrdtool's 8 bytes per value.
//
// Chunks are allocated lazily: a series occupies space only for the rows it has written, so a
// host that lives two hours costs about two hours of rows, not a year's preallocated archives
// (rrdtool preallocates them all; ringtail's size is bounded at creation, never fixed). A chunk
// that does not exist reads as all unknown (NaN) — exactly what a preallocated chunk holds until
// written — so an unknown row bound for a missing chunk needs no write at all, while one bound
// for an existing chunk overwrites what an earlier lap of the ring left there, as rrdtool does.
// A chunk stores only the span from its first to its last row holding a known value:
//   - full extent: the rows' values, nothing else (the only form stores written before lazy
//     chunks hold, so they read unchanged);
//   - a shorter span: a 4-byte little-endian index of its first row in the chunk, then the
//     values of the span (its length is ≡ 4 mod 8, never confused with the full form).
// A chunk left with no known value is deleted.
import type { SeriesDef } from './types.js';

/** Largest BLOB that still fits, with its record header and cell, in one 4096-byte table page. */
export const CHUNK_BYTES = 4056;
const RRA_SHIFT = 2 ** 14;
const SERIES_SHIFT = 2 ** 20;
export const MAX_RRAS = 64;
export const MAX_CHUNKS_PER_RRA = RRA_SHIFT;
const SPAN_HEADER = 4;

export function rowsPerChunk(def: SeriesDef): number {
  return Math.max(1, Math.floor(CHUNK_BYTES / (def.ds.length * 8)));
}

export function chunkCount(def: SeriesDef, rra: number): number {
  return Math.ceil(def.rra[rra]!.rows / rowsPerChunk(def));
}

export function chunkId(seriesId: number, rra: number, chunk: number): number {
  return seriesId * SERIES_SHIFT + rra * RRA_SHIFT + chunk;
}

export function seriesChunkRange(seriesId: number): [number, number] {
  return [seriesId * SERIES_SHIFT, (seriesId + 1) * SERIES_SHIFT - 1];
}

/** Values in a chunk at full extent: rows of that chunk × DS. */
export function chunkLength(def: SeriesDef, rra: number, chunk: number): number {
  const per = rowsPerChunk(def);
  const rows = Math.min(per, def.rra[rra]!.rows - chunk * per);
  return rows * def.ds.length;
}

/** Where a row lives: chunk number and the offset of its first value in that chunk. */
export function locate(def: SeriesDef, rra: number, rowIndex: number): { chunk: number; offset: number } {
  const rows = def.rra[rra]!.rows;
  const slot = ((rowIndex % rows) + rows) % rows;
  const per = rowsPerChunk(def);
  return { chunk: Math.floor(slot / per), offset: (slot % per) * def.ds.length };
}

/** The most a series' archived values can take: every row of every archive written (rrdtool's preallocated size, less its header). */
export function boundBytes(def: SeriesDef): number {
  return def.rra.reduce((s, r) => s + r.rows * def.ds.length * 8, 0);
}

export function allUnknown(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isNaN(values[i]!)) return false;
  return true;
}

/**
 * A chunk's stored form (see the top of this file), from its values at full extent; undefined
 * when every value is unknown (the chunk need not exist).
 */
export function encodeChunk(data: Float64Array, nds: number): Buffer | undefined {
  // the first and last known values, by index (no per-row views: this runs for every chunk written)
  let lo = 0;
  while (lo < data.length && Number.isNaN(data[lo]!)) lo++;
  if (lo === data.length) return undefined;
  let hi = data.length - 1;
  while (Number.isNaN(data[hi]!)) hi--;
  const rows = data.length / nds;
  const first = Math.floor(lo / nds);
  const end = Math.floor(hi / nds) + 1;
  const values = new Uint8Array(data.buffer, data.byteOffset + first * nds * 8, (end - first) * nds * 8);
  if (first === 0 && end === rows) return Buffer.from(values);
  const out = Buffer.allocUnsafe(SPAN_HEADER + values.length);
  out.writeUInt32LE(first, 0);
  out.set(values, SPAN_HEADER);
  return out;
}

/**
 * Copies a stored chunk into `target` (bytes of the ring or of one chunk, all unknown where the
 * chunk holds nothing), its first row at byte `at`.
 */
export function decodeChunkInto(blob: Uint8Array, target: Uint8Array, at: number, nds: number): void {
  if (blob.length % 8 === 0) {
    target.set(blob, at);
    return;
  }
  const first = blob[0]! | (blob[1]! << 8) | (blob[2]! << 16) | (blob[3]! * 2 ** 24);
  target.set(blob.subarray(SPAN_HEADER), at + first * nds * 8);
}

/** A chunk's values at full extent (NaN where it holds nothing), from its stored form. */
export function decodeChunk(blob: Uint8Array, length: number, nds: number): Float64Array {
  const out = new Float64Array(length).fill(NaN);
  decodeChunkInto(blob, new Uint8Array(out.buffer), 0, nds);
  return out;
}
