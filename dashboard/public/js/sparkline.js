// A tiny canvas line for the hosts overview: hundreds of rows cannot each afford a Chart.js
// instance, and a sparkline needs no axes.
import { sizedCanvas } from './dom.js';

export function drawSparkline(canvas, points, { color, max } = {}) {
  const { ctx, w, h: hgt } = sizedCanvas(canvas, 90, 24);
  const ys = points.map((p) => p.y).filter((y) => y !== null);
  if (ys.length === 0) return 0;
  const hi = max ?? Math.max(...ys);
  const lo = Math.min(0, ...ys);
  const span = hi - lo || 1;
  const x0 = points[0].x;
  const dx = points[points.length - 1].x - x0 || 1;
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  let pen = false;
  let drawn = 0;
  for (const p of points) {
    if (p.y === null) {
      pen = false;
      continue;
    }
    const x = ((p.x - x0) / dx) * (w - 2) + 1;
    const y = hgt - 1 - ((p.y - lo) / span) * (hgt - 2);
    if (pen) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    pen = true;
    drawn++;
  }
  ctx.stroke();
  return drawn;
}
