// `ringtail collector` with a bad alerts section exits 2 with one line naming the key, at once
// (nothing opened before the check keeps the process alive).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRingtail, tempDir } from '../helpers/proc.js';

const dir = tempDir('ringtail-alerts-config-');
afterAll(() => dir.cleanup());

describe('ringtail collector alerts configuration', () => {
  it.each([
    [{ rules: [{ kind: 'metric', name: 'x', metric: 'm', op: 'above' }] }, "config key 'alerts.rules[0]'"],
    [{ webhooks: [{ name: 'ops', url: 'http://127.0.0.1:9/', secret: 'not-a-secret' }] }, "config key 'alerts.webhooks'"],
    [{ evaluation_interval_ms: 5 }, '--alerts-evaluation-interval-ms'],
  ])('%j', async (alerts, key) => {
    const file = join(dir.path, `c${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify({ alerts }));
    const started = Date.now();
    const r = await runRingtail(['collector', '--data', join(dir.path, 'data'), '--listen', '127.0.0.1:0', '--no-syslog-enabled', '--config', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(key);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
