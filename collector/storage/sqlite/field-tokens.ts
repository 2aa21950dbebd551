// Structured fields as FTS5 tokens: each `key=value` of a line becomes one token of the line's
// row in `log_fields_fts` (open.ts, migration 7), so a commit's fields are buffered by FTS5 and
// written as one sequential segment instead of one B-tree insert per field into an index
// keyed by value (the `log_fields (key, value, id)` of schema 5 roughly doubled the store's
// CPU for JSON lines: bench/fields-ab.mjs).
//
// A token is `f`, 8 hex digits of a hash of the key, then the value in a prefix-free code over
// [a-z0-9] (a–y and digits as they are, anything else `z` + hex), cut at TOKEN_VALUE_CHARS.
// The code keeps prefixes: a value starts with `ab` exactly when its code starts with the code
// of `ab`, so a glob `field.k:ab*` is the FTS5 prefix query of the token of `ab`. A token is
// therefore a candidate, not an answer — two keys may share a hash, long values share their
// first characters — and every search checks the candidates against the row's fields JSON.
// The table has its own tokenizer and is only ever matched with tokens made here, so nothing a
// user types reaches it and its tokens never appear in message search (`logs_fts`).

/** characters of a value's code kept in its token: longer values share a token, checked exactly */
export const TOKEN_VALUE_CHARS = 64;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// keys repeat on nearly every line: their hex is computed once (bounded, a hostile key set only costs a clear)
const keyHex = new Map<string, string>();
function keyPart(key: string): string {
  let h = keyHex.get(key);
  if (h === undefined) {
    if (keyHex.size >= 4096) keyHex.clear();
    keyHex.set(key, (h = 'f' + fnv1a(key).toString(16).padStart(8, '0')));
  }
  return h;
}

const PLAIN = /^[a-y0-9]*$/;

// the code of each UTF-16 unit below 256, made once: values such as `GET` or `/api/v1/users/5`
// are coded on the event loop for every line (pack.ts), and a number-to-hex per character was
// most of that
const LATIN1: string[] = Array.from({ length: 256 }, (_, c) =>
  (c >= 97 && c <= 121) || (c >= 48 && c <= 57) ? String.fromCharCode(c) : c === 122 ? 'zz' : 'z' + c.toString(16).padStart(2, '0'),
);

/** The prefix-free code of a string (UTF-16 units) over [a-z0-9]; stops once past `max` characters. */
function code(v: string, max: number): string {
  if (PLAIN.test(v)) return v.length > max ? v.slice(0, max) : v;
  let o = '';
  for (let i = 0; i < v.length && o.length < max; i++) {
    const c = v.charCodeAt(i);
    o += c < 256 ? LATIN1[c]! : 'zu' + c.toString(16).padStart(4, '0');
  }
  return o.length > max ? o.slice(0, max) : o;
}

/** the token of one field */
export function fieldToken(key: string, value: string): string {
  return keyPart(key) + code(value, TOKEN_VALUE_CHARS);
}

/** The text of a line's row in log_fields_fts: its fields' tokens, space-separated. */
export function fieldTokens(fields: Record<string, unknown>): string {
  let t = '';
  for (const k in fields) {
    const v = fields[k];
    if (v === null || typeof v === 'object') continue; // flattened fields are strings; older rows may hold other scalars
    t += (t ? ' ' : '') + fieldToken(k, String(v));
  }
  return t;
}

/**
 * The FTS5 MATCH expression of the candidates of `key` equal to `value`, or (glob) matching a
 * `*` pattern: the prefix query of the code of the pattern's text before its first `*`.
 */
export function fieldMatch(key: string, value: string, glob: boolean): string {
  if (!glob) return `"${fieldToken(key, value)}"`;
  const star = value.indexOf('*');
  const prefix = star < 0 ? value : value.slice(0, star);
  const c = code(prefix, TOKEN_VALUE_CHARS + 1);
  // a prefix as long as the token cut is one token (every value it starts is cut there too)
  if (star < 0 || c.length >= TOKEN_VALUE_CHARS) return `"${keyPart(key) + c.slice(0, TOKEN_VALUE_CHARS)}"`;
  return `"${keyPart(key) + c}" *`;
}
