// Archived rows live in fixed-size BLOB chunks, allocated when a series is created, so a
// series never grows: a row's place is (row end time / row step) mod rows, a ring indexed by
// time. A chunk holds whole rows and fits one 4 KiB SQLite page with its cell header, which
// keeps the overhead near rrdtool's 8 bytes per value.
import type { SeriesDef } from './types.js';

/** Largest BLOB that still fits, with its record header and cell, in one 4096-byte table page. */
export const CHUNK_BYTES = 4056;
const RRA_SHIFT = 2 ** 14;
const SERIES_SHIFT = 2 ** 20;
export const MAX_RRAS = 64;
export const MAX_CHUNKS_PER_RRA = RRA_SHIFT;

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

/** Values in a chunk: rows of that chunk × DS, NaN-filled. */
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
