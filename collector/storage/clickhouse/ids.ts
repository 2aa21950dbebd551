// Line ids and page cursors without a dense id column.
//
// Two kinds of id (LogItem.id), chosen by the layout (ClickHouseLogOptions.lineIds):
//   - 'block' (one server): `_block_number * 2^20 + _block_offset`, the MergeTree block (one per
//     committed insert and partition) numbered in commit order under the lock that makes it
//     visible, and the row's place in it. Ids grow with commits, which is all the live tail needs
//     (`since(afterId)`), and survive merges (enable_block_number_column / _offset_column). A
//     block never holds 2^20 rows: max_insert_block_size (1,048,449 by default) splits larger inserts.
//   - 'key' (a cluster): 53 bits of a hash of the line's identity (stream_id, line_offset). On a
//     ReplicatedMergeTree block numbers are allocated per partition through Keeper before the
//     part is committed, a replica fetches parts in any order, and every shard numbers its own:
//     block ids are neither unique nor in commit order there. The hash is the same on every
//     replica and shard; it identifies a line (the dashboard drops repeated ids) but orders
//     nothing, so the live tail follows a key window instead (tail-feed.ts).
//
// Pages are ordered by (ts desc, stream_id desc, line_offset desc) in both layouts: the line's
// identity, which every replica agrees on, breaks ties of ts (lines of one stream in file
// order). A cursor is that key of a page's last line.
import { ErrorCodes, RingtailError } from '../../../shared/errors.js';

export type LineIds = 'block' | 'key';

export const BLOCK_ROWS = 1_048_576;
/** the id of a row on one server (commit-ordered), as SQL over the logs table */
export const ID_SQL = `(_block_number * ${BLOCK_ROWS} + _block_offset)`;
/** the id of a row on a cluster: 2^53 - 1 masks the hash to a safe JS integer */
export const KEY_ID_SQL = 'bitAnd(cityHash64(stream_id, line_offset), 9007199254740991)';

export const idSql = (ids: LineIds) => (ids === 'key' ? KEY_ID_SQL : ID_SQL);

/** where a page stopped: the (ts, stream_id, line_offset) of its last line */
export interface ChCursor {
  ts: number;
  /** UInt64 in decimal (beyond 2^53) */
  stream: string;
  offset: number;
}

export function encodeCursor(c: ChCursor): string {
  return Buffer.from(`k:${c.ts}:${c.stream}:${c.offset}`, 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): ChCursor {
  const m = /^k:(-?\d{1,17}):(\d{1,20}):(\d{1,17})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m || BigInt(m[2]!) >= 1n << 64n) throw new RingtailError(ErrorCodes.BAD_QUERY, `cursor: not a cursor returned by this API: '${raw.slice(0, 100)}'`);
  return { ts: Number(m[1]), stream: m[2]!, offset: Number(m[3]) };
}
