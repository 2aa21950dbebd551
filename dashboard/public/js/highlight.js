// Search highlights built by splitting text into text nodes and <mark> elements — never by
// writing HTML. Kibana (CVE-2021-37936) and Graylog (#819) both turned log text into markup
// while highlighting; here the text is only ever a Text node's data.

const OPERATORS = new Set(['AND', 'OR', 'NOT']);
const WORDS = /[\p{L}\p{N}_]+/gu;
// `name:` before a value makes a field term (host:web-*, field.user:42, level:>=warning): it
// filters on metadata, not on the message's words, so it is not highlighted.
const FIELD_TERM = /^(?:host|program|source|level|severity|field\.[^:\s]+):/i;
// `message:` names the text itself: its value is highlighted like a bare term
const MESSAGE_TERM = /^message:/i;

/**
 * What to highlight for a query in ringtail's language: each term or "phrase" as its words
 * joined by one space ("10.0.0.1" → "10 0 0 1", the token sequence the index matches), leaving
 * out operators, field terms and negated terms (-x, NOT x), which select no text to mark.
 */
export function termsOf(query) {
  if (!query) return [];
  const terms = [];
  let negate = false;
  let i = 0;
  const take = (text) => {
    const words = text.match(WORDS) ?? [];
    if (words.length && !negate) terms.push(words.join(' '));
    negate = false;
  };
  while (i < query.length) {
    const c = query[i];
    if (/\s/.test(c) || c === '(' || c === ')') {
      if (c === '(' || c === ')') negate = false;
      i++;
    } else if (c === '-' && i + 1 < query.length && !/\s/.test(query[i + 1]) && (i === 0 || /[\s(]/.test(query[i - 1]))) {
      negate = true;
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      while (j < query.length && query[j] !== '"') {
        if (query[j] === '\\' && j + 1 < query.length) j++;
        text += query[j++];
      }
      take(text);
      i = j + 1;
    } else {
      // a bare term runs to whitespace or a parenthesis; a quoted part inside (field:"a b") is kept whole
      let j = i;
      while (j < query.length && !/[\s()]/.test(query[j])) {
        if (query[j] === '"') {
          j++;
          while (j < query.length && query[j] !== '"') j += query[j] === '\\' ? 2 : 1;
        }
        j++;
      }
      const word = query.slice(i, j);
      i = j;
      if (OPERATORS.has(word)) negate = word === 'NOT';
      else if (FIELD_TERM.test(word)) negate = false;
      else take(word.replace(MESSAGE_TERM, '').replace(/\*$/, ''));
    }
  }
  return [...new Set(terms.map((t) => t.toLowerCase()))];
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
  // Longest first so "timeout" wins over "time"; matches start at a word boundary, like FTS5
  // tokens, and the words of a phrase may be separated by any non-word characters ("10 0 0 1"
  // marks 10.0.0.1).
  const alts = [...terms].sort((a, b) => b.length - a.length).map((t) => t.split(' ').map(escapeRe).join('[^\\p{L}\\p{N}_]+'));
  const re = new RegExp(`(?<![\\p{L}\\p{N}_])(?:${alts.join('|')})`, 'giu');
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
