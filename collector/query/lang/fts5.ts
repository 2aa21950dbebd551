// The text part of a search as an FTS5 MATCH expression. Every word becomes a quoted FTS5
// string of its own text, which FTS5 tokenizes with the index's tokenizer (unicode61) into a
// phrase: `10.0.0.1` → "10.0.0.1" → the phrase 10 0 0 1, exactly the tokens the line was
// indexed as. Nothing the person typed reaches FTS5 outside a quoted string, so no FTS5
// syntax (column filters, NEAR, ^) can be written and no FTS5 syntax error can happen.
import type { Node } from './ast.js';

/** NUL ends FTS5's reading of the string ("unterminated string"); it separates words anyway. */
function quote(s: string): string {
  return `"${s.replace(/"/g, '""').replace(/\0/g, ' ')}"`;
}

/** FTS5 has only a binary NOT: `a b -c -d` becomes (a AND b) NOT (c OR d). */
function andGroup(items: Node[]): string {
  const pos = items.filter((n) => n.type !== 'not').map(toFts5);
  const neg = items.filter((n) => n.type === 'not').map((n) => toFts5((n as { item: Node }).item));
  const base = pos.length === 1 ? pos[0]! : `(${pos.join(' AND ')})`;
  if (neg.length === 0) return base;
  return `(${base} NOT ${neg.length === 1 ? neg[0] : `(${neg.join(' OR ')})`})`;
}

/** The parser guarantees: no field terms here, and every AND group and OR branch has a positive item. */
export function toFts5(n: Node): string {
  switch (n.type) {
    case 'text':
      return n.prefix ? `${quote(n.text)} *` : quote(n.text);
    case 'or':
      return `(${n.items.map(toFts5).join(' OR ')})`;
    case 'and':
      return andGroup(n.items);
    case 'not':
      // only reachable as the sole item of a group, which the parser refuses
      return andGroup([n]);
    case 'field':
      throw new Error('field terms are not part of the full-text expression');
  }
}
