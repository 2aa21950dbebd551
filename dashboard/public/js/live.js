// Live tail: Server-Sent Events from GET /api/v1/logs/stream with the explorer's filters (the
// session cookie rides along, same origin). When the collector has no stream endpoint the
// tail falls back to polling /api/v1/logs every second for lines newer than the last seen.
import { api, qs } from './api.js';

/** Starts tailing; calls onLines(items) with new lines (oldest first). Returns stop(). */
export function tail(filters, onLines, onMode = () => {}) {
  let stopped = false;
  let es = null;
  let poll = null;
  const seen = new Set();
  const deliver = (items) => {
    const fresh = items.filter((i) => i && typeof i.id !== 'undefined' && !seen.has(i.id));
    for (const i of fresh) seen.add(i.id);
    if (seen.size > 20_000) seen.clear();
    if (fresh.length) onLines(fresh.sort((a, b) => a.ts - b.ts || a.id - b.id));
  };
  const parse = (ev) => {
    try {
      const data = JSON.parse(ev.data);
      deliver(Array.isArray(data) ? data : Array.isArray(data.items) ? data.items : [data]);
    } catch {
      /* a keep-alive or a malformed event: nothing to show */
    }
  };

  let opened = false;
  if (typeof EventSource !== 'undefined') {
    es = new EventSource('/api/v1/logs/stream' + qs(filters));
    es.onopen = () => {
      opened = true;
      onMode('stream');
    };
    es.onmessage = parse;
    es.addEventListener('log', parse);
    es.addEventListener('logs', parse);
    es.onerror = () => {
      // Closed before it ever opened: no such endpoint (or refused) — poll instead. After an
      // open, EventSource reconnects by itself.
      if (!opened && es.readyState === EventSource.CLOSED && !stopped) startPolling();
    };
  } else startPolling();

  function startPolling() {
    es?.close();
    es = null;
    onMode('poll');
    let since = Date.now() - 5_000;
    const tick = async () => {
      if (stopped) return;
      try {
        const page = await api('/api/v1/logs' + qs({ ...filters, start: since, limit: 500 }));
        if (page.items.length) since = Math.max(since, page.items[0].ts);
        deliver(page.items);
      } catch {
        /* next tick retries */
      }
      if (!stopped) poll = setTimeout(tick, 1000);
    };
    tick();
  }

  return () => {
    stopped = true;
    es?.close();
    clearTimeout(poll);
  };
}
