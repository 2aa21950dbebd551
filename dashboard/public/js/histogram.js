// The log-volume histogram: lines per time bucket for the current filters, drawn on a canvas.
// The logs API has no count endpoint yet, so each bucket is one query with limit 1000: counts
// above 1000 are shown as "1000+" (bars flat-topped). Clicking a bar narrows the time range.
import { api, limiter, qs } from './api.js';
import { fmtShortTime, fmtTime } from './format.js';
import { palette } from './theme.js';

export const BUCKET_CAP = 1000;

export async function volume(filters, start, end, buckets, signal) {
  const width = (end - start) / buckets;
  const run = limiter(6);
  const counts = await Promise.all(
    Array.from({ length: buckets }, (_, i) =>
      run(async () => {
        const s = Math.floor(start + i * width);
        const e = Math.floor(start + (i + 1) * width);
        const page = await api('/api/v1/logs' + qs({ ...filters, start: s, end: e, limit: BUCKET_CAP, cursor: undefined }), { signal });
        return { start: s, end: e, count: page.items.length, capped: page.next_cursor !== null };
      }),
    ),
  );
  return counts;
}

export function drawHistogram(canvas, bars, { onPick } = {}) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600;
  const hgt = canvas.clientHeight || 60;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(hgt * dpr);
  const ctx = canvas.getContext('2d');
  ctx.scale(dpr, dpr);
  const pal = palette();
  ctx.clearRect(0, 0, w, hgt);
  const max = Math.max(1, ...bars.map((b) => b.count));
  const bw = w / Math.max(1, bars.length);
  const label = 12;
  bars.forEach((b, i) => {
    const bh = (b.count / max) * (hgt - label - 2);
    ctx.fillStyle = b.capped ? pal.warning : pal.accent;
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
  canvas.title = bars.length ? `${fmtTime(bars[0].start)} → ${fmtTime(bars[bars.length - 1].end)}, max ${max}${bars.some((b) => b.capped) ? '+' : ''} lines per bar` : '';
  canvas.onclick = (ev) => {
    const rect = canvas.getBoundingClientRect();
    const i = Math.floor((ev.clientX - rect.left) / bw);
    if (bars[i] && onPick) onPick(bars[i]);
  };
}
