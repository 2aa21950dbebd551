// The search language (docs/query-language.md): words and "phrases", implicit AND, OR, NOT or
// `-`, parentheses, `prefix*`, and field terms (`host:web-*`, `level:>=warning`,
// `field.user_id:42`). Recursive descent over the lexer's tokens; every refusal is a QueryError
// naming the position. Bounds (length, terms, nesting) are checked before any work that grows
// with them, so a hostile search costs microseconds, never a stall.
import { tokensOf, type FieldTerm, type Node, type Search, type TextTerm } from './ast.js';
import { QueryError } from './errors.js';
import { lex, type Tok } from './lexer.js';

/** characters of a search at most (a search box, a rule's query) */
export const MAX_QUERY_LENGTH = 4096;
/** words, phrases and field terms at most */
export const MAX_TERMS = 64;
/** parentheses and NOTs nested at most */
export const MAX_DEPTH = 16;
/**
 * A private-use character the SQLite log index starts its host tokens with
 * (collector/storage/sqlite/host-tokens.ts): a word containing it could name a host's lines
 * rather than a text, so no search may contain it (the same refusal for every store).
 */
export const RESERVED_CHAR = '\uE000';
/** characters a prefix search needs before `*`: `a*` would expand to a large part of the vocabulary */
export const MIN_PREFIX = 2;

const FIELD_NAMES: Record<string, FieldTerm['name'] | 'message'> = {
  host: 'host',
  program: 'program',
  source: 'source',
  level: 'level',
  severity: 'level',
  message: 'message',
};

/** Syslog severities by name; several spellings people and libraries use. */
export const LEVELS: Record<string, number> = {
  emerg: 0, emergency: 0, panic: 0,
  alert: 1,
  crit: 2, critical: 2, fatal: 2,
  err: 3, error: 3,
  warn: 4, warning: 4,
  notice: 5,
  info: 6, informational: 6,
  debug: 7, trace: 7,
};

/**
 * The one check of a prefix search, for every place that searches (logs, histogram, live tail,
 * log alert rules): the word before `*` needs MIN_PREFIX characters.
 */
export function checkPrefix(tokens: string[], pos: number): void {
  const last = tokens[tokens.length - 1] ?? '';
  if ([...last].length < MIN_PREFIX) {
    throw new QueryError(`prefix '${last}*' at ${pos} matches too many words; use at least ${MIN_PREFIX} characters before *`, pos);
  }
}

function levelRange(raw: string, pos: number): { lo: number; hi: number } {
  const m = /^(>=|<=|>|<|=)?(.*)$/s.exec(raw)!;
  const op = m[1] ?? '=';
  const name = m[2]!.toLowerCase();
  const n = /^[0-7]$/.test(name) ? Number(name) : LEVELS[name];
  if (n === undefined) {
    throw new QueryError(`unknown level '${m[2]}' at ${pos}; use a name (emerg, alert, crit, error, warning, notice, info, debug) or 0–7`, pos);
  }
  // "higher" means more serious, which is a lower syslog number
  switch (op) {
    case '>=':
      return { lo: 0, hi: n };
    case '>':
      if (n === 0) throw new QueryError(`nothing is more serious than '${m[2]}' (at ${pos})`, pos);
      return { lo: 0, hi: n - 1 };
    case '<=':
      return { lo: n, hi: 7 };
    case '<':
      if (n === 7) throw new QueryError(`nothing is less serious than '${m[2]}' (at ${pos})`, pos);
      return { lo: n + 1, hi: 7 };
    default:
      return { lo: n, hi: n };
  }
}

class Parser {
  private i = 0;
  terms = 0;

  constructor(
    private readonly toks: Tok[],
    private readonly length: number,
  ) {}

  private peek(): Tok | undefined {
    return this.toks[this.i];
  }

  private startsOperand(t: Tok | undefined): boolean {
    return t !== undefined && (t.kind === 'word' || t.kind === 'lparen' || t.kind === 'not' || t.kind === 'minus');
  }

  parse(): Node | null {
    if (this.toks.length === 0) return null;
    const n = this.or(0);
    const t = this.peek();
    if (t) {
      if (t.kind === 'rparen') throw new QueryError(`unbalanced parenthesis at ${t.pos}: ')' without '('`, t.pos);
      throw new QueryError(`unexpected '${this.show(t)}' at ${t.pos}`, t.pos);
    }
    return n;
  }

  private show(t: Tok): string {
    return t.kind === 'word' ? t.word : t.kind === 'lparen' ? '(' : t.kind === 'rparen' ? ')' : t.kind === 'minus' ? '-' : t.kind.toUpperCase();
  }

  private or(depth: number): Node {
    const first = this.and(depth);
    const items = [first];
    while (this.peek()?.kind === 'or') {
      const op = this.peek()!;
      this.i++;
      if (!this.startsOperand(this.peek())) throw new QueryError(`OR at ${op.pos} needs something to search on its right`, op.pos);
      items.push(this.and(depth));
    }
    return items.length === 1 ? first : { type: 'or', items, pos: first.pos };
  }

  private and(depth: number): Node {
    const first = this.unary(depth);
    const items = [first];
    for (;;) {
      const t = this.peek();
      if (t?.kind === 'and') {
        this.i++;
        if (!this.startsOperand(this.peek())) throw new QueryError(`AND at ${t.pos} needs something to search on its right`, t.pos);
        items.push(this.unary(depth));
      } else if (this.startsOperand(t)) {
        items.push(this.unary(depth));
      } else break;
    }
    return items.length === 1 ? first : { type: 'and', items, pos: first.pos };
  }

  private unary(depth: number): Node {
    const t = this.peek();
    if (t === undefined) throw new QueryError(`the search ends at ${this.length} where a word was expected`, this.length);
    if (t.kind === 'not' || t.kind === 'minus') {
      if (depth >= MAX_DEPTH) throw new QueryError(`too deeply nested at ${t.pos} (at most ${MAX_DEPTH} levels)`, t.pos);
      this.i++;
      if (!this.startsOperand(this.peek())) {
        throw new QueryError(`${t.kind === 'not' ? 'NOT' : '-'} at ${t.pos} needs a word, phrase or group after it`, t.pos);
      }
      return { type: 'not', item: this.unary(depth + 1), pos: t.pos };
    }
    if (t.kind === 'lparen') {
      if (depth >= MAX_DEPTH) throw new QueryError(`too deeply nested at ${t.pos} (at most ${MAX_DEPTH} levels)`, t.pos);
      this.i++;
      if (this.peek()?.kind === 'rparen') throw new QueryError(`empty parentheses at ${t.pos}`, t.pos);
      if (this.peek() === undefined) throw new QueryError(`unbalanced parenthesis at ${t.pos}: '(' without ')'`, t.pos);
      const inner = this.or(depth + 1);
      if (this.peek()?.kind !== 'rparen') throw new QueryError(`unbalanced parenthesis at ${t.pos}: '(' without ')'`, t.pos);
      this.i++;
      return inner;
    }
    if (t.kind === 'word') {
      this.i++;
      if (++this.terms > MAX_TERMS) throw new QueryError(`too many terms: at most ${MAX_TERMS} words, phrases and fields (the one at ${t.pos} is one more)`, t.pos);
      return this.term(t);
    }
    throw new QueryError(`unexpected '${this.show(t)}' at ${t.pos}`, t.pos);
  }

  private term(t: Extract<Tok, { kind: 'word' }>): Node {
    const colon = t.word.indexOf(':');
    if (colon > 0) {
      const name = t.word.slice(0, colon);
      const lower = name.toLowerCase();
      const known = FIELD_NAMES[lower] ?? (lower.startsWith('field.') ? 'field' : undefined);
      if (known !== undefined) {
        const valuePos = t.quotePos ?? t.pos + colon + 1;
        const value = t.quoted ?? t.word.slice(colon + 1);
        if (t.quoted === undefined && value === '') throw new QueryError(`${name}: needs a value at ${valuePos}`, valuePos);
        if (known === 'message') return this.text(value, valuePos, t.quoted !== undefined, t.star === true || (t.quoted === undefined && value.endsWith('*')));
        return this.field(known, name, value, t.quoted !== undefined, t.pos, valuePos);
      }
      // any other `word:` is text (`status:500`, `http://host`)
    }
    if (t.quoted !== undefined) {
      if (t.word !== '') return this.text(t.word + t.quoted, t.pos, true, t.star === true);
      return this.text(t.quoted, t.pos, true, t.star === true);
    }
    return this.text(t.word, t.pos, false, t.word.endsWith('*'));
  }

  private text(raw: string, pos: number, quoted: boolean, star: boolean): TextTerm {
    let text = raw;
    let prefix = false;
    if (!quoted && star) text = raw.slice(0, -1);
    if (!quoted) {
      const inner = text.indexOf('*');
      if (inner >= 0) throw new QueryError(`'*' at ${pos + inner} can only end a word (prefix search, as in timeo*)`, pos + inner);
    }
    const mark = raw.indexOf(RESERVED_CHAR);
    if (mark >= 0) {
      // a phrase's position is its opening quote's
      const at = pos + mark + (quoted ? 1 : 0);
      throw new QueryError(`the character U+E000 at ${at} is reserved (the log index uses it for hosts); leave it out of the search`, at);
    }
    const tokens = tokensOf(text);
    if (tokens.length === 0) {
      throw new QueryError(`'${raw}' at ${pos} has no letters or digits to search for`, pos);
    }
    if (star) {
      // `10.0.*` is the tokens 10 0 followed by anything: no word is a prefix there
      const lastChar = [...text].pop() ?? '';
      prefix = tokensOf(lastChar).length > 0;
      if (prefix) checkPrefix(tokens, pos);
    }
    return { type: 'text', text, tokens, prefix, quoted, pos };
  }

  private field(name: FieldTerm['name'], typed: string, value: string, quoted: boolean, pos: number, valuePos: number): FieldTerm {
    if (name === 'level') return { type: 'field', name, op: 'eq', value, severity: levelRange(value, valuePos), pos };
    let key: string | undefined;
    if (name === 'field') {
      key = typed.slice('field.'.length);
      if (key === '') throw new QueryError(`field.: needs a field name at ${pos + 6}, as in field.user_id:42`, pos + 6);
    }
    const glob = !quoted && value.includes('*');
    if (glob && value.replace(/\*/g, '') === '') throw new QueryError(`${typed}:${value} at ${pos} matches everything; leave it out`, pos);
    return { type: 'field', name, ...(key !== undefined ? { key } : {}), op: glob ? 'glob' : 'eq', value, pos };
  }
}

function positives(n: Node): boolean {
  return n.type !== 'not';
}

/**
 * Field terms are conditions on the whole line; they may only be ANDed at the top level
 * (`host:web-* timeout`), not inside OR or NOT, which a store could not combine with the
 * full-text index cheaply. A group of ANDed terms needs a positive one: a store can subtract
 * matches (`timeout -retry`) but not list every line that lacks a word.
 */
function split(root: Node | null): Search {
  const fields: FieldTerm[] = [];
  const top: Node[] = [];
  const flatten = (n: Node) => {
    if (n.type === 'and') n.items.forEach(flatten);
    else if (n.type === 'field') fields.push(n);
    else top.push(n);
  };
  if (root) flatten(root);
  const check = (n: Node): void => {
    if (n.type === 'field') {
      throw new QueryError(`field term at ${n.pos} inside OR or NOT: field terms (host:, level:, field.…:) can only be combined with AND at the top level`, n.pos);
    }
    if (n.type === 'and') {
      n.items.forEach(check);
      if (!n.items.some(positives)) throw new QueryError(`the group at ${n.pos} only excludes words; add a word or phrase to look for`, n.pos);
    } else if (n.type === 'or') {
      n.items.forEach(check);
      const bad = n.items.find((x) => x.type === 'not');
      if (bad) throw new QueryError(`NOT at ${bad.pos} inside OR excludes from nothing; group it with a word to look for, as in (a -b) OR c`, bad.pos);
    } else if (n.type === 'not') {
      if (n.item.type === 'not') throw new QueryError(`NOT at ${n.item.pos} negates a NOT; leave both out`, n.item.pos);
      check(n.item);
    }
  };
  top.forEach(check);
  if (top.length > 0 && !top.some(positives)) {
    const first = top[0]!;
    const onlyFields = fields.length > 0 ? ' (field terms filter lines but are not words)' : '';
    throw new QueryError(`the search at ${first.pos} only excludes words; add a word or phrase to look for${onlyFields}`, first.pos);
  }
  const text = top.length === 0 ? null : top.length === 1 ? top[0]! : { type: 'and' as const, items: top, pos: top[0]!.pos };
  return { fields, text };
}

/** Parses a search; throws QueryError (400, RINGTAIL_ERR_BAD_QUERY, `position`). Empty or blank: no conditions. */
export function parseSearch(q: string): Search {
  if (q.length > MAX_QUERY_LENGTH) throw new QueryError(`the search is ${q.length} characters long; at most ${MAX_QUERY_LENGTH}`, MAX_QUERY_LENGTH);
  const p = new Parser(lex(q), q.length);
  return split(p.parse());
}
