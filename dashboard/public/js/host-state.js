// A host's lifecycle state as the views show it. A collector with host lifecycle answers
// /api/v1/hosts with `state` (up, stale, down, retired) and `ephemeral` on every item, and lists
// every host whatever it sent; an older collector answers only host, first_seen and last_seen
// for hosts that sent logs, so the state is derived from the last-seen age and hosts that send
// only metrics are added from /api/v1/metrics/hosts. Pure functions (test/unit/dashboard-logic).

export const STATES = ['up', 'stale', 'down', 'retired'];

/** Older collectors: up when seen within 2 min, stale within 15 min, down after. */
export const STALE_MS = 2 * 60_000;
export const DOWN_MS = 15 * 60_000;
export function hostStatus(lastSeen, now) {
  const age = now - lastSeen;
  return age <= STALE_MS ? 'up' : age <= DOWN_MS ? 'stale' : 'down';
}

/** The collector's own state when it sends one, else the state derived from last_seen. */
export function hostState(item, now) {
  if (STATES.includes(item?.state)) return { state: item.state, derived: false };
  return { state: hostStatus(Number(item?.last_seen) || 0, now), derived: true };
}

/** True when the collector's hosts answer carries lifecycle states (it lists every host then). */
export function hasLifecycle(items) {
  return items.some((x) => STATES.includes(x?.state));
}

/**
 * One list from the hosts answer and the metrics hosts answer (or null). With lifecycle the
 * hosts answer is complete: a host missing from it is retired (left out unless asked for) or
 * forgotten, so metric-only hosts are not added back. Metrics never move a last_seen back.
 */
export function mergeHosts(items, metricHosts, lifecycle) {
  const byHost = new Map(items.map((x) => [x.host, { ...x }]));
  for (const m of metricHosts ?? []) {
    const seen = Math.max(Number(m.last_seen) || 0, Number(m.last_sample) || 0);
    const known = byHost.get(m.host);
    if (known) known.last_seen = Math.max(Number(known.last_seen) || 0, seen);
    else if (!lifecycle) byHost.set(m.host, { host: m.host, first_seen: seen, last_seen: seen });
  }
  return [...byHost.values()];
}

/** { up, stale, down, retired } from a list of states. */
export function stateCounts(states) {
  const out = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const s of states) if (Object.hasOwn(out, s)) out[s]++;
  return out;
}
