// Search highlights built by splitting text into text nodes and <mark> elements — never by
// writing HTML. Kibana (CVE-2021-37936) and Graylog (#819) both turned log text into markup
// while highlighting; here the text is only ever a Text node's data.

const OPERATORS = new Set(['AND', 'OR', 'NOT', 'NEAR']);

/** The words of an FTS5 query worth highlighting (operators, column names and syntax dropped). */
export function termsOf(query) {
  if (!query) return [];
  const terms = [];
  for (const m of query.matchAll(/"([^"]*)"|([\p{L}\p{N}_]+)\*?/gu)) {
    if (m[1] !== undefined) {
      for (const w of m[1].match(/[\p{L}\p{N}_]+/gu) ?? []) terms.push(w);
    } else if (m[2] && !OPERATORS.has(m[2])) {
      terms.push(m[2]);
    }
  }
  return [...new Set(terms.map((t) => t.toLowerCase()))].filter((t) => t.length > 0);
}

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A fragment of Text nodes and <mark>s for `text`, marking each word that starts with a term. */
export function highlight(text, terms) {
  const frag = document.createDocumentFragment();
  if (!terms.length) {
    frag.append(document.createTextNode(text));
    return frag;
  }
  // Longest first so "timeout" wins over "time"; matches start at a word boundary, like FTS5 tokens.
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${[...terms].sort((a, b) => b.length - a.length).map(escapeRe).join('|')})`, 'giu');
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) frag.append(document.createTextNode(text.slice(last, m.index)));
    const mark = document.createElement('mark');
    mark.append(document.createTextNode(m[0]));
    frag.append(mark);
    last = m.index + m[0].length;
  }
  if (last < text.length) frag.append(document.createTextNode(text.slice(last)));
  return frag;
}
