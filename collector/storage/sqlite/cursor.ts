// Page cursors. Structured queries page in (ts desc, id desc) order through the ts indexes;
// full-text queries page in id (arrival) order because FTS5 streams its matches by rowid, so a
// word that occurs in millions of lines still answers the first page without sorting them all.
import { ErrorCodes, RingtailError } from '../../../shared/errors.js';

export type Cursor = { kind: 'ts'; ts: number; id: number } | { kind: 'id'; id: number };

export function encodeCursor(c: Cursor): string {
  const text = c.kind === 'ts' ? `${c.ts}:${c.id}` : `i:${c.id}`;
  return Buffer.from(text, 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const ts = /^(-?\d+):(\d+)$/.exec(text);
  if (ts) return { kind: 'ts', ts: Number(ts[1]), id: Number(ts[2]) };
  const id = /^i:(\d+)$/.exec(text);
  if (id) return { kind: 'id', id: Number(id[1]) };
  throw new RingtailError(ErrorCodes.BAD_QUERY, `cursor: not a cursor returned by this API: '${raw}'`);
}
