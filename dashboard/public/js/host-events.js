// A host's lifecycle events (up, stale, down, retired, newest first) on its page, from
// GET /api/v1/hosts/:host/events. A collector without host lifecycle has no such route: the
// section then stays hidden. Every value becomes a text node (dom.js), whatever it holds.
import { api, ApiError } from './api.js';
import { h } from './dom.js';
import { ago, fmtTime } from './format.js';
import { STATES } from './host-state.js';

/** How many events the page lists; the API answers newest first. */
export const EVENTS_SHOWN = 50;

export function eventsPath(host) {
  return `/api/v1/hosts/${encodeURIComponent(host)}/events`;
}

export function eventsSection() {
  const list = h('ol', { class: 'host-events', id: 'host-events-list' });
  const note = h('p', { class: 'muted small', id: 'host-events-note' });
  const section = h('section', { id: 'host-events', hidden: true, 'aria-labelledby': 'host-events-title' },
    h('h2', { id: 'host-events-title' }, 'Lifecycle'), note, list);
  return { section, list, note };
}

function stateBadge(state) {
  // A state this page does not know is still shown, as text, without its colour.
  return h('span', { class: 'badge ' + (STATES.includes(state) ? state : 'unknown') }, state == null ? '—' : String(state));
}

/** Fills the section; resolves 'absent' (404: hidden), 'shown' or 'failed'. */
export async function loadEvents(ui, host, signal) {
  let res;
  try {
    res = await api(eventsPath(host), { signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    if (err instanceof ApiError && err.status === 404) {
      ui.section.hidden = true;
      ui.section.dataset.ready = 'absent';
      return 'absent';
    }
    ui.note.textContent = `Could not load the lifecycle events: ${err.message}`;
    ui.section.hidden = false;
    ui.section.dataset.ready = 'failed';
    return 'failed';
  }
  const items = (Array.isArray(res?.items) ? res.items : []).filter((e) => Number.isFinite(Number(e?.ts)));
  const now = Date.now();
  ui.list.replaceChildren(
    ...items.slice(0, EVENTS_SHOWN).map((e) =>
      h('li', { dataset: { to: String(e.to ?? '') } },
        h('time', { datetime: new Date(Number(e.ts)).toISOString(), title: ago(Number(e.ts), now) }, fmtTime(Number(e.ts))),
        ' ', stateBadge(e.from), ' → ', stateBadge(e.to))),
  );
  ui.note.textContent = items.length === 0 ? 'No lifecycle events yet.' : items.length > EVENTS_SHOWN ? `The newest ${EVENTS_SHOWN} of ${items.length}.` : '';
  ui.section.hidden = false;
  ui.section.dataset.ready = 'shown';
  return 'shown';
}
