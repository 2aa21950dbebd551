// Runs of short numbers as FTS5 tokens, so that a term like `10.0.0.1` is a lookup of two rare
// tokens instead of the phrase `10 0 0 1` of four of the corpus's most common words (FTS5 walks
// their whole doclists to find the few lines where they stand in a row: ~300 ms in 10 M lines,
// a third of `grep -F`'s time).
//
// A *short number* is a word of at most SHORT_DIGITS ASCII digits (IP octets, the parts of a
// time or a version). Each three short numbers that are neighbouring words of a line, whatever
// separates them, make one token of the line's row in `log_nums_fts` (open.ts, migration 8):
// `10.0.0.1:22` gives 10_0_0 and 0_0_1, `23:40:46` gives 23_40_46, `1.1` nothing. A phrase
// occurs in a line only if each three neighbouring words of it do, so the rows with all the
// tokens of a term's runs of three or more short numbers are a superset of the term's lines;
// every candidate is then checked by the search itself in logs_fts, so the answers are exactly
// the phrase's. Shorter runs (`1.1`, `10.12`) are not indexed and keep the phrase alone.
//
// Why these and no more: each token costs ingest CPU. Pairs of short words (`id_42`) were
// 4.1 tokens per line of the benchmark corpus and pairs of short numbers 2.7 (+3 CPU µs per
// line on a store of ~7); runs of three are 1.1, mostly one IP's two.
//
// Words are found as the query language finds them (ast.ts TOKEN_RUN, unicode61's word
// characters), with diacritics removed (NFD, marks dropped) like unicode61; any other word
// (letters, a long number, non-ASCII digits) ends a run.
import type { Node } from '../../query/lang/index.js';

/** digits of a short number at most (IPv4 octets) */
export const SHORT_DIGITS = 3;
/** short numbers in a row per token */
export const RUN = 3;

const WORD = /[\p{L}\p{N}\p{Co}\p{Mn}]+/gu;
const SHORT = new RegExp(`^[0-9]{1,${SHORT_DIGITS}}$`);
const MARKS = /\p{M}/gu;

/** The word as the index compares it if it is a short number, else null. */
function short(w: string): string | null {
  if (SHORT.test(w)) return w;
  if (w.length > 64) return null; // only a cap on the work: no real word folds from that long to short
  const f = w.normalize('NFD').replace(MARKS, '');
  return SHORT.test(f) ? f : null;
}

/** Collects the tokens of a line from its words in order. */
class Runs {
  out = '';
  private a: string | null = null;
  private b: string | null = null;

  /** the next word: a short number, or null for any other word */
  word(w: string | null): void {
    if (w !== null && this.a !== null && this.b !== null) this.out += (this.out === '' ? '' : ' ') + this.a + '_' + this.b + '_' + w;
    this.a = w === null ? null : this.b;
    this.b = w;
  }
}

/** Any line: words by TOKEN_RUN, folded. */
function unicodeTokens(message: string): string {
  const r = new Runs();
  WORD.lastIndex = 0;
  for (let m = WORD.exec(message); m !== null; m = WORD.exec(message)) r.word(short(m[0]));
  return r.out;
}

/** ASCII character classes: 0 separator, 1 letter, 2 digit, 3 not ASCII (128 and above) */
const CLASS = new Uint8Array(65536);
CLASS.fill(3, 128);
for (let c = 48; c <= 57; c++) CLASS[c] = 2;
for (let c = 65; c <= 90; c++) CLASS[c] = 1;
for (let c = 97; c <= 122; c++) CLASS[c] = 1;

/**
 * The text of a line's row in log_nums_fts: its tokens, space-separated ('' for none). Lines
 * of ASCII only (nearly all) are read by char codes — the same words as TOKEN_RUN finds in
 * them, at a fraction of the cost of the Unicode regular expression; any other by unicodeTokens.
 * Runs once per stored line on the event loop (collector/ingest/pack.ts): one table lookup per
 * character, and the last two short numbers kept as positions, sliced only for a token
 * (logs bench message: ~400 → ~150 ns a line).
 */
export function numTokens(message: string): string {
  let out = '';
  // the previous two words when they were short numbers: [start, end) in message, start -1 when not
  let aStart = -1;
  let aEnd = 0;
  let bStart = -1;
  let bEnd = 0;
  const n = message.length;
  for (let i = 0; i < n; ) {
    let k = CLASS[message.charCodeAt(i)]!;
    if (k === 0) {
      i++;
      continue;
    }
    // a non-ASCII letter or mark may continue or be a word
    if (k === 3) return unicodeTokens(message);
    const start = i;
    let digits = k === 2;
    while (++i < n && (k = CLASS[message.charCodeAt(i)]!) !== 0) {
      if (k === 3) return unicodeTokens(message);
      if (k === 1) digits = false;
    }
    if (digits && i - start <= SHORT_DIGITS) {
      if (aStart >= 0 && bStart >= 0) out += (out === '' ? '' : ' ') + message.slice(aStart, aEnd) + '_' + message.slice(bStart, bEnd) + '_' + message.slice(start, i);
      aStart = bStart;
      aEnd = bEnd;
      bStart = start;
      bEnd = i;
    } else {
      aStart = -1;
      bStart = -1;
    }
  }
  return out;
}

/**
 * The tokens of the runs of RUN or more short numbers in a phrase of `words` (lower case, as the
 * parser's tokensOf makes them): `10 0 0 1` → 10_0_0, 0_0_1.
 */
export function phraseTokens(words: readonly string[]): string[] {
  const r = new Runs();
  for (const w of words) r.word(SHORT.test(w) ? w : null);
  return r.out === '' ? [] : r.out.split(' ');
}

/**
 * The log_nums_fts MATCH expression whose rows are a superset of a search's answers: the
 * tokens of every phrase the search requires (a term of its top-level AND, not negated; a
 * prefix term's last word is left out, it may be longer), all ANDed. Null without any.
 */
export function numDriver(text: Node | null): string | null {
  if (text === null) return null;
  const items = text.type === 'and' ? text.items : [text];
  const tokens = new Set<string>();
  for (const n of items) {
    if (n.type !== 'text') continue;
    for (const t of phraseTokens(n.prefix ? n.tokens.slice(0, -1) : n.tokens)) tokens.add(t);
  }
  return tokens.size === 0 ? null : [...tokens].map((t) => `"${t}"`).join(' AND ');
}
