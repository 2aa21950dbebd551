// The search language's entry points. Parsing is cheap (bounded by MAX_QUERY_LENGTH) but a page
// of results asks for the same search once per id window and the live tail once per commit, so
// recent searches are kept parsed.
import type { Search } from './ast.js';
import { parseSearch } from './parser.js';

export type { FieldTerm, Node, Search, TextTerm } from './ast.js';
export { tokensOf } from './ast.js';
export { QueryError } from './errors.js';
export { toFts5 } from './fts5.js';
export { checkPrefix, LEVELS, MAX_DEPTH, MAX_QUERY_LENGTH, MAX_TERMS, MIN_PREFIX, parseSearch, RESERVED_CHAR } from './parser.js';

const cache = new Map<string, Search>();
const CACHE_MAX = 256;

/** The parsed search, or null for an absent or blank one. Throws QueryError for a bad one. */
export function compileSearch(q: string | undefined): Search | null {
  if (q === undefined || q.trim() === '') return null;
  let s = cache.get(q);
  if (s === undefined) {
    s = parseSearch(q);
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(q, s);
  }
  return s;
}

/**
 * The one validation of a search for every place that takes one: GET /api/v1/logs, the
 * histogram, the live tail and log alert rules. Throws QueryError.
 */
export function validateSearch(q: string | undefined): void {
  compileSearch(q);
}
