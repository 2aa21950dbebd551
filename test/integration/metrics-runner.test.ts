// The runner end to end inside one process: real families and a real collector app. The clock
// is injected (rounds 10 s apart) while the counters are real, so known loopback and disk
// traffic must come out of the collector's DERIVE series as rates whose sum covers it.
import { CollectorConfig } from '../../collector/config.js';
import { Value } from '@sinclair/typebox/value';
import { execFileSync } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { networkFamily } from '../../agent/metrics/network.js';
import { MetricShipError } from '../../agent/metrics/ship.js';
import { MetricsRunner } from '../../agent/metrics/runner.js';
import { createFamilies } from '../../agent/metrics/families.js';
import { FAMILY_NAMES } from '../../agent/metrics/config.js';
import type { MetricSource } from '../../agent/metrics/types.js';
import { startCollector, type RunningCollector } from '../../collector/server.js';
import { createLogger } from '../../shared/logger.js';
import type { MetricAck, MetricBatch } from '../../shared/wire.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';
import { findDisk } from '../helpers/disk.js';

// In-process collectors must not bind the default syslog port (5514): another collector on the
// machine, or a parallel test, may hold it.
const NO_SYSLOG = Value.Default(CollectorConfig.properties.syslog, { enabled: false }) as CollectorConfig['syslog'];

const T0 = 1_700_000_000_000;
// tempDir() is under tmpdir(): the test needs it on a real disk
const disk = findDisk([tmpdir()]);
if ('why' in disk) console.warn(`skipping the disk rate test: ${disk.why}`);
const quiet = createLogger({ write: () => true } as unknown as NodeJS.WritableStream, 'error');

function viaInject(c: TestCollector): (batch: MetricBatch) => Promise<MetricAck> {
  return async (batch) => {
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: batch });
    if (res.statusCode !== 200) throw new MetricShipError(`collector answered ${res.statusCode}: ${res.body}`, res.statusCode === 400);
    return res.json() as MetricAck;
  };
}

describe('metrics runner into the collector', () => {
  let now = T0;
  let c: TestCollector;
  beforeEach(async () => {
    now = T0;
    c = await testCollector(() => now);
  });
  afterEach(async () => c.close());

  const runner = (sources: MetricSource[], extra: Partial<ConstructorParameters<typeof MetricsRunner>[0]> = {}) =>
    new MetricsRunner({ collector: 'http://unused', token: 'x', host: 'web-1', agentId: 'agt_t', intervalMs: 10_000, maxQueued: 100_000, sources, log: quiet, clock: () => now, send: viaInject(c), ...extra });
  const series = async (metric: string, start: number, end: number) => {
    const res = await c.app.inject({ method: 'GET', url: `/api/v1/series?host=web-1&metric=${encodeURIComponent(metric)}&start=${start}&end=${end}`, headers: { authorization: `Bearer ${c.token('viewer')}` } });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as { step: number; values: Array<number | null> };
  };

  it('every family, two rounds: every series created, CPU shares summing to 100', async () => {
    const r = runner(createFamilies(FAMILY_NAMES, { snapshot: () => ({ 'lines.shipped': 42, 'spool.bytes': 1024 }) }));
    await r.tick();
    now += 10_000;
    const second = await r.tick();
    expect(await r.flush()).toBe(true);
    const shares = second.filter((s) => s.name.startsWith('cpu.'));
    expect(shares).toHaveLength(8);
    expect(shares.reduce((a, s) => a + s.value, 0)).toBeCloseTo(100, 1);
    const list = c.app.hostMetrics.list('web-1');
    const names = new Set(list.map((e) => e.name));
    for (const n of ['cpu.user', 'cpu.idle', 'memory.used', 'load.1', 'df.used_pct', 'net.rx_bytes', 'processes.total', 'fds.open', 'tcp.connections', 'system.uptime', 'agent.lines.shipped', 'agent.spool.bytes', 'agent.rss_bytes', 'agent.metrics.collect_ms']) {
      expect(names.has(n), n).toBe(true);
    }
    expect(list.find((e) => e.name === 'net.rx_bytes')!.type).toBe('DERIVE');
    expect(list.find((e) => e.name === 'agent.spool.bytes')!.type).toBe('GAUGE');
    expect(list.filter((e) => e.name.startsWith('cpu.')).every((e) => e.type === 'GAUGE')).toBe(true);
  });

  it('16 MiB over loopback show up in the lo rx rate of the stored series', async () => {
    const r = runner([networkFamily()]);
    await r.tick(); // T0: baseline counter
    now += 10_000;
    await r.tick(); // T0+10 s: the first rate
    const N = 16 * 1024 * 1024;
    const server = createServer((s) => s.resume());
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise<void>((res) => client.end(Buffer.alloc(N, 1), res));
    await new Promise((res) => client.on('close', res));
    await new Promise((res) => server.close(res));
    now += 10_000;
    await r.tick(); // T0+20 s: the traffic fell in (T0+10, T0+20]
    now += 10_000;
    await r.tick();
    expect(await r.flush()).toBe(true);
    const s = await series('net.rx_bytes{interface=lo}', T0, T0 + 30_000);
    expect(s.step).toBe(10_000);
    // rows end at T0+10, +20, +30: the traffic's row holds at least N bytes / 10 s
    const bytes = s.values.map((v) => (v ?? 0) * 10);
    expect(bytes[1]).toBeGreaterThanOrEqual(N);
    expect(bytes[1]).toBeLessThan(N + 256 * 1024 * 1024);
  });

  it.skipIf('why' in disk)('32 MiB written with O_DIRECT show up in the disk write rate of the stored series', async () => {
    const dir = tempDir('ringtail-rdio-');
    try {
      const r = runner(createFamilies(['disk-io']));
      await r.tick();
      now += 10_000;
      await r.tick();
      execFileSync('dd', ['if=/dev/zero', `of=${join(dir.path, 'blob')}`, 'bs=1M', 'count=32', 'oflag=direct', 'conv=fsync', 'status=none']);
      now += 10_000;
      const round = await r.tick();
      expect(await r.flush()).toBe(true);
      const devices = round.filter((s) => s.name === 'disk.write_bytes').map((s) => s.labels!.device!);
      expect(devices.length).toBeGreaterThan(0);
      const device = (disk as { name: string }).name;
      expect(devices).toContain(device);
      const s = await series(`disk.write_bytes{device=${device}}`, T0, T0 + 20_000);
      // the row ending at T0+20 s holds the step the writes fell in
      expect((s.values[1] ?? 0) * 10).toBeGreaterThanOrEqual(32 * 1024 * 1024);
    } finally {
      dir.cleanup();
    }
  });

  it('queue bounded: the oldest samples go first when the collector stays away', async () => {
    let calls = 0;
    const src: MetricSource = { name: 'ten', collect: () => Array.from({ length: 9 }, (_, i) => ({ name: `x.v${i}`, type: 'GAUGE' as const, value: i })) };
    const r = runner([src], {
      maxQueued: 25,
      send: async () => {
        calls++;
        throw new MetricShipError('collector unreachable', false);
      },
    });
    for (let i = 0; i < 4; i++) {
      await r.tick();
      now += 10_000;
    }
    expect(r.queued).toBe(25); // 4 rounds × (9 + collect_ms) = 40, bounded to 25
    expect(r.events.count('metrics.dropped_samples')).toBe(15);
    expect(await r.flush()).toBe(false);
    expect(calls).toBe(1);
    expect(r.queued).toBe(25);
  });

  it('a batch the collector refuses is dropped, said so, and does not block later ones', async () => {
    let bad = true;
    const src: MetricSource = { name: 'flaky', collect: () => [{ name: 'x.ratio', type: bad ? ('DERIVE' as const) : ('GAUGE' as const), value: 1.5 }] };
    const r = runner([src]);
    await r.tick();
    expect(await r.flush()).toBe(true);
    expect(r.events.count('metrics.rejected')).toBe(1);
    bad = false;
    now += 10_000;
    await r.tick();
    expect(await r.flush()).toBe(true);
    expect(c.app.hostMetrics.list('web-1').map((e) => e.name)).toContain('x.ratio');
  });

  it('a source that throws is reported once and the others still ship', async () => {
    const broken: MetricSource = { name: 'broken', collect: () => { throw new Error('cannot read /proc/nothing'); } };
    const ok: MetricSource = { name: 'ok', collect: () => [{ name: 'x.ok', type: 'GAUGE', value: 1 }] };
    const r = runner([broken, ok]);
    await r.tick();
    now += 10_000;
    await r.tick();
    expect(r.events.count('metrics.source_failed')).toBe(1);
    expect(await r.flush()).toBe(true);
    expect(c.app.hostMetrics.list('web-1').map((e) => e.name)).toContain('x.ok');
  });
});

describe('metrics runner over a real socket', () => {
  let col: RunningCollector | null = null;
  const dir = tempDir('ringtail-rsock-');
  afterEach(async () => {
    await col?.close();
    col = null;
  });

  it('keeps sampling while the collector is down and delivers in order once it is back', async () => {
    const admin = 'adm_' + 'x'.repeat(24);
    col = await startCollector({ data: dir.path, listen: '127.0.0.1:0', admin_token: admin, body_limit: 1 << 24, log_level: 'error', syslog: NO_SYSLOG }, { write: () => true } as unknown as NodeJS.WritableStream);
    const url = col.url;
    const port = Number(new URL(url).port);
    let now = T0;
    let v = 0;
    const r = new MetricsRunner({
      collector: url, token: admin, host: 'sock-1', agentId: 'agt_s', intervalMs: 10_000, maxQueued: 1000,
      sources: [{ name: 'n', collect: () => [{ name: 'x.n', type: 'GAUGE', value: v++ }] }],
      log: quiet, clock: () => now,
    });
    await r.tick();
    expect(await r.flush()).toBe(true);
    await col.close();
    col = null;
    for (let i = 0; i < 3; i++) {
      now += 10_000;
      await r.tick();
    }
    expect(await r.flush()).toBe(false);
    expect(r.events.count('metrics.ship_failed')).toBe(1);
    col = await startCollector({ data: dir.path, listen: `127.0.0.1:${port}`, admin_token: admin, body_limit: 1 << 24, log_level: 'error', syslog: NO_SYSLOG }, { write: () => true } as unknown as NodeJS.WritableStream);
    expect(await r.flush()).toBe(true);
    expect(r.queued).toBe(0);
    const entry = col.app.hostMetrics.list('sock-1').find((e) => e.name === 'x.n')!;
    expect(entry.last_update).toBe(T0 + 30_000);
    const s = col.app.hostMetrics.fetch('sock-1', 'x.n', 'AVERAGE', T0, T0 + 30_000)!;
    // rows end at T0+10 … T0+40 (rrdtool moves the end one step on); nothing after T0+30 yet
    expect(s.values).toEqual([1, 2, 3, null]);
    dir.cleanup();
  });
});
