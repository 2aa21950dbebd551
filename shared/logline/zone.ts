// Wall-clock time in a named IANA zone → epoch ms, via Intl only (no process TZ, no tz database
// of our own). Offsets are cached per 15-minute slot because a formatToParts call costs about a
// microsecond and the agent parses every line it ships.
const formatters = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();
const SLOT_MS = 15 * 60_000;

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True when Intl knows the zone; configuration loaders use it to reject a typo up front. */
export function isValidTimeZone(zone: string): boolean {
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

function isUtc(zone: string): boolean {
  return zone === 'UTC' || zone === 'Etc/UTC' || zone === 'GMT' || zone === 'Etc/GMT';
}

/** Offset of `zone` from UTC at `instant`, in ms (positive east of Greenwich). */
export function zoneOffset(zone: string, instant: number): number {
  if (isUtc(zone)) return 0;
  const slot = Math.floor(instant / SLOT_MS);
  const key = `${zone}|${slot}`;
  const hit = offsetCache.get(key);
  if (hit !== undefined) return hit;
  const at = slot * SLOT_MS;
  const p: Record<string, number> = {};
  for (const part of formatter(zone).formatToParts(at)) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  const off = wall - at;
  if (offsetCache.size > 4096) offsetCache.clear();
  offsetCache.set(key, off);
  return off;
}

/**
 * The instant at which the clocks of `zone` showed this wall time. In a DST overlap the earlier
 * instant wins; a wall time inside a DST gap is moved forward by the gap (both as Temporal's
 * `compatible` disambiguation does).
 */
export function wallToEpoch(zone: string, y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0): number {
  const wall = Date.UTC(y, mo, d, h, mi, s, ms);
  if (isUtc(zone)) return wall;
  const before = zoneOffset(zone, wall - 86_400_000);
  const after = zoneOffset(zone, wall + 86_400_000);
  const a = wall - before;
  const b = wall - after;
  const aOk = zoneOffset(zone, a) === before;
  const bOk = zoneOffset(zone, b) === after;
  if (aOk && bOk) return Math.min(a, b);
  if (aOk) return a;
  if (bOk) return b;
  return a;
}

/** Calendar year that `zone` shows at `instant`. */
export function yearIn(zone: string, instant: number): number {
  return new Date(instant + zoneOffset(zone, instant)).getUTCFullYear();
}
