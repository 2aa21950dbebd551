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
export const DEFAULT_RANGE = RANGES[2];

/** The shortest 'life' range: a host a few seconds old still gets a readable chart. */
export const MIN_LIFE_MS = 5 * 60_000;
/** A host silent this long gets a life that ends where its data ends (plus this), not now. */
const SILENT_PAD_MS = 5 * 60_000;

/**
 * The span of a host's data, [first_seen, now] — or up to shortly after its last report when it
 * has been silent for longer than the default range (a retired instance opened days later) —
 * widened back to MIN_LIFE_MS. Null when the host's first_seen is unknown.
 */
export function lifeRange(host, now = Date.now()) {
  const first = Number(host?.first_seen);
  if (!Number.isFinite(first) || first <= 0) return null;
  const last = Number(host?.last_seen);
  const end = Number.isFinite(last) && last > 0 && now - last > DEFAULT_RANGE.ms ? last + SILENT_PAD_MS : now;
  return { start: Math.min(first, end - MIN_LIFE_MS), end, key: 'life' };
}

/** A young host (its life shorter than the default range) opens on its life, not on 1 d. */
export function isYoung(life) {
  return life !== null && life.end - life.start < DEFAULT_RANGE.ms;
}

/**
 * { start, end, key } from the URL: `from`/`to` (custom or zoomed) win over `range`; with no
 * range asked for, a young host's life (see lifeRange), else the default day.
 */
export function rangeFromParams(params, now = Date.now(), host = null) {
  const from = Number(params.get('from'));
  const to = Number(params.get('to'));
  if (Number.isFinite(from) && Number.isFinite(to) && from > 0 && to > from) return { start: from, end: to, key: 'custom' };
  const asked = params.get('range');
  const life = lifeRange(host, now);
  if (life && (asked === 'life' || (!asked && isYoung(life)))) return life;
  const r = RANGES.find((x) => x.key === asked) ?? DEFAULT_RANGE;
  return { start: now - r.ms, end: now, key: r.key };
}
