// A line's host as one extra token of its full-text entry, so that a search with an exact host
// (`q=publickey&host=web-042`, `host:web-042 publickey`) is one FTS5 intersection,
// `(search) AND "<host token>"`, instead of a walk over the word's matches checking each one's
// host in the logs row or in a set of the host's ids (fts-plan.ts): FTS5 advances the two
// doclists past each other (seeking with its doclist indexes), so the matches of a frequent
// word on other hosts are skipped, not read. 10 M lines, 200 hosts, a word in 1 % of them:
// ~1 ms for 100 answers against ~7–11 ms for the host-id set (bench/out probe, load 5).
//
// The token is U+E000 (private use: unicode61 keeps it inside a word, and it is never a letter
// a log line means) followed by the hex of the host's UTF-8 bytes: one token for any host
// name, since unicode61 would split `web-042` at the dash. Its position after the message's
// last word puts it in no phrase a message makes. The query language refuses U+E000 in a search
// (collector/query/lang), so no search a person writes can name a host token; the row's own
// `host = ?` condition stays on every plan, so the token only narrows the candidates.
//
// Lines stored before migration 9 have no host token: log_index_meta's host_tokens_from_id is
// the first id that has one, and windows below it keep the host-window plans of fts-plan.ts.
import { RESERVED_CHAR } from '../../query/lang/index.js';
import type { Db } from './open.js';

/** the private-use character that starts every host token: the search language refuses it */
export const HOST_TOKEN_MARK = RESERVED_CHAR;

/** The host token of `host` (what the writer appends to the line's indexed text). */
export function hostToken(host: string): string {
  return HOST_TOKEN_MARK + Buffer.from(host, 'utf8').toString('hex');
}

/**
 * The text the writer indexes for a line, as an SQL expression over the logs row `l`: the
 * message, a space, the host token (SQLite's hex() is the UTF-8 bytes of the text; unicode61
 * folds its upper case as it folds the query's).
 */
export const INDEXED_TEXT_SQL = `message || ' ${HOST_TOKEN_MARK}' || hex(host)`;

/** A full-text expression narrowed to one host's lines (from host_tokens_from_id on). */
export function withHost(fts: string, host: string): string {
  return `(${fts}) AND "${hostToken(host)}"`;
}

/** The first line id whose full-text entry has its host token (a read per page). */
export function hostTokensFrom(db: Db): () => number {
  const from = db.prepare("SELECT value FROM log_index_meta WHERE key = 'host_tokens_from_id'").pluck();
  return () => (from.get() as number | undefined) ?? Number.MAX_SAFE_INTEGER;
}
