// What the alert rules need to know about a host's lifecycle, behind a small interface so the
// host registry (states up/stale/down/retired, the ephemeral flag, host.* events) can answer it.
// Until one is plugged in, `ownHostDirectory` answers from what the evaluator sees itself: every
// host is permanent and never retired, and a host's down/up transitions are the firing and
// resolution of the `host-down` rule.
import type { Transition } from './state.js';

export type HostState = 'up' | 'stale' | 'down' | 'retired';

export interface HostTransition {
  ts: number;
  from: HostState;
  to: HostState;
}

export interface HostDirectory {
  /** an ephemeral host that stops reporting is retired, not down: `permanent_only` rules skip it */
  isEphemeral(host: string): boolean;
  /** a retired host is evaluated by no rule */
  isRetired(host: string): boolean;
  /** the host's state transitions at or after `sinceMs`, oldest first (`flapping` rules count `to: 'down'`) */
  transitions(host: string, sinceMs: number): HostTransition[];
  /** the evaluator reports every alert transition it committed (the default directory learns from host-down's) */
  observe?(t: Transition): void;
}

/** The rule whose firing and resolution stand for a host going down and coming back. */
export const HOST_DOWN_RULE = 'host-down';
/** How long transitions are remembered (the longest flapping window worth asking about). */
const KEEP_MS = 24 * 3_600_000;
const MAX_PER_HOST = 256;

/** Every host permanent and never retired; down/up from host-down's alert history. */
export function ownHostDirectory(initial: Iterable<Transition> = []): HostDirectory {
  const byHost = new Map<string, HostTransition[]>();
  const observe = (t: Transition) => {
    if (t.rule !== HOST_DOWN_RULE) return;
    // firing and escalations mean down; resolved (or cancelled before firing: nothing) means up
    const to: HostState | null = t.event === 'firing' ? 'down' : t.event === 'resolved' ? 'up' : null;
    if (!to) return;
    let list = byHost.get(t.host);
    if (!list) byHost.set(t.host, (list = []));
    list.push({ ts: t.at, from: to === 'down' ? 'up' : 'down', to });
    while (list.length > MAX_PER_HOST || (list.length > 0 && list[0]!.ts < t.at - KEEP_MS)) list.shift();
  };
  for (const t of initial) observe(t);
  return {
    isEphemeral: () => false,
    isRetired: () => false,
    transitions(host, sinceMs) {
      return (byHost.get(host) ?? []).filter((x) => x.ts >= sinceMs);
    },
    observe,
  };
}

