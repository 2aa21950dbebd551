// The per-(rule, host) state machine, a pure function of the previous state, the observed value
// and the time, so tests drive it with any clock. ok → pending → firing → resolved (→ ok), at
// warning or critical. Three dampers against flapping: hysteresis (a raised level holds until
// the value crosses its clear level), `for` (the condition must hold that long before firing)
// and `keep_firing_for` (a firing alert resolves only after the condition stayed false that long).
import type { CompiledRule, Op, Severity } from './rules.js';

export type Phase = 'ok' | 'pending' | 'firing';

export interface InstanceState {
  rule: string;
  host: string;
  /** the labels part of the series key (`{mount=/}`) when a rule watches every series of a name; '' otherwise */
  series: string;
  phase: Phase;
  severity: Severity | null;
  /** when the condition last became true (start of pending) */
  activeSince: number | null;
  /** startsAt of the current firing alert; a new severity is a new alert */
  firingSince: number | null;
  /** while firing: when the condition became false (keep_firing_for counts from here) */
  clearSince: number | null;
  value: number | null;
  /** `${severity}@${firingSince}` of the last firing alert sent to notifiers, so restarts neither forget nor repeat */
  notifiedKey: string | null;
  lastNotifiedAt: number | null;
}

export type HistoryEvent = 'pending' | 'firing' | 'resolved' | 'cancelled' | 'escalated' | 'deescalated';

export interface Transition {
  rule: string;
  host: string;
  series: string;
  at: number;
  event: HistoryEvent;
  severity: Severity | null;
  value: number | null;
}

export function initialState(rule: string, host: string, series = ''): InstanceState {
  return {
    rule,
    host,
    series,
    phase: 'ok',
    severity: null,
    activeSince: null,
    firingSince: null,
    clearSince: null,
    value: null,
    notifiedKey: null,
    lastNotifiedAt: null,
  };
}

function cmp(op: Op, v: number, level: number): boolean {
  switch (op) {
    case '>':
      return v > level;
    case '>=':
      return v >= level;
    case '<':
      return v < level;
    case '<=':
      return v <= level;
  }
}

/**
 * The level the value calls for, given the level currently held (hysteresis). No data: none.
 * `cap` limits the level (a predict rule's guard: critical only below 20% free).
 */
export function targetSeverity(rule: CompiledRule, value: number | null, held: Severity | null, cap: Severity | null | undefined = undefined): Severity | null {
  if (value === null || Number.isNaN(value) || cap === null) return null;
  if (cap !== 'warning' && rule.critical !== null && (cmp(rule.op, value, rule.critical) || (held === 'critical' && cmp(rule.op, value, rule.criticalClear!)))) {
    return 'critical';
  }
  if (rule.warning !== null && (cmp(rule.op, value, rule.warning) || (held !== null && cmp(rule.op, value, rule.warningClear!)))) {
    return 'warning';
  }
  return null;
}

const RANK: Record<Severity, number> = { warning: 1, critical: 2 };

/** One evaluation. Returns the next state (a new object when anything but the value changed) and what happened. */
export function step(
  rule: CompiledRule,
  prev: InstanceState,
  value: number | null,
  now: number,
  cap?: Severity | null,
): { next: InstanceState; transitions: Transition[] } {
  const target = targetSeverity(rule, value, prev.severity, cap);
  const s: InstanceState = { ...prev, value };
  const out: Transition[] = [];
  const note = (event: HistoryEvent, severity: Severity | null) =>
    out.push({ rule: prev.rule, host: prev.host, series: prev.series, at: now, event, severity, value });

  const fire = (sev: Severity) => {
    s.phase = 'firing';
    s.severity = sev;
    s.firingSince = now;
    s.clearSince = null;
    note('firing', sev);
  };

  switch (prev.phase) {
    case 'ok':
      if (target === null) break;
      s.activeSince = now;
      if (rule.forMs <= 0) fire(target);
      else {
        s.phase = 'pending';
        s.severity = target;
        note('pending', target);
      }
      break;
    case 'pending':
      if (target === null) {
        note('cancelled', prev.severity);
        Object.assign(s, { phase: 'ok', severity: null, activeSince: null });
      } else if (now - prev.activeSince! >= rule.forMs) {
        fire(target);
      } else {
        s.severity = target;
      }
      break;
    case 'firing':
      if (target === null) {
        if (prev.clearSince === null) s.clearSince = now;
        if (now - s.clearSince! >= rule.keepFiringForMs) {
          note('resolved', prev.severity);
          Object.assign(s, { phase: 'ok', severity: null, activeSince: null, firingSince: null, clearSince: null });
        }
      } else {
        s.clearSince = null;
        if (target !== prev.severity) {
          // A different severity is a different alert (severity is a label): the old one ends here.
          s.severity = target;
          s.firingSince = now;
          note(RANK[target] > RANK[prev.severity!] ? 'escalated' : 'deescalated', target);
        }
      }
      break;
  }
  return { next: s, transitions: out };
}

/** Whether anything besides the last value differs, i.e. whether the state must be persisted. */
export function changed(a: InstanceState, b: InstanceState): boolean {
  return (
    a.phase !== b.phase ||
    a.severity !== b.severity ||
    a.activeSince !== b.activeSince ||
    a.firingSince !== b.firingSince ||
    a.clearSince !== b.clearSince ||
    a.notifiedKey !== b.notifiedKey ||
    a.lastNotifiedAt !== b.lastNotifiedAt
  );
}

export function firingKey(s: InstanceState): string | null {
  return s.phase === 'firing' ? `${s.severity}@${s.firingSince}` : null;
}

export function parseKey(key: string): { severity: Severity; startsAt: number } {
  const at = key.indexOf('@');
  return { severity: key.slice(0, at) as Severity, startsAt: Number(key.slice(at + 1)) };
}
