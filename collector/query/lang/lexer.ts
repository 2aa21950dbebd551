// Splits a search into tokens: words, quoted phrases, parentheses and the operators. Positions
// are 0-based character offsets into the text as typed, so an error can point at its cause.
import { QueryError } from './errors.js';

export type Tok =
  | { kind: 'lparen'; pos: number }
  | { kind: 'rparen'; pos: number }
  | { kind: 'and' | 'or' | 'not'; pos: number }
  /** `-` directly before a term: that term must not occur */
  | { kind: 'minus'; pos: number }
  /**
   * A word as typed (may hold punctuation, `:` and `*`); `quoted` is the text of a phrase
   * that follows it directly (`host:"a b"`, `"a b"` alone has word ''). `star`: a `*` right
   * after the closing quote.
   */
  | { kind: 'word'; pos: number; word: string; quoted?: string; quotePos?: number; star?: boolean };

const SPACE = /\s/u;
const KEYWORDS: Record<string, 'and' | 'or' | 'not'> = { AND: 'and', OR: 'or', NOT: 'not' };

/** A phrase in double quotes starting at `start` (the quote); `\"` and `\\` escape. Returns its text and the index after it. */
function readQuoted(q: string, start: number): [string, number] {
  let out = '';
  for (let i = start + 1; i < q.length; i++) {
    const c = q[i]!;
    if (c === '\\' && (q[i + 1] === '"' || q[i + 1] === '\\')) {
      out += q[++i];
      continue;
    }
    if (c === '"') return [out, i + 1];
    out += c;
  }
  throw new QueryError(`unbalanced quote at ${start}: the phrase that starts there has no closing "`, start);
}

export function lex(q: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    if (c === '(') {
      toks.push({ kind: 'lparen', pos: i++ });
      continue;
    }
    if (c === ')') {
      toks.push({ kind: 'rparen', pos: i++ });
      continue;
    }
    // `-` begins a negation only before a term; inside a word (`bar-marker`) it is text
    if (c === '-' && i + 1 < q.length && !SPACE.test(q[i + 1]!) && q[i + 1] !== ')' && q[i + 1] !== '-') {
      toks.push({ kind: 'minus', pos: i++ });
      continue;
    }
    const pos = i;
    let word = '';
    while (i < q.length && !SPACE.test(q[i]!) && q[i] !== '(' && q[i] !== ')' && q[i] !== '"') word += q[i++];
    if (i < q.length && q[i] === '"') {
      // a phrase, alone or as a field's value (`host:"a b"`); text glued before a phrase is an error
      if (word !== '' && !word.endsWith(':')) {
        throw new QueryError(`a quote at ${i} starts inside the word '${word}'; put a space before it, or quote the whole phrase`, i);
      }
      const quotePos = i;
      const [text, after] = readQuoted(q, i);
      i = after;
      let star = false;
      if (q[i] === '*') {
        star = true;
        i++;
      }
      if (i < q.length && !SPACE.test(q[i]!) && q[i] !== ')' && q[i] !== '(') {
        throw new QueryError(`text at ${i} follows a closing quote directly; put a space between them`, i);
      }
      toks.push({ kind: 'word', pos, word, quoted: text, quotePos, star });
      continue;
    }
    const kw = KEYWORDS[word];
    toks.push(kw ? { kind: kw, pos } : { kind: 'word', pos, word });
  }
  return toks;
}
