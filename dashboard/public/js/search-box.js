// The logs search box: the query input, a "?" button opening a short syntax reference (the
// dashboard does not serve docs/, so the essentials live here and the full page is named), and
// the place under the box where a refused query's reason appears — announced (role=alert),
// tied to the input (aria-describedby, aria-invalid), the offending character marked. No
// alert() dialogs; the query text is shown as Text nodes.
import { h } from './dom.js';
import { around, errorPosition } from './query.js';

const SYNTAX = [
  ['10.0.0.1  /api/v1/users  user@example.com', 'a term with punctuation matches that exact sequence'],
  ['"connection reset"', 'a phrase'],
  ['timeout refused', 'both words (AND is implicit)'],
  ['timeout OR refused', 'either'],
  ['NOT debug   -debug', 'leave out lines with the word'],
  ['(a OR b) c', 'grouping'],
  ['time*', 'words starting with "time" (at least 2 characters)'],
  ['host:web-*  program:nginx  source:/var/log/app.log', 'line metadata'],
  ['level:>=warning', 'warning and more important (or severity:)'],
  ['field.user_id:42  field.path:"/a b"', 'a structured field; click a chip under a line to add one'],
];

export function searchBox(value) {
  const input = h('input', {
    type: 'search', name: 'q', id: 'log-q', value, autocomplete: 'off', spellcheck: 'false',
    placeholder: 'words, "phrases", a OR b, field.k:v', 'aria-describedby': 'log-q-error',
  });
  const error = h('div', { id: 'log-q-error', class: 'query-error', role: 'alert' });
  const help = h('div', { id: 'query-help', class: 'query-help', role: 'region', 'aria-label': 'Search syntax', hidden: true },
    h('dl', {}, SYNTAX.map(([code, what]) => [h('dt', {}, h('code', {}, code)), h('dd', {}, what)])),
    h('p', { class: 'muted small' }, 'Full reference: docs/query-language.md in the ringtail repository.'));
  const helpBtn = h('button', { type: 'button', id: 'query-help-toggle', class: 'ghost help-btn', 'aria-expanded': 'false', 'aria-controls': 'query-help', title: 'Search syntax', 'aria-label': 'Search syntax help' }, '?');
  const setOpen = (open) => {
    help.hidden = !open;
    helpBtn.setAttribute('aria-expanded', String(open));
  };
  helpBtn.addEventListener('click', () => setOpen(help.hidden));
  const el = h('div', { class: 'field search-field' },
    h('label', { for: 'log-q' }, 'Search'),
    h('div', { class: 'search-row' }, input, helpBtn),
    error, help);
  el.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !help.hidden) {
      setOpen(false);
      helpBtn.focus();
    }
  });
  const onOutside = (ev) => {
    if (!help.hidden && !el.contains(ev.target)) setOpen(false);
  };
  document.addEventListener('click', onOutside);

  return {
    el,
    input,
    /** Shows why the collector refused `query` (an ApiError), or clears with null. */
    showError(err, query = input.value) {
      if (!err) {
        error.replaceChildren();
        input.removeAttribute('aria-invalid');
        return;
      }
      input.setAttribute('aria-invalid', 'true');
      const pos = errorPosition(err.body ?? { message: err.message }, query);
      const parts = [h('span', { class: 'query-error-msg' }, err.message || 'The search was refused.')];
      if (pos !== null) {
        const w = around(query, pos);
        parts.push(h('code', { class: 'query-caret', 'aria-label': `at character ${pos + 1}` },
          w.before, h('mark', { class: 'bad' }, w.at || ' '), w.after));
      }
      error.replaceChildren(...parts);
    },
    dispose() {
      document.removeEventListener('click', onOutside);
    },
  };
}
