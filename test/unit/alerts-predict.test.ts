// The pieces behind the default rules, as pure functions: the linear trend of "disk will fill",
// the guard that caps a predict rule's level, checks down for N consecutive results, and the
// rule fields' validation.
import { describe, expect, it } from 'vitest';
import { compileAlertsConfig } from '../../collector/alerts/config.js';
import { checkVerdict } from '../../collector/alerts/metric-sources.js';
import { hoursToReach } from '../../collector/alerts/predict.js';
import { compileRule } from '../../collector/alerts/rules.js';
import { initialState, step, targetSeverity } from '../../collector/alerts/state.js';
import { ConfigError } from '../../shared/errors.js';

const T0 = 1_700_000_000_000;
const H = 3_600_000;

/** Samples every 10 s over `spanMs` ending at `now`, following f(t). */
function series(now: number, spanMs: number, f: (t: number) => number) {
  const t: number[] = [];
  const v: number[] = [];
  for (let x = now - spanMs; x <= now; x += 10_000) (t.push(x), v.push(f(x)));
  return { t, v };
}

describe('hoursToReach (least-squares trend)', () => {
  const now = T0 + 2 * H;
  it('a line rising 10%/h at 80% reaches 100% in 2 h', () => {
    const s = series(now, H, (t) => 80 + ((t - now) / H) * 10);
    expect(hoursToReach(s.t, s.v, 100, now, H)).toBeCloseTo(2, 9);
  });
  it('noise around the line does not move the estimate much', () => {
    let i = 0;
    const s = series(now, H, (t) => 80 + ((t - now) / H) * 10 + (i++ % 2 ? 0.5 : -0.5));
    expect(hoursToReach(s.t, s.v, 100, now, H)!).toBeCloseTo(2, 1);
  });
  it('extrapolates from the fit to now, not from the last sample', () => {
    const s = series(now - 30 * 60_000, H, (t) => 50 + ((t - now) / H) * 10);
    expect(hoursToReach(s.t, s.v, 100, now, H)).toBeCloseTo(5, 9);
  });
  it('falling, flat or too short is no answer; already there is 0; a falling line reaches a lower level', () => {
    expect(hoursToReach(...Object.values(series(now, H, (t) => 80 - ((t - now) / H) * 5)) as [number[], number[]], 100, now, H)).toBeNull();
    expect(hoursToReach(...Object.values(series(now, H, () => 80)) as [number[], number[]], 100, now, H)).toBeNull();
    const short = series(now, 29 * 60_000, (t) => 80 + ((t - now) / H) * 50);
    expect(hoursToReach(short.t, short.v, 100, now, H)).toBeNull();
    expect(hoursToReach([now - 40 * 60_000, now], [90, 99], 100, now, H)).toBeNull(); // two points
    const full = series(now, H, (t) => 101 + ((t - now) / H) * 10); // crossed 100 within the hour
    expect(hoursToReach(full.t, full.v, 100, now, H)).toBe(0);
    const free = series(now, H, (t) => 30 - ((t - now) / H) * 10);
    expect(hoursToReach(free.t, free.v, 0, now, H)).toBeCloseTo(3, 9);
  });
  it('stays exact with epoch-millisecond times', () => {
    const s = series(now, H, (t) => 99 + ((t - now) / H) * 1e-3);
    expect(hoursToReach(s.t, s.v, 100, now, H)).toBeCloseTo(1000, 3);
  });
});

describe('a capped level (predict guards)', () => {
  const rule = compileRule(
    { kind: 'metric', name: 'fill', metric: 'df.used_pct', op: 'below', window: '1h', predict: { reach: 100, warning_from: 60, critical_from: 80 }, warning: 8, warning_clear: 48, critical: 2, critical_clear: 24 },
    '',
    'config',
  );
  it('critical is held to warning and warning to nothing by the cap', () => {
    expect(targetSeverity(rule, 1, null)).toBe('critical');
    expect(targetSeverity(rule, 1, null, 'warning')).toBe('warning');
    expect(targetSeverity(rule, 1, null, null)).toBeNull();
    expect(targetSeverity(rule, 30, 'warning')).toBe('warning'); // below the warning clear level (48)
    expect(targetSeverity(rule, 49, 'warning')).toBeNull();
  });
  it('a firing critical alert whose guard lapses deescalates, then resolves', () => {
    let s = initialState('fill', 'h');
    s = step(rule, s, 1, T0).next;
    expect(s).toMatchObject({ phase: 'firing', severity: 'critical' });
    const d = step(rule, s, 1, T0 + 10_000, 'warning');
    expect(d.next.severity).toBe('warning');
    expect(d.transitions.map((t) => t.event)).toEqual(['deescalated']);
    expect(step(rule, d.next, 1, T0 + 20_000, null).next.phase).toBe('ok');
  });
});

describe('checks down for N consecutive results', () => {
  it.each([
    [[0], 1, 'down'],
    [[1, 0], 2, 'up'],
    [[0, 0], 2, 'down'],
    [[0, 0, 1], 2, 'up'],
    [[0], 2, 'up'],
    [[2, 0, 0], 2, 'down'],
  ] as const)('%j with %i → %s', (vals, n, want) => {
    expect(checkVerdict(vals, n)).toBe(want);
  });
});

describe('new rule fields are validated, naming the field', () => {
  it.each([
    [{ kind: 'metric', name: 'x', metric: 'm', op: 'above', warning: 1, min_coverage: 0 }, 'min_coverage'],
    [{ kind: 'metric', name: 'x', metric: 'm', op: 'above', warning: 1, divide_by: 'n', predict: { reach: 100 } }, 'predict'],
    [{ kind: 'metric', name: 'x', metric: 'm', op: 'above', warning: 1, predict: { reach: 100, soon: 1 } }, 'predict'],
    [{ kind: 'check', name: 'x', check: '*', samples: 0 }, 'samples'],
    [{ kind: 'check', name: 'x', check: '*', check_types: ['smtp'] }, 'check_types'],
    [{ kind: 'flapping', name: 'x', min_count: 0 }, 'min_count'],
    [{ kind: 'absence', name: 'x', seconds: 5, notify: 'warning' }, 'notify'],
    [{ name: 'cpu-busy', op: 'sideways' }, 'op'],
  ])('%j', (rule, field) => {
    try {
      compileAlertsConfig({ evaluation_interval_ms: 1000, repeat_interval_s: 60, defaults: true, rules: [rule] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain(field);
    }
  });
  it('defaults: false leaves no default rule; a partial override still names its default', () => {
    expect(compileAlertsConfig({ evaluation_interval_ms: 1000, repeat_interval_s: 60, defaults: false }).defaults).toEqual([]);
    const { rules } = compileAlertsConfig({ evaluation_interval_ms: 1000, repeat_interval_s: 60, defaults: false, rules: [{ name: 'disk-space', warning: 85 }] });
    expect(rules[0]!.spec).toMatchObject({ kind: 'metric', metric: 'df.used_pct', warning: 85, critical: 98 });
  });
});

describe('recent samples keep what the default rules read', () => {
  it('a check sampled every 90 s keeps its last 2 results (check-down needs 2 in a row), however old', async () => {
    const { RecentSamples } = await import('../../collector/alerts/recent-samples.js');
    const { wantedSeries } = await import('../../collector/alerts/plugin.js');
    const { compileDefaultRules } = await import('../../collector/alerts/defaults.js');
    const wanted = wantedSeries(compileDefaultRules());
    expect(wanted.minCount).toBe(2);
    const recent = new RecentSamples(() => wanted);
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) {
      recent.record({ version: 1, agent_id: 'agt_1', host: 'h', interval_ms: 90_000, samples: [{ name: 'check.tcp.up', type: 'GAUGE', ts: T0 + i * 90_000, value: 0, labels: { check: 'db' } }] });
      seen.push(recent.lastN('h', 'check.tcp.up{check=db}', 2).length);
    }
    expect(seen.slice(1).every((n) => n === 2)).toBe(true);
  });
  it('windows are bounded by time even while old samples wait to be trimmed', async () => {
    const { RecentSamples } = await import('../../collector/alerts/recent-samples.js');
    const recent = new RecentSamples(() => ({ keys: new Set(), names: new Set(['cpu.idle']), keepMs: 60_000, keep: new Map([['cpu.idle', 60_000]]) }));
    for (let i = 0; i < 50; i++) recent.record({ version: 1, agent_id: 'a', host: 'h', interval_ms: 10_000, samples: [{ name: 'cpu.idle', type: 'GAUGE', ts: T0 + i * 10_000, value: i }] });
    const now = T0 + 49 * 10_000;
    expect(recent.consolidated('h', 'cpu.idle', now - 60_000, now, 'MIN')).toBe(44);
    expect(recent.consolidated('h', 'cpu.idle', now - 60_000, now, 'AVERAGE')).toBe(46.5);
    expect(recent.consolidated('h', 'cpu.idle', now - 60_000, now, 'LAST', 60_000)).toBeNull(); // 50 s of span
    expect(recent.consolidated('h', 'cpu.idle', now - 60_000, now, 'LAST', 50_000)).toBe(49);
  });
});
