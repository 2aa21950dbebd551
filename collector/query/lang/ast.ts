// The search language's syntax tree. It says what the person asked for, not how a store finds
// it: the SQLite store translates text nodes to an FTS5 MATCH string (./fts5.ts) and field
// terms to SQL conditions; another store translates the same tree to its own terms.

/** Characters the log index treats as parts of words (unicode61's default: letters, numbers, private use). */
export const TOKEN_RUN = /[\p{L}\p{N}\p{Co}\p{Mn}]+/gu;

/** The words a text term is indexed as (lower case, punctuation dropped): `10.0.0.1` → 10 0 0 1. */
export function tokensOf(text: string): string[] {
  return (text.match(TOKEN_RUN) ?? []).map((t) => t.toLowerCase());
}

/**
 * A word or a quoted phrase. Matches lines that contain its tokens as a sequence; `prefix`
 * makes the last token a prefix (`timeo*`).
 */
export interface TextTerm {
  type: 'text';
  /** the text as typed, without quotes and `*` */
  text: string;
  tokens: string[];
  prefix: boolean;
  quoted: boolean;
  pos: number;
}

export interface AndNode {
  type: 'and';
  items: Node[];
  pos: number;
}

export interface OrNode {
  type: 'or';
  items: Node[];
  pos: number;
}

export interface NotNode {
  type: 'not';
  item: Node;
  pos: number;
}

export type FieldName = 'host' | 'program' | 'source' | 'level' | 'field';
export type FieldOp = 'eq' | 'glob' | 'le' | 'ge';

/**
 * `host:web-*`, `program:nginx`, `source:/var/log/app.log`, `level:>=warning`, `field.user_id:42`.
 * For `level`, `value` is a severity number range: `lo` ≤ severity ≤ `hi` (0 emerg … 7 debug).
 */
export interface FieldTerm {
  type: 'field';
  name: FieldName;
  /** for `field.KEY`: the key */
  key?: string;
  op: 'eq' | 'glob';
  value: string;
  /** level terms only: the severities allowed, inclusive */
  severity?: { lo: number; hi: number };
  pos: number;
}

export type Node = TextTerm | AndNode | OrNode | NotNode | FieldTerm;

/** A parsed search: field terms (all must hold) and an optional text condition on the message. */
export interface Search {
  fields: FieldTerm[];
  /** null when the search has no words, only field terms */
  text: Node | null;
}
