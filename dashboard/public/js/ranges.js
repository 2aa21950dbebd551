// Time ranges of the host page. The range only fixes start and end; the series API picks the
// archive whose resolution fits it (10 s rows for an hour, hourly rows for a year).
export const RANGES = [
  { key: '1h', label: '1 h', ms: 3600_000 },
  { key: '6h', label: '6 h', ms: 6 * 3600_000 },
  { key: '1d', label: '1 d', ms: 86400_000 },
  { key: '1w', label: '1 w', ms: 7 * 86400_000 },
  { key: '1m', label: '1 m', ms: 31 * 86400_000 },
  { key: '1y', label: '1 y', ms: 366 * 86400_000 },
];

/** { start, end, key } from the URL: `from`/`to` (custom or zoomed) win over `range`. */
export function rangeFromParams(params, now = Date.now()) {
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (Number.isFinite(from) && Number.isFinite(to) && from > 0 && to > from) return { start: from, end: to, key: 'custom' };
  const r = RANGES.find((x) => x.key === params.get('range')) ?? RANGES[2];
  return { start: now - r.ms, end: now, key: r.key };
}
