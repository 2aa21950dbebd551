// logfmt (`level=warn msg="disk slow" dur=1.2s`, Go's slog/logrus text handlers, Heroku):
// `key=value` pairs, values quoted with `"` (and `\"` inside) when they hold spaces. In `auto`
// a line is logfmt only when it really is: it starts with a pair, has at least two, and pairs
// are at least four in five of its words; so `user 42 logged in id=42` stays a plain line.
import { FieldSink } from './fields.js';
import { pickRoles } from './roles.js';
import { toStructured, type Structured } from './structured.js';

const KEY_RE = /^[A-Za-z_@][\w.@/-]{0,127}$/;
/** Words looked at before deciding; a longer line is still read whole once it qualified. */
const MAX_PAIRS = 1024;

/** The cheap test: the first word is `key=` with a key-like name (no regex, no allocation). */
export function looksLikeLogfmt(text: string): boolean {
  const c = text.charCodeAt(0);
  if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 64)) return false;
  const n = Math.min(text.length, 130);
  for (let i = 1; i < n; i++) {
    const d = text.charCodeAt(i);
    if (d === 61) return true; // '='
    if (d === 32 || d === 9 || d === 34 || d === 58 || d === 91) return false; // space tab " : [
  }
  return false;
}

interface Tokens {
  keys: string[];
  values: Map<string, string>;
  pairs: number;
  words: number;
  /** words left unread after MAX_PAIRS */
  rest: boolean;
}

function tokenize(text: string): Tokens {
  const keys: string[] = [];
  const values = new Map<string, string>();
  let pairs = 0;
  let words = 0;
  let i = 0;
  const n = text.length;
  while (i < n && pairs + words < MAX_PAIRS) {
    while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    if (i >= n) break;
    const start = i;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 61 || c === 32 || c === 9) break;
      i++;
    }
    const key = text.slice(start, i);
    if (i >= n || text.charCodeAt(i) !== 61 || !KEY_RE.test(key)) {
      // A bare word (or `=` without a key): skip to the next space.
      while (i < n && text.charCodeAt(i) !== 32 && text.charCodeAt(i) !== 9) i++;
      words++;
      continue;
    }
    i++; // '='
    let value: string;
    if (text.charCodeAt(i) === 34) {
      i++;
      let v = '';
      let from = i;
      for (;;) {
        if (i >= n) break; // unterminated: the rest of the line is the value
        const c = text.charCodeAt(i);
        if (c === 92 && i + 1 < n) {
          v += text.slice(from, i);
          const e = text[i + 1]!;
          v += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          i += 2;
          from = i;
          continue;
        }
        if (c === 34) break;
        i++;
      }
      value = v + text.slice(from, i);
      i++; // closing quote
    } else {
      const from = i;
      while (i < n && text.charCodeAt(i) !== 32 && text.charCodeAt(i) !== 9) i++;
      value = text.slice(from, i);
    }
    if (!values.has(key)) keys.push(key);
    values.set(key, value);
    pairs++;
  }
  while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  return { keys, values, pairs, words, rest: i < n };
}

/**
 * `strict` (the `auto` parser): null unless the line is mostly pairs. Not strict (`logfmt`
 * forced): any line with a pair is read; null when it has none.
 */
export function parseLogfmt(text: string, zone: string, now: number, strict: boolean): Structured | null {
  if (strict && !looksLikeLogfmt(text)) return null;
  const t = tokenize(text);
  if (t.pairs === 0) return null;
  if (strict && (t.pairs < 2 || t.words * 4 > t.pairs)) return null;
  const roles = pickRoles(t.keys, (k) => t.values.get(k), zone, now);
  const sink = new FieldSink();
  if (t.rest) sink.truncated++;
  const used = roles.used;
  for (const k of t.keys) if (used.length === 0 || !used.includes(k)) sink.add(k, t.values.get(k)!);
  return toStructured('logfmt', roles, sink);
}
