// The ClickHouse translation of a search (collector/query/lang) and of LogFilter: conditions on
// the logs table with `{name:Type}` placeholders; every value the person typed or a line holds
// travels as a bound query parameter, never inside the SQL text.
//
// Words match as the SQLite store matches them (FTS5 unicode61): a word or phrase is the
// sequence of its lower-cased letter/digit runs (ast.ts tokensOf), found in the message as
// whole tokens in that order with only non-letters between them; a prefix search lets the last
// token continue. ClickHouse answers that in two steps:
//   - `hasAllTokens(lowerUTF8(message), [...])` reads the text index (tokenizer splitByNonAlpha)
//     and skips every granule without all the words. Only ASCII tokens are given to it:
//     splitByNonAlpha splits on ASCII punctuation only, so `naïve—word` is one token there but
//     two words here, and a non-ASCII word would miss lines that do contain it.
//   - `match(lowerUTF8(message), re)` then checks the phrase itself (order, adjacency, word
//     boundaries in Unicode terms) on the rows the index let through.
// The regex with Unicode classes (\p{L}…) costs ClickHouse ~15 ms to compile, and `match`
// compiles a constant pattern again for every block it is given (one per granule and part):
// 30 parts made a search 0.5–1 s of compiling. So a lower-cased message that is all ASCII
// (length = lengthUTF8) is matched with the same pattern over ASCII classes, which is the same
// test there (the only ASCII word characters are a-z and 0-9) and compiles in microseconds;
// `if` runs each branch only on its own rows, and not at all in a block without any.
// splitByNonAlpha keeps non-ASCII bytes inside tokens, so in a message with any (an em dash,
// curly quotes next to a word) the index misses words FTS5 finds: such rows skip the index test
// and take the regex alone (correct answers first; ~3× the engine time of the index alone per
// window on chdb, measured by s4-chsearch). A column flagging non-ASCII rows, with a minmax
// index, would let the index skip again (a schema change; not done).
// Known difference from FTS5: unicode61 also folds diacritics (é = e); this does not.
import { compileSearch, type FieldTerm, type Node } from '../../query/lang/index.js';
import type { LogFilter } from '../types.js';

export interface ChSearch {
  /** conditions on the logs row, ANDed (empty: every line) */
  where: string[];
  params: Record<string, unknown>;
}

/** Collects bound parameters under generated names (p0, p1, …) and returns their placeholders. */
export class Params {
  readonly values: Record<string, unknown> = {};
  private n = 0;
  constructor(private readonly prefix = 'p') {}
  add(type: string, value: unknown): string {
    const name = `${this.prefix}${this.n++}`;
    this.values[name] = value;
    return `{${name}:${type}}`;
  }
}

const WORD = '\\p{L}\\p{N}\\p{Co}\\p{Mn}';
const escapeRe = (s: string) => s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');

/** the ASCII word characters: WORD's members below U+0080 in a lower-cased message */
const ASCII_WORD_CLASS = 'a-z0-9';

/** The RE2 pattern of a text term on the lower-cased message (`word`: WORD or ASCII_WORD_CLASS). */
export function phrasePattern(tokens: string[], prefix: boolean, word = WORD): string {
  const body = tokens.map(escapeRe).join(`[^${word}]+`);
  return `(?:^|[^${word}])${body}${prefix ? '' : `(?:$|[^${word}])`}`;
}

/** the phrase test on the lower-cased message `msg`: ASCII classes on an all-ASCII message */
function phraseMatch(msg: string, tokens: string[], prefix: boolean, p: Params): string {
  const ascii = p.add('String', phrasePattern(tokens, prefix, ASCII_WORD_CLASS));
  const unicode = p.add('String', phrasePattern(tokens, prefix));
  return `if(length(${msg}) = lengthUTF8(${msg}), match(${msg}, ${ascii}), match(${msg}, ${unicode}))`;
}

const ASCII_WORD = /^[a-z0-9]+$/;

function textCondition(n: Node, p: Params): string {
  switch (n.type) {
    case 'text': {
      const msg = 'lowerUTF8(message)';
      const exact = n.prefix ? n.tokens.slice(0, -1) : n.tokens;
      const indexed = [...new Set(exact.filter((t) => ASCII_WORD.test(t)))];
      const re = phraseMatch(msg, n.tokens, n.prefix, p);
      if (!indexed.length) return re;
      const has = `hasAllTokens(${msg}, ${p.add('Array(String)', indexed)})`;
      // a message with non-ASCII characters may hold the words inside one index token
      // (`timeout—ok`, `“timeout”`): there the index cannot answer, only the regex
      const nonAscii = 'length(message) != lengthUTF8(message)';
      // a single whole ASCII word: the index's answer is exact on every other message
      if (!n.prefix && n.tokens.length === 1) return `(${has} OR (${nonAscii} AND ${re}))`;
      return `((${has} OR ${nonAscii}) AND ${re})`;
    }
    case 'and':
      return `(${n.items.map((i) => textCondition(i, p)).join(' AND ')})`;
    case 'or':
      return `(${n.items.map((i) => textCondition(i, p)).join(' OR ')})`;
    case 'not':
      return `(NOT ${textCondition(n.item, p)})`;
    case 'field':
      throw new Error('field terms are not part of the text condition');
  }
}

/** `*` is the language's only wildcard; LIKE's own `%`, `_` and `\` are escaped. */
export function toLike(glob: string): string {
  return glob.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%');
}

function fieldCondition(t: FieldTerm, p: Params): string {
  if (t.name === 'level') return `severity BETWEEN ${p.add('UInt8', t.severity!.lo)} AND ${p.add('UInt8', t.severity!.hi)}`;
  const cmp = (col: string) => (t.op === 'glob' ? `${col} LIKE ${p.add('String', toLike(t.value))}` : `${col} = ${p.add('String', t.value)}`);
  if (t.name === 'field') {
    // a missing key reads as '' from a Map: the key must be there
    const key = p.add('String', t.key);
    return `(mapContains(fields, ${key}) AND ${cmp(`fields[${key}]`)})`;
  }
  return cmp(t.name);
}

/**
 * The conditions of a filter and its search, without paging (start/end included). Throws
 * QueryError for a bad `q`, before any SQL is sent.
 */
export function chSearch(filter: Omit<LogFilter, 'limit' | 'cursor'>, p = new Params()): ChSearch {
  const where: string[] = [];
  if (filter.host !== undefined) where.push(`host = ${p.add('String', filter.host)}`);
  if (filter.source !== undefined) where.push(`source = ${p.add('String', filter.source)}`);
  if (filter.program !== undefined) where.push(`program = ${p.add('String', filter.program)}`);
  if (filter.severity !== undefined) where.push(`severity <= ${p.add('Int16', filter.severity)}`);
  if (filter.start !== undefined) where.push(`ts >= ${p.add('Int64', filter.start)}`);
  if (filter.end !== undefined) where.push(`ts < ${p.add('Int64', filter.end)}`);
  for (const [key, value] of Object.entries(filter.fields ?? {})) {
    where.push(fieldCondition({ type: 'field', name: 'field', key, op: 'eq', value, pos: 0 }, p));
  }
  const s = compileSearch(filter.q);
  if (s) {
    for (const t of s.fields) where.push(fieldCondition(t, p));
    if (s.text) where.push(textCondition(s.text, p));
  }
  return { where, params: p.values };
}
