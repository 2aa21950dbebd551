// The alert state machine driven by an injected clock: each case is a rule and a series of
// (time, value) observations with the phase, severity and events expected after each.
import { describe, expect, it } from 'vitest';
import { compileRule } from '../../collector/alerts/rules.js';
import { initialState, step, targetSeverity, type InstanceState } from '../../collector/alerts/state.js';

type Obs = [t: number, value: number | null, phase: string, severity: string | null, events?: string];

const metric = (extra: Record<string, unknown>) =>
  compileRule({ kind: 'metric', name: 'cpu', metric: 'cpu.user', op: 'above', ...extra }, 'rule', 'config');

const cases: Array<{ name: string; rule: ReturnType<typeof metric>; obs: Obs[] }> = [
  {
    name: 'fires at once without for, resolves at once without keep_firing_for',
    rule: metric({ critical: 90 }),
    obs: [
      [0, 50, 'ok', null],
      [10, 95, 'firing', 'critical', 'firing'],
      [20, 95, 'firing', 'critical'],
      [30, 80, 'ok', null, 'resolved'],
    ],
  },
  {
    name: 'for keeps it pending until the condition held the whole duration',
    rule: metric({ critical: 90, for: 30 }),
    obs: [
      [0, 95, 'pending', 'critical', 'pending'],
      [10, 95, 'pending', 'critical'],
      [20, 50, 'ok', null, 'cancelled'],
      [30, 95, 'pending', 'critical', 'pending'],
      [50, 95, 'pending', 'critical'],
      [60, 95, 'firing', 'critical', 'firing'],
    ],
  },
  {
    name: 'hysteresis: a raised level holds until the value crosses its clear level',
    rule: metric({ warning: 80, warning_clear: 70 }),
    obs: [
      [0, 81, 'firing', 'warning', 'firing'],
      [10, 79, 'firing', 'warning'],
      [20, 71, 'firing', 'warning'],
      [30, 81, 'firing', 'warning'],
      [40, 70, 'ok', null, 'resolved'],
      [50, 75, 'ok', null],
      [60, 80, 'ok', null],
      [70, 80.5, 'firing', 'warning', 'firing'],
    ],
  },
  {
    name: 'flapping around the level without hysteresis or dampers fires every other time',
    rule: metric({ critical: 90 }),
    obs: [
      [0, 91, 'firing', 'critical', 'firing'],
      [10, 89, 'ok', null, 'resolved'],
      [20, 91, 'firing', 'critical', 'firing'],
      [30, 89, 'ok', null, 'resolved'],
    ],
  },
  {
    name: 'the same flapping damped by keep_firing_for: one alert',
    rule: metric({ critical: 90, keep_firing_for: 25 }),
    obs: [
      [0, 91, 'firing', 'critical', 'firing'],
      [10, 89, 'firing', 'critical'],
      [20, 91, 'firing', 'critical'],
      [30, 89, 'firing', 'critical'],
      [40, 89, 'firing', 'critical'],
      [55, 89, 'ok', null, 'resolved'],
    ],
  },
  {
    name: 'the same flapping damped by for: never fires',
    rule: metric({ critical: 90, for: 15 }),
    obs: [
      [0, 91, 'pending', 'critical', 'pending'],
      [10, 89, 'ok', null, 'cancelled'],
      [20, 91, 'pending', 'critical', 'pending'],
      [30, 89, 'ok', null, 'cancelled'],
    ],
  },
  {
    name: 'warning escalates to critical and back, each a new alert; critical clears through its own level',
    rule: metric({ warning: 70, critical: 90, critical_clear: 85, warning_clear: 65 }),
    obs: [
      [0, 75, 'firing', 'warning', 'firing'],
      [10, 92, 'firing', 'critical', 'escalated'],
      [20, 87, 'firing', 'critical'],
      [30, 84, 'firing', 'warning', 'deescalated'],
      [40, 66, 'firing', 'warning'],
      [50, 64, 'ok', null, 'resolved'],
    ],
  },
  {
    name: 'straight from ok to critical, and from critical to ok',
    rule: metric({ warning: 70, critical: 90 }),
    obs: [
      [0, 95, 'firing', 'critical', 'firing'],
      [10, 10, 'ok', null, 'resolved'],
    ],
  },
  {
    name: 'pending follows the severity the value calls for',
    rule: metric({ warning: 70, critical: 90, for: 20 }),
    obs: [
      [0, 75, 'pending', 'warning', 'pending'],
      [10, 95, 'pending', 'critical'],
      [20, 95, 'firing', 'critical', 'firing'],
    ],
  },
  {
    name: 'below: low values fire, clear level above',
    rule: metric({ op: 'below', critical: 10, critical_clear: 20 }),
    obs: [
      [0, 50, 'ok', null],
      [10, 5, 'firing', 'critical', 'firing'],
      [20, 15, 'firing', 'critical'],
      [30, 21, 'ok', null, 'resolved'],
    ],
  },
  {
    name: 'no data counts as the condition being false (as Prometheus: the series is gone)',
    rule: metric({ critical: 90, keep_firing_for: 15 }),
    obs: [
      [0, 95, 'firing', 'critical', 'firing'],
      [10, null, 'firing', 'critical'],
      [30, null, 'ok', null, 'resolved'],
    ],
  },
];

describe('alert state machine', () => {
  it.each(cases)('$name', ({ rule, obs }) => {
    let s: InstanceState = initialState(rule.name, 'web-1');
    for (const [t, value, phase, severity, events] of obs) {
      const r = step(rule, s, value, t * 1000);
      s = r.next;
      expect({ t, phase: s.phase, severity: s.severity, events: r.transitions.map((x) => x.event).join(',') }).toEqual({
        t,
        phase,
        severity,
        events: events ?? '',
      });
    }
  });

  it('startsAt is when it fired, and a new severity starts a new alert', () => {
    const rule = metric({ warning: 70, critical: 90, for: 10 });
    let s = initialState('cpu', 'h');
    s = step(rule, s, 80, 1000).next;
    s = step(rule, s, 80, 11_000).next;
    expect(s.firingSince).toBe(11_000);
    expect(s.activeSince).toBe(1000);
    s = step(rule, s, 95, 21_000).next;
    expect(s.firingSince).toBe(21_000);
  });

  it.each([
    ['log rule: at least min_count lines', { kind: 'log', name: 'oom', query: 'OutOfMemoryError', min_count: 2 }, [[0, null], [1, null], [2, 'critical'], [5, 'critical']]],
    ['absence: silence longer than seconds', { kind: 'absence', name: 'dead', seconds: 30, severity: 'warning' }, [[29, null], [30, null], [30.5, 'warning']]],
    ['check: down is 1', { kind: 'check', name: 'app', check: 'app' }, [[0, null], [1, 'critical']]],
  ] as const)('%s', (_n, spec, table) => {
    const rule = compileRule(spec, 'rule', 'config');
    for (const [value, want] of table) expect(targetSeverity(rule, value, null)).toBe(want);
  });

  it.each([
    [{ kind: 'metric', name: 'x', metric: 'm', op: 'above' }, 'needs warning or critical'],
    [{ kind: 'metric', name: 'x', metric: 'm', op: 'above', critical: 90, critical_clear: 95 }, 'critical_clear: must be at most critical'],
    [{ kind: 'metric', name: 'x', metric: 'm', op: 'above', warning: 95, critical: 90 }, 'warning: must be below critical'],
    [{ kind: 'metric', name: 'x', metric: 'm', op: 'sideways', critical: 1 }, '/op'],
    [{ kind: 'nope', name: 'x' }, 'kind: expected one of'],
    [{ kind: 'log', name: 'x', query: 'a', annotations: { summary: '{{ $host }}' } }, "unknown template variable '{{ $host }}'"],
    [{ kind: 'log', name: 'x', query: 'a', labels: { severity: 'low' } }, 'labels/severity'],
    [{ kind: 'absence', name: 'x', seconds: 10, extra: 1 }, 'rule'],
    [{ kind: 'log', name: 'bad name!', query: 'a' }, '/name'],
    [{ kind: 'metric', name: 'x', metric: 'm', op: 'above', critical: 1, for: '5 minutes' }, '/for'],
  ])('rejects %j naming the field', (spec, msg) => {
    expect(() => compileRule(spec, 'rule', 'api')).toThrow(msg);
  });

  it('durations accept seconds or units', () => {
    expect(metric({ critical: 1, for: '5m', keep_firing_for: 90 })).toMatchObject({ forMs: 300_000, keepFiringForMs: 90_000 });
  });
});
