// A log line's structured fields as key=value chips under its message. Keys and values come
// from the logged application (attacker-controlled), so they reach the page as Text nodes and
// attribute values only. A chip is a button that adds `field.KEY:VALUE` to the search; a line
// with many fields shows the first few and a "+N more" button.
import { h } from './dom.js';
import { fieldClause } from './query.js';

export const CHIPS_SHOWN = 12;
// A very long value is cut in the chip (the whole value still goes into the filter).
const MAX_CHIP_CHARS = 160;

const cut = (s) => (s.length > MAX_CHIP_CHARS ? s.slice(0, MAX_CHIP_CHARS) + '…' : s);

function chip(key, value, onPick) {
  const text = [h('span', { class: 'k' }, cut(key)), '=', h('span', { class: 'v' }, cut(value))];
  const clause = fieldClause(key, value);
  if (!clause) return h('li', {}, h('span', { class: 'chip', title: 'This field name cannot be written in a search' }, text));
  const btn = h('button', { type: 'button', class: 'chip', title: `Add ${cut(clause)} to the search`, dataset: { key, value } }, text);
  btn.addEventListener('click', (ev) => {
    ev.stopPropagation();
    onPick(clause);
  });
  return h('li', {}, btn);
}

/** The chip list for `fields` (null when there are none); onPick(clause) on a click. */
export function fieldChips(fields, onPick) {
  if (!fields || typeof fields !== 'object') return null;
  const entries = Object.entries(fields).filter(([, v]) => v !== null && v !== undefined);
  if (!entries.length) return null;
  const list = h('ul', { class: 'fields', 'aria-label': `${entries.length} field${entries.length === 1 ? '' : 's'}` });
  for (const [k, v] of entries.slice(0, CHIPS_SHOWN)) list.append(chip(k, String(v), onPick));
  const rest = entries.slice(CHIPS_SHOWN);
  if (rest.length) {
    const more = h('button', { type: 'button', class: 'chip more', 'aria-label': `Show ${rest.length} more fields` }, `+${rest.length} more`);
    more.addEventListener('click', (ev) => {
      ev.stopPropagation();
      const li = more.parentElement;
      li.replaceWith(...rest.map(([k, v]) => chip(k, String(v), onPick)));
      list.querySelector('li:nth-child(' + (CHIPS_SHOWN + 1) + ') .chip')?.focus();
    });
    list.append(h('li', {}, more));
  }
  return list;
}

