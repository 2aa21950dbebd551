// Line ids and page cursors without a dense id column.
//
// A line's id is `_block_number * 2^20 + _block_offset`: the MergeTree block (one per committed
// insert and partition) numbered in commit order, and the row's place in that block. Ids grow
// with commits, which is all the live tail needs (`since(afterId)`), and survive merges
// (enable_block_number_column / enable_block_offset_column persist both). A block never holds
// 2^20 rows: max_insert_block_size (1,048,449 by default) splits larger inserts.
//
// Pages are ordered by (ts desc, id desc) with or without a search, and a cursor is the
// (ts, id) of the last line of a page, as the SQLite store's structured cursors are.
import { ErrorCodes, RingtailError } from '../../../shared/errors.js';

export const BLOCK_ROWS = 1_048_576;
/** the id of a row, as SQL over the logs table */
export const ID_SQL = `(_block_number * ${BLOCK_ROWS} + _block_offset)`;

export interface ChCursor {
  ts: number;
  id: number;
}

export function encodeCursor(c: ChCursor): string {
  return Buffer.from(`c:${c.ts}:${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): ChCursor {
  const m = /^c:(-?\d{1,17}):(\d{1,17})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m) throw new RingtailError(ErrorCodes.BAD_QUERY, `cursor: not a cursor returned by this API: '${raw.slice(0, 100)}'`);
  return { ts: Number(m[1]), id: Number(m[2]) };
}
