// The linear trend behind "disk will fill": a least-squares line through the window's samples,
// extrapolated to the level it would reach (Prometheus' predict_linear, Netdata's
// out_of_disk_space_time from the last hour's rate). Pure, so tests drive it with any clock.

/** Fewer points than this, or a span shorter than this share of the window, is no trend yet. */
export const MIN_POINTS = 3;
export const MIN_SPAN_SHARE = 0.5;

/**
 * Hours from `now` until the fitted line reaches `reach`; 0 when it crossed it within the window;
 * null when the line moves away from it (or stays flat), or when the samples are too few or span too
 * little of the window (a freshly started host has no trend, whatever its first minutes show).
 */
export function hoursToReach(t: readonly number[], v: readonly number[], reach: number, now: number, windowMs: number): number | null {
  const n = t.length;
  if (n < MIN_POINTS || t[n - 1]! - t[0]! < windowMs * MIN_SPAN_SHARE) return null;
  // Centred sums keep the arithmetic exact enough with epoch milliseconds.
  let mt = 0;
  let mv = 0;
  for (let i = 0; i < n; i++) {
    mt += t[i]!;
    mv += v[i]!;
  }
  mt /= n;
  mv /= n;
  let stt = 0;
  let stv = 0;
  for (let i = 0; i < n; i++) {
    const dt = t[i]! - mt;
    stt += dt * dt;
    stv += dt * (v[i]! - mv);
  }
  if (stt === 0) return null;
  const slopePerMs = stv / stt;
  const atNow = mv + slopePerMs * (now - mt);
  const gap = reach - atNow;
  if (gap === 0) return 0;
  if (slopePerMs === 0) return null;
  if (Math.sign(slopePerMs) !== Math.sign(gap)) {
    // moving away: either it crossed the level within the window (reached: 0) or never will
    const atStart = mv + slopePerMs * (t[0]! - mt);
    return Math.sign(atStart - reach) !== Math.sign(atNow - reach) ? 0 : null;
  }
  return gap / slopePerMs / 3_600_000;
}
