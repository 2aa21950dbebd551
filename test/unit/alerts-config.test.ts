// Mistakes in the alerts section of the collector configuration name the key at fault.
import { describe, expect, it } from 'vitest';
import { compileAlertsConfig } from '../../collector/alerts/config.js';
import { ConfigError } from '../../shared/errors.js';

const ok = { kind: 'log', name: 'oom', query: 'OutOfMemoryError' };

describe('alerts configuration', () => {
  it('compiles rules and webhooks', () => {
    const { rules, notifiers } = compileAlertsConfig({
      evaluation_interval_ms: 1000,
      repeat_interval_s: 60,
      rules: [ok],
      webhooks: [{ name: 'ops', url: 'http://127.0.0.1:1/x', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' }],
    });
    expect(rules.map((r) => r.name)).toEqual(['oom']);
    expect(notifiers.map((n) => `${n.kind}:${n.name}`)).toEqual(['webhook:ops']);
  });

  it.each([
    [{ rules: [ok, { kind: 'metric', name: 'x', metric: 'm', op: 'above' }] }, "config key 'alerts.rules[1]'", 'needs warning or critical'],
    [{ rules: [{ ...ok, window: 'soon' }] }, "config key 'alerts.rules[0]'", 'window'],
    [{ rules: [ok, ok] }, "config key 'alerts.rules[1].name'", 'used twice'],
    [{ rules: [{ ...ok, query: 'NEAR(' }] }, "config key 'alerts.rules[0]'", "invalid search: unbalanced parenthesis at 4: '(' without ')'"],
    [{ rules: [{ ...ok, query: 'a*' }] }, "config key 'alerts.rules[0]'", "invalid search: prefix 'a*' at 0"],
    [{ webhooks: [{ name: 'a', url: 'http://x/', secret: 'nope-not-a-secret' }] }, "config key 'alerts.webhooks'", 'whsec_'],
    [{ webhooks: [{ name: 'a', url: 'http://x/' }, { name: 'a', url: 'http://y/' }] }, "config key 'alerts.webhooks'", 'used twice'],
  ])('%j → %s', (cfg, key, problem) => {
    try {
      compileAlertsConfig({ evaluation_interval_ms: 1000, repeat_interval_s: 60, ...cfg } as never);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe(key);
      expect((err as ConfigError).message).toContain(problem);
    }
  });
});
