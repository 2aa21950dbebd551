// The agent's `ephemeral` option from flag, environment or default, through the batches it
// builds (log batches by the Batcher, metric batches by the runner) to the collector's host list.
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Batcher } from '../../agent/batcher.js';
import { AgentConfig } from '../../agent/config.js';
import { MetricsRunner } from '../../agent/metrics/runner.js';
import { loadOptions } from '../../cli/options.js';
import { CollectorConfig } from '../../collector/config.js';
import { createLogger } from '../../shared/logger.js';
import { ConfigError } from '../../shared/errors.js';
import type { MetricAck } from '../../shared/wire.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';

const base = ['--collector', 'http://127.0.0.1:1', '--token', 'abcdefghijk', '--watch', '/tmp/*.log'];
const quiet = createLogger({ write: () => true } as unknown as NodeJS.WritableStream, 'error');
let c: TestCollector | null = null;
afterEach(async () => {
  await c?.close();
  c = null;
});

describe('agent ephemeral option', () => {
  it('--ephemeral, RINGTAIL_EPHEMERAL=true, default false; a host name with control characters is refused naming --host', () => {
    expect(loadOptions<AgentConfig>(AgentConfig, base, {}).options.ephemeral).toBe(false);
    expect(loadOptions<AgentConfig>(AgentConfig, [...base, '--ephemeral'], {}).options.ephemeral).toBe(true);
    expect(loadOptions<AgentConfig>(AgentConfig, base, { RINGTAIL_EPHEMERAL: 'true' }).options.ephemeral).toBe(true);
    expect(() => loadOptions<AgentConfig>(AgentConfig, [...base, '--host', 'web\u0007-1'], {})).toThrow(ConfigError);
    try {
      loadOptions<AgentConfig>(AgentConfig, [...base, '--host', 'web\u0007-1'], {});
    } catch (err) {
      expect((err as ConfigError).key).toBe('--host');
    }
    const col = loadOptions<CollectorConfig>(CollectorConfig, ['--hosts-retire-after', '2h'], {}).options;
    expect(col.hosts).toMatchObject({ retire_after: '2h', down_after: '5m', purge_after: '30d' });
    expect(() => loadOptions<CollectorConfig>(CollectorConfig, ['--hosts-retire-after', 'soon'], {})).toThrow(/--hosts-retire-after/);
  });

  it('log and metric batches of an ephemeral agent make an ephemeral host; a permanent agent sends no field (older collectors accept it)', async () => {
    c = await testCollector();
    const send = async (host: string, ephemeral: boolean) => {
      const b = new Batcher({ maxLines: 10, maxBytes: 1 << 20, lingerMs: 0 }, { agentId: `agt_${host}`, host, ephemeral });
      b.add([{ stream: 's', source: '/var/log/x.log', start: 0, end: 2, lines: [{ offset: 0, ts: 1000, severity: 6, message: 'x' }], bytes: 2 }], 1);
      const sealed = await b.seal(2, 1);
      const doc = JSON.parse(gunzipSync(sealed.body).toString('utf8'));
      expect('ephemeral' in doc).toBe(ephemeral);
      const res = await c!.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c!.token('agent')}` }, payload: doc });
      expect(res.statusCode, res.body).toBe(200);
    };
    await send('i-1', true);
    await send('perm-1', false);

    const sent: unknown[] = [];
    const runner = new MetricsRunner({
      collector: 'http://unused', token: 'x', host: 'i-2', agentId: 'agt_i2', intervalMs: 15_000, ephemeral: true, maxQueued: 1000, log: quiet,
      sources: [{ name: 'n', collect: () => [{ name: 'x.n', type: 'GAUGE', value: 1 }] }],
      send: async (batch) => {
        sent.push(batch);
        const res = await c!.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c!.token('agent')}` }, payload: batch });
        expect(res.statusCode, res.body).toBe(200);
        return res.json() as MetricAck;
      },
    });
    await runner.tick();
    expect(await runner.flush()).toBe(true);
    expect(sent[0]).toMatchObject({ ephemeral: true, interval_ms: 15_000 });

    const hosts = (await c.app.inject({ method: 'GET', url: '/api/v1/hosts', headers: { authorization: `Bearer ${c.token('viewer')}` } })).json().items;
    expect(hosts.map((h: { host: string; ephemeral: boolean; interval_ms: number | null }) => [h.host, h.ephemeral, h.interval_ms])).toEqual([
      ['i-1', true, null],
      ['i-2', true, 15_000],
      ['perm-1', false, null],
    ]);
  });
});
