// `ringtail token create --role enroll --uses N --ttl 1h | --expires TIME`: the limits, and the
// mistakes refused with the flag named (cli/commands/token.ts).
import { describe, expect, it } from 'vitest';
import { enrollLimits } from '../../cli/commands/token.js';
import { ConfigError } from '../../shared/errors.js';

const now = Date.parse('2026-12-07T02:00:00Z');

describe('enrollment token limits', () => {
  it('turns --uses, --ttl and --expires into limits', () => {
    expect(enrollLimits({ role: 'enroll' }, now)).toEqual({ uses: null, expires_at: null });
    expect(enrollLimits({ role: 'enroll', uses: 3, ttl: '90m' }, now)).toEqual({ uses: 3, expires_at: now + 90 * 60_000 });
    expect(enrollLimits({ role: 'enroll', ttl: '7d' }, now).expires_at).toBe(now + 7 * 86_400_000);
    expect(enrollLimits({ role: 'enroll', expires: '2026-12-31T00:00:00Z' }, now).expires_at).toBe(Date.parse('2026-12-31T00:00:00Z'));
  });

  it.each([
    [{ role: 'agent', uses: 1 }, '--uses'],
    [{ role: 'viewer', ttl: '1h' }, '--ttl'],
    [{ role: 'enroll', ttl: '1h', expires: '2026-12-31T00:00:00Z' }, '--expires'],
    [{ role: 'enroll', expires: '2026-12-31' }, '--expires'],
    [{ role: 'enroll', expires: '2026-01-01T00:00:00Z' }, '--expires'],
    [{ role: 'enroll', expires: '2026-13-45T00:00:00Z' }, '--expires'],
  ])('refuses %j naming %s', (o, flag) => {
    let err: unknown;
    try {
      enrollLimits(o, now);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).key).toBe(flag);
  });
});
