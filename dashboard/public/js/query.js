// Search text built from clicks, in the collector's query language (docs/query-language.md):
// a field chip becomes `field.KEY:VALUE`, quoted when the value is not one plain term, and is
// ANDed onto what is already in the box without changing that query's meaning. Pure functions
// (no DOM), so they are tested in node.

// Characters a bare value may hold and still be read as one term. Anything else (spaces,
// quotes, parentheses, `*`, `:`, a leading `-`) would be syntax, so such a value is quoted.
const PLAIN_VALUE = /^[\p{L}\p{N}_./@][\p{L}\p{N}_.\/@=+-]*$/u;
// Field names the language can spell after `field.` (it reads the name up to the first `:`, and
// a word ends at whitespace, a parenthesis or a quote); a chip whose key holds any of those is
// shown but offers no filter, since there is no way to write it.
const FIELD_NAME = /^[^\s()":]+$/u;

/** `"…"` with backslash escapes for `"` and `\`, the language's only quoting. */
export function quote(value) {
  return '"' + String(value).replace(/[\\"]/g, '\\$&') + '"';
}

export function canFilterField(key) {
  return FIELD_NAME.test(key) && key.length <= 128;
}

/** The query term selecting lines whose field `key` equals `value`, or null if unwritable. */
export function fieldClause(key, value) {
  if (!canFilterField(key)) return null;
  const v = String(value);
  const bare = PLAIN_VALUE.test(v) && !/^(AND|OR|NOT)$/.test(v);
  return `field.${key}:${bare ? v : quote(v)}`;
}

/**
 * Splits a query into its top-level pieces: quoted strings stay whole (with their escapes),
 * parentheses nest. Used to see whether a clause is already there and whether the query has a
 * top-level OR (then it is parenthesised before ANDing, since AND binds tighter than OR).
 */
export function topLevel(query) {
  const parts = [];
  let depth = 0;
  let cur = '';
  const flush = () => {
    if (cur) parts.push(cur);
    cur = '';
  };
  for (let i = 0; i < query.length; i++) {
    const c = query[i];
    if (c === '"') {
      let j = i + 1;
      while (j < query.length && query[j] !== '"') j += query[j] === '\\' ? 2 : 1;
      cur += query.slice(i, j + 1);
      i = j;
    } else if (c === '(') {
      if (depth === 0) flush();
      depth++;
      cur += c;
    } else if (c === ')') {
      cur += c;
      depth = Math.max(0, depth - 1);
      if (depth === 0) flush();
    } else if (/\s/.test(c) && depth === 0) flush();
    else cur += c;
  }
  flush();
  return parts;
}

/** `query` AND `clause`: unchanged if the clause is already a top-level term. */
export function addClause(query, clause) {
  const q = (query ?? '').trim();
  if (!q) return clause;
  const parts = topLevel(q);
  if (parts.includes(clause)) return q;
  return (parts.includes('OR') ? `(${q})` : q) + ' ' + clause;
}

/**
 * Where a refused query went wrong, as a character offset into the text sent: the error body's
 * `position` when the collector gives one, else a trailing "at N" in its message.
 */
export function errorPosition(body, query) {
  let pos = body?.position;
  if (typeof pos !== 'number') {
    const m = /\bat (?:position |offset |char(?:acter)? )?(\d+)\s*$/.exec(body?.message ?? '');
    pos = m ? Number(m[1]) : undefined;
  }
  if (typeof pos !== 'number' || !Number.isInteger(pos) || pos < 0 || pos > (query ?? '').length) return null;
  return pos;
}

/** A window of the query around `pos` (long queries): text before, the character, text after. */
export function around(query, pos, width = 30) {
  const from = Math.max(0, pos - width);
  const to = Math.min(query.length, pos + 1 + width);
  return {
    before: (from > 0 ? '…' : '') + query.slice(from, pos),
    at: pos < query.length ? query[pos] : '',
    after: query.slice(pos + 1, to) + (to < query.length ? '…' : ''),
  };
}
