// The log-volume histogram: lines per time bucket for the current filters, counted by the
// collector in one request (GET /api/v1/logs/histogram) and drawn on a canvas. Counts are exact;
// when the collector's counting budget ran out they are lower bounds, marked "partial".
// Clicking a bar narrows the time range. Only numbers and times reach the canvas and its title.
import { api, qs } from './api.js';
import { fmtShortTime, fmtTime } from './format.js';
import { palette } from './theme.js';
import { sizedCanvas } from './dom.js';

export async function volume(filters, start, end, buckets, signal) {
  const { limit: _l, cursor: _c, re: _re, ...rest } = filters;
  const res = await api('/api/v1/logs/histogram' + qs({ ...rest, start: Math.floor(start), end: Math.ceil(end), buckets }), { signal });
  const partial = res.budget_exhausted === true;
  return res.counts.map((count, i) => ({
    start: res.start + i * res.interval,
    end: Math.min(res.end, res.start + (i + 1) * res.interval),
    count,
    partial,
  }));
}

export function drawHistogram(canvas, bars, { onPick } = {}) {
  const { ctx, w, h: hgt } = sizedCanvas(canvas, 600, 60);
  const pal = palette();
  const max = Math.max(1, ...bars.map((b) => b.count));
  const bw = w / Math.max(1, bars.length);
  const label = 12;
  bars.forEach((b, i) => {
    const bh = (b.count / max) * (hgt - label - 2);
    ctx.fillStyle = b.partial ? pal.warning : pal.accent;
    ctx.fillRect(i * bw + 1, hgt - label - bh, Math.max(1, bw - 2), bh);
  });
  ctx.fillStyle = pal.muted;
  ctx.font = '10px system-ui, sans-serif';
  if (bars.length) {
    const span = bars[bars.length - 1].end - bars[0].start;
    ctx.fillText(fmtShortTime(bars[0].start, span), 2, hgt - 2);
    const endLabel = fmtShortTime(bars[bars.length - 1].end, span);
    ctx.fillText(endLabel, w - ctx.measureText(endLabel).width - 2, hgt - 2);
  }
  const peak = bars.reduce((m, b) => Math.max(m, b.count), 0);
  canvas.dataset.max = String(peak);
  canvas.title = bars.length ? `${fmtTime(bars[0].start)} → ${fmtTime(bars[bars.length - 1].end)}, max ${peak} lines per bar${bars.some((b) => b.partial) ? ' (partial: counting stopped at its time budget)' : ''}` : '';
  // the bar under the pointer, as text (title is a text attribute; nothing is parsed as HTML)
  canvas.onmousemove = (ev) => {
    const b = bars[Math.floor((ev.clientX - canvas.getBoundingClientRect().left) / bw)];
    if (b) canvas.title = `${fmtTime(b.start)} → ${fmtTime(b.end)}: ${b.count}${b.partial ? '+' : ''} lines`;
  };
  canvas.onclick = (ev) => {
    const rect = canvas.getBoundingClientRect();
    const i = Math.floor((ev.clientX - rect.left) / bw);
    if (bars[i] && onPick) onPick(bars[i]);
  };
}
