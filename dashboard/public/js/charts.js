// Time charts on Chart.js (the UMD build served from /vendor, global `Chart`). The small
// interactions people expect from Grafana and Netdata are written here on Chart.js's plugin
// API instead of adding chartjs-plugin-zoom (which pulls in hammerjs for touch and zooms
// the client-side data only, while zooming here must refetch a finer archive):
//   - drag across a chart to zoom (calls onZoom(start, end)); double-click to reset (onReset);
//   - a crosshair at the pointer's time, drawn on every chart of the same group;
//   - horizontal warning and critical lines from the host's alert rules.
import { fmtShortTime, fmtTime, fmtValue } from './format.js';
import { palette } from './theme.js';

/** Loads Chart.js (UMD, served locally) on first use, so pages without charts never parse it. */
let loading = null;
export function loadChartJs() {
  if (window.Chart) return Promise.resolve(window.Chart);
  loading ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = '/vendor/chart.umd.js';
    s.onload = () => resolve(window.Chart);
    s.onerror = () => reject(new Error('could not load /vendor/chart.umd.js'));
    document.head.append(s);
  });
  return loading;
}

/** Charts that share a crosshair: one group per host page. */
export function chartGroup() {
  return { charts: new Set(), x: null };
}

const overlay = {
  id: 'ringtailOverlay',
  afterDatasetsDraw(chart) {
    const o = chart.$rt;
    if (!o) return;
    const { ctx, chartArea: a, scales } = chart;
    const pal = palette();
    ctx.save();
    for (const line of o.levels) {
      const y = scales.y.getPixelForValue(line.value);
      if (y < a.top || y > a.bottom) continue;
      ctx.strokeStyle = line.kind === 'critical' ? pal.critical : pal.warning;
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      ctx.moveTo(a.left, y);
      ctx.lineTo(a.right, y);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = ctx.strokeStyle;
      ctx.font = '11px system-ui, sans-serif';
      ctx.fillText(`${line.kind} ${fmtValue(line.value)}`, a.left + 4, y - 3);
    }
    const gx = o.group.x;
    if (gx !== null) {
      const x = scales.x.getPixelForValue(gx);
      if (x >= a.left && x <= a.right) {
        ctx.strokeStyle = pal.muted;
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(x, a.top);
        ctx.lineTo(x, a.bottom);
        ctx.stroke();
      }
    }
    if (o.drag && Math.abs(o.drag.x1 - o.drag.x0) > 2) {
      ctx.fillStyle = 'rgba(127,127,127,0.25)';
      const left = Math.max(a.left, Math.min(o.drag.x0, o.drag.x1));
      const right = Math.min(a.right, Math.max(o.drag.x0, o.drag.x1));
      ctx.fillRect(left, a.top, right - left, a.bottom - a.top);
    }
    ctx.restore();
  },
};

function datasetsFor(series, pal) {
  const datasets = [];
  series.forEach((s, i) => {
    const color = pal.series[i % pal.series.length];
    if (s.min && s.max) {
      datasets.push({ label: `${s.label} min`, data: s.min, borderWidth: 0, pointRadius: 0, fill: false, rtBand: true, borderColor: 'transparent' });
      datasets.push({ label: `${s.label} max`, data: s.max, borderWidth: 0, pointRadius: 0, fill: '-1', backgroundColor: color + '33', rtBand: true, borderColor: 'transparent' });
    }
    datasets.push({ label: s.label, data: s.points, borderColor: color, backgroundColor: color, borderWidth: 1.5, pointRadius: 0, fill: false, spanGaps: false });
  });
  return datasets;
}

/**
 * A time chart in `canvas`. `series`: [{ label, points, min?, max? }] where min/max are point
 * arrays of the MIN and MAX consolidations (drawn as a band around the line).
 */
export function timeChart(canvas, { series, start, end, levels = [], group, onZoom, onReset, unit = '' }) {
  const pal = palette();
  const datasets = datasetsFor(series, pal);
  const span = end - start;
  const chart = new window.Chart(canvas, {
    type: 'line',
    data: { datasets },
    plugins: [overlay],
    options: {
      animation: false,
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false, axis: 'x' },
      scales: {
        x: { type: 'linear', min: start, max: end, ticks: { color: pal.muted, maxTicksLimit: 8, callback: (v) => fmtShortTime(v, span) }, grid: { color: pal.grid } },
        y: { ticks: { color: pal.muted, callback: (v) => fmtValue(v) + unit }, grid: { color: pal.grid }, beginAtZero: true },
      },
      plugins: {
        legend: { labels: { color: pal.fg, filter: (item, data) => !data.datasets[item.datasetIndex].rtBand, boxWidth: 12 } },
        decimation: { enabled: true, algorithm: 'min-max' },
        tooltip: {
          filter: (item) => !item.dataset.rtBand,
          callbacks: { title: (items) => (items[0] ? fmtTime(items[0].parsed.x) : ''), label: (item) => `${item.dataset.label}: ${fmtValue(item.parsed.y)}${unit}` },
        },
      },
    },
  });
  chart.$rt = { levels, group, drag: null };
  // Thresholds must be visible even when the data stays far below them.
  if (levels.length) {
    chart.options.scales.y.suggestedMax = Math.max(...levels.map((l) => l.value)) * 1.05;
    chart.update('none');
  }
  group.charts.add(chart);

  const toValue = (ev) => {
    const rect = canvas.getBoundingClientRect();
    return { px: ev.clientX - rect.left, x: chart.scales.x.getValueForPixel(ev.clientX - rect.left) };
  };
  const redrawGroup = () => {
    for (const c of group.charts) c.draw();
  };
  const onMove = (ev) => {
    const { px, x } = toValue(ev);
    group.x = x;
    if (chart.$rt.drag) chart.$rt.drag.x1 = px;
    redrawGroup();
  };
  const onLeave = () => {
    group.x = null;
    redrawGroup();
  };
  const onDown = (ev) => {
    if (ev.button !== 0) return;
    const { px } = toValue(ev);
    chart.$rt.drag = { x0: px, x1: px };
    canvas.setPointerCapture?.(ev.pointerId);
  };
  const onUp = (ev) => {
    const d = chart.$rt.drag;
    chart.$rt.drag = null;
    if (!d) return;
    const { px } = toValue(ev);
    if (Math.abs(px - d.x0) < 5) return chart.draw();
    const a = chart.scales.x.getValueForPixel(Math.min(d.x0, px));
    const b = chart.scales.x.getValueForPixel(Math.max(d.x0, px));
    onZoom?.(Math.round(Math.max(a, start)), Math.round(Math.min(b, end)));
  };
  const onDbl = () => onReset?.();
  // Keyboard: + and - zoom in and out around the middle, 0 or Escape resets.
  const onKey = (ev) => {
    const mid = (start + end) / 2;
    const half = (end - start) / 2;
    if (ev.key === '+' || ev.key === '=') onZoom?.(Math.round(mid - half / 2), Math.round(mid + half / 2));
    else if (ev.key === '-') onZoom?.(Math.round(mid - half * 2), Math.round(Math.min(Date.now(), mid + half * 2)));
    else if (ev.key === '0' || ev.key === 'Escape') onReset?.();
    else return;
    ev.preventDefault();
  };
  canvas.tabIndex = 0;
  canvas.addEventListener('keydown', onKey);
  canvas.addEventListener('pointermove', onMove);
  canvas.addEventListener('pointerleave', onLeave);
  canvas.addEventListener('pointerdown', onDown);
  canvas.addEventListener('pointerup', onUp);
  canvas.addEventListener('dblclick', onDbl);
  return {
    chart,
    /** Replaces the data (e.g. adds the MIN/MAX band once it has arrived) and redraws. */
    setSeries(next) {
      chart.data.datasets = datasetsFor(next, palette());
      chart.update('none');
    },
    destroy() {
      group.charts.delete(chart);
      chart.destroy();
    },
  };
}
