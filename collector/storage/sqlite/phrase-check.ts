// Phrases on a full-text index without positions (FTS5 detail=none, databases created from
// session 6 on: see open.ts). Such an index stores which lines hold a token, not where, so FTS5
// refuses a phrase of two or more tokens — and every punctuated term is one (`10.0.0.1` is the
// phrase 10 0 0 1). A search with such a phrase is asked of FTS5 as the AND of the phrase's
// tokens (a superset of its answers) and each candidate line is checked against the search
// itself by `ringtail_text_match(l.message, @tm)`, a condition of the same statement, so LIMIT,
// windows and every plan see exactly today's answers.
//
// Why the index has no positions: on the writer thread, the thread the whole ingest path waits
// for, merging and writing position lists was a third of the commit (writer-path, 1 M lines).
//
// The check is exact. A line and a search that are both ASCII are tokenized here the way
// unicode61 tokenizes ASCII (runs of [0-9A-Za-z], folded to lower case) and the search tree is
// evaluated on the tokens (~1 µs); anything else is asked of FTS5 itself, in a one-line
// full-text table with logs_fts's tokenizer and positions, on a private in-memory connection
// (a user function may not use the connection whose statement calls it).
import Database from 'better-sqlite3';
import { toFts5, type Node } from '../../query/lang/index.js';
import type { Db } from './open.js';
import type { SqlSearch } from './search.js';

const ASCII = /^[\x00-\x7f]*$/;
const ASCII_TOKEN = /[0-9A-Za-z]+/g;
/** searches whose check is registered at once, at most (a registry per connection) */
const REGISTRY_MAX = 256;

/** unicode61 on ASCII text */
function asciiTokens(s: string): string[] {
  return (s.match(ASCII_TOKEN) ?? []).map((t) => t.toLowerCase());
}

/** What a node's text terms tokenize to, each term once. */
function textTerms(n: Node, out: Array<Extract<Node, { type: 'text' }>> = []): typeof out {
  if (n.type === 'text') out.push(n);
  else if (n.type === 'and' || n.type === 'or') for (const i of n.items) textTerms(i, out);
  else if (n.type === 'not') textTerms(n.item, out);
  return out;
}

/** A search tree evaluated on a line's tokens; null when it cannot be (not ASCII, a term without tokens). */
type TokenMatcher = (tokens: string[]) => boolean;

function phraseAt(line: string[], at: number, phrase: string[], prefix: boolean): boolean {
  const last = phrase.length - 1;
  for (let k = 0; k < last; k++) if (line[at + k] !== phrase[k]) return false;
  return prefix ? line[at + last]!.startsWith(phrase[last]!) : line[at + last] === phrase[last];
}

function compileTokens(n: Node): TokenMatcher | null {
  switch (n.type) {
    case 'text': {
      if (!ASCII.test(n.text)) return null;
      const phrase = asciiTokens(n.text);
      if (phrase.length === 0) return null;
      const prefix = n.prefix;
      return (line) => {
        for (let at = 0; at + phrase.length <= line.length; at++) if (phraseAt(line, at, phrase, prefix)) return true;
        return false;
      };
    }
    case 'or': {
      const items = n.items.map(compileTokens);
      if (items.some((i) => i === null)) return null;
      return (line) => items.some((i) => i!(line));
    }
    case 'and': {
      // FTS5's binary NOT, as toFts5 writes it: (all positives) NOT (any negative)
      const pos = n.items.filter((i) => i.type !== 'not').map(compileTokens);
      const neg = n.items.filter((i) => i.type === 'not').map((i) => compileTokens((i as { item: Node }).item));
      if (pos.length === 0 || pos.some((i) => i === null) || neg.some((i) => i === null)) return null;
      return (line) => pos.every((i) => i!(line)) && !neg.some((i) => i!(line));
    }
    default:
      return null;
  }
}

/** A check of one search: the FTS5 expression that defines it and, when it can, its token matcher. */
interface Check {
  exact: string;
  tokens: TokenMatcher | null;
}

export interface PhraseSearch {
  /** whether logs_fts has positions (phrases are then FTS5's own) */
  readonly positions: boolean;
  /** the search as logs_fts can answer it: phrases loosened to their tokens, plus the exact check as a condition */
  adapt(s: SqlSearch): SqlSearch;
}

/** Whether this database's logs_fts was created without positions (recorded at creation, open.ts). */
export function ftsWithoutPositions(db: Db): boolean {
  const row = db.prepare("SELECT value FROM log_index_meta WHERE key = 'fts_detail_none'").pluck().get() as number | undefined;
  return row === 1;
}

const perDb = new WeakMap<Db, PhraseSearch>();

/** The phrase handling of `db`'s searches (one per connection: it registers the check function there). */
export function phraseSearch(db: Db): PhraseSearch {
  let p = perDb.get(db);
  if (!p) perDb.set(db, (p = makePhraseSearch(db)));
  return p;
}

function makePhraseSearch(db: Db): PhraseSearch {
  if (!ftsWithoutPositions(db)) return { positions: true, adapt: (s) => s };
  // FTS5 with positions and logs_fts's tokenizer (migration 1: unicode61 with its defaults)
  let mem: Database.Database | null = null;
  let put: Database.Statement, match: Database.Statement, clear: Database.Statement, vocab: Database.Statement;
  const fts5 = () => {
    if (mem === null) {
      mem = new Database(':memory:');
      mem.exec("CREATE VIRTUAL TABLE c USING fts5 (m, tokenize='unicode61'); CREATE VIRTUAL TABLE v USING fts5vocab (c, 'instance')");
      put = mem.prepare('INSERT INTO c (rowid, m) VALUES (1, ?)');
      match = mem.prepare('SELECT count(*) FROM c WHERE c MATCH ?').pluck();
      clear = mem.prepare('DELETE FROM c');
      vocab = mem.prepare('SELECT term FROM v ORDER BY offset').pluck();
    }
    return { put, match, clear, vocab };
  };
  const viaFts5 = (message: string, exact: string): boolean => {
    const f = fts5();
    f.put.run(message);
    try {
      return (f.match.get(exact) as number) > 0;
    } finally {
      f.clear.run();
    }
  };
  /** unicode61's tokens of a term's text, as logs_fts would index them */
  const tokensOf = (text: string): string[] => {
    if (ASCII.test(text)) return asciiTokens(text);
    const f = fts5();
    f.put.run(text);
    try {
      return f.vocab.all() as string[];
    } finally {
      f.clear.run();
    }
  };
  const quote = (t: string) => `"${t.replace(/"/g, '""')}"`;
  /** The tree as an expression logs_fts answers: a superset of the tree's answers. */
  const loose = (n: Node): string => {
    switch (n.type) {
      case 'text': {
        const tokens = tokensOf(n.text);
        if (tokens.length < 2) return toFts5(n);
        return `(${tokens.map(quote).join(' AND ')}${n.prefix ? ' *' : ''})`;
      }
      case 'or':
        return `(${n.items.map(loose).join(' OR ')})`;
      case 'and': {
        const pos = n.items.filter((i) => i.type !== 'not').map(loose);
        // a negated phrase cannot be loosened (NOT of a superset drops answers): it is left out here, to the check
        const neg = n.items.filter((i) => i.type === 'not').map((i) => (i as { item: Node }).item);
        const kept = neg.filter((i) => textTerms(i).every((t) => tokensOf(t.text).length < 2)).map(toFts5);
        const base = pos.length === 1 ? pos[0]! : `(${pos.join(' AND ')})`;
        return kept.length === 0 ? base : `(${base} NOT ${kept.length === 1 ? kept[0] : `(${kept.join(' OR ')})`})`;
      }
      default:
        return toFts5(n);
    }
  };
  const checks = new Map<string, Check>();
  db.function('ringtail_text_match', { deterministic: true }, (message: unknown, key: unknown) => {
    const c = checks.get(key as string);
    // a search is registered before its statements run; a missing one is a bug, not a non-match
    if (c === undefined) throw new Error(`ringtail_text_match: no search ${String(key)}`);
    const m = message as string;
    if (c.tokens !== null && ASCII.test(m)) return c.tokens(asciiTokens(m)) ? 1 : 0;
    return viaFts5(m, c.exact) ? 1 : 0;
  });
  return {
    positions: false,
    adapt(s) {
      if (s.fts === null || s.text === null) return s;
      const fts = loose(s.text);
      if (fts === s.fts) return s;
      if (!checks.has(s.fts)) {
        if (checks.size >= REGISTRY_MAX) checks.delete(checks.keys().next().value!);
        checks.set(s.fts, { exact: s.fts, tokens: compileTokens(s.text) });
      }
      return { ...s, fts, where: [...s.where, 'ringtail_text_match(l.message, @tm)'], params: { ...s.params, tm: s.fts } };
    },
  };
}
