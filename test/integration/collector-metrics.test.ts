// The collector's metric side through inject(): samples in, round-robin series out, with
// rrdtool's semantics (GAUGE averages, DERIVE rates, archive selection), bad input refused with
// a reason and nothing stored, redelivery harmless, hosts integrated and withdrawn.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../collector/app.js';
import type { MetricBatch } from '../../shared/wire.js';
import { metricBatchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';

const T0 = 1_700_000_000_000; // a multiple of 10 s

const batch = (samples: Parameters<typeof metricBatchOf>[0], host = 'web-1', extra: Partial<MetricBatch> = {}) =>
  metricBatchOf(samples, { name: 'load.1', host, agent: 'agt_test' }, extra);

describe('metrics on the collector', () => {
  let now = T0;
  let c: TestCollector;
  beforeEach(async () => {
    now = T0;
    c = await testCollector(() => now);
  });
  afterEach(async () => c.close());

  const post = (body: unknown, role: 'agent' | 'viewer' | 'admin' = 'agent') =>
    c.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c.token(role)}` }, payload: body as object });
  const get = (url: string, role: 'agent' | 'viewer' | 'admin' = 'viewer') => c.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${c.token(role)}` } });

  it('a GAUGE comes back as the average of each 10 s step, unknown before the first sample as null', async () => {
    const samples = [];
    for (let i = 0; i <= 6; i++) samples.push({ ts: T0 + i * 10_000, value: i * 10 });
    const res = await post(batch(samples));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ accepted: 7, duplicates: 0, created: 1 });
    now = T0 + 60_000;
    const s = await get(`/api/v1/series?host=web-1&metric=load.1&start=${T0 - 20_000}&end=${T0 + 60_000}`);
    expect(s.statusCode, s.body).toBe(200);
    const body = s.json();
    expect(body.step).toBe(10_000);
    expect(body.start).toBe(T0 - 20_000);
    // rows end at start+step … end; the row ending at T0 has only the creation second: unknown
    expect(body.values).toEqual([null, null, 10, 20, 30, 40, 50, 60, null]);
    expect(body.end).toBe(T0 + 70_000);
  });

  it('series times in every form of the time parameters: Unix seconds, RFC 3339 and relative give the same rows as ms', async () => {
    const samples = [];
    for (let i = 0; i <= 12; i++) samples.push({ ts: T0 + i * 10_000, value: i });
    expect((await post(batch(samples))).statusCode).toBe(200);
    now = T0 + 120_000;
    const byMs = await get(`/api/v1/series?host=web-1&metric=load.1&start=${T0}&end=${T0 + 120_000}`);
    expect(byMs.statusCode, byMs.body).toBe(200);
    const iso = (t: number) => new Date(t).toISOString();
    // issue 13: Unix seconds were read as ms ("start (1700000) should be less than end (1700000)")
    for (const range of [`start=${T0 / 1000}&end=${T0 / 1000 + 120}`, `start=${iso(T0)}&end=${iso(T0 + 120_000)}`, 'start=now-2m&end=now', 'start=-120s&end=now']) {
      const res = await get(`/api/v1/series?host=web-1&metric=load.1&${range}`);
      expect(res.statusCode, `${range}: ${res.body}`).toBe(200);
      expect(res.json(), range).toEqual(byMs.json());
    }
    const far = await get('/api/v1/series?host=web-1&metric=load.1&start=-99999999999999999999');
    expect(far.statusCode).toBe(400);
    expect(far.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_QUERY', parameter: 'start' });
  });

  it('a DERIVE counter becomes a per-second rate; a reset (counter going down) is unknown, not a spike', async () => {
    const counts = [1000, 2000, 3000, 4000, 100, 1100, 2100];
    const res = await post(batch(counts.map((v, i) => ({ name: 'net.rx_bytes', type: 'DERIVE', labels: { interface: 'lo' }, ts: T0 + i * 10_000, value: v }))));
    expect(res.statusCode, res.body).toBe(200);
    const s = (await get(`/api/v1/series?host=web-1&metric=${encodeURIComponent('net.rx_bytes{interface=lo}')}&start=${T0}&end=${T0 + 50_000}`)).json();
    expect(s.values).toEqual([100, 100, 100, null, 100, 100]);
  });

  it('a redelivered request is recognised: duplicates dropped, new samples kept', async () => {
    const first = batch([0, 1, 2].map((i) => ({ ts: T0 + i * 10_000, value: i })));
    expect((await post(first)).json()).toMatchObject({ accepted: 3, duplicates: 0 });
    const again = batch([0, 1, 2, 3, 4].map((i) => ({ ts: T0 + i * 10_000, value: i })));
    expect((await post(again)).json()).toEqual({ accepted: 2, duplicates: 3, created: 0 });
  });

  it('one request is one series per (host, metric key), labels in any order', async () => {
    const res = await post(
      batch([
        { name: 'disk.write_bytes', type: 'DERIVE', labels: { device: 'vda' }, ts: T0, value: 1 },
        { name: 'disk.write_bytes', type: 'DERIVE', labels: { device: 'vdb' }, ts: T0, value: 1 },
        { name: 'tcp.connections', labels: { state: 'listen', family: 'all' }, ts: T0, value: 3 },
        { name: 'tcp.connections', labels: { family: 'all', state: 'listen' }, ts: T0 + 10_000, value: 4 },
      ]),
    );
    expect(res.json()).toEqual({ accepted: 4, duplicates: 0, created: 3 });
    await post(batch([{ ts: T0, value: 1 }], 'db-1'));
    const list = (await get('/api/v1/metrics?host=web-1')).json().items;
    expect(list.map((e: { metric: string }) => e.metric)).toEqual(['disk.write_bytes{device=vda}', 'disk.write_bytes{device=vdb}', 'tcp.connections{family=all,state=listen}']);
    expect(list[0]).toMatchObject({ host: 'web-1', name: 'disk.write_bytes', labels: { device: 'vda' }, type: 'DERIVE', step: 10, last_update: T0 });
    expect((await get('/api/v1/metrics')).json().items).toHaveLength(4);
  });

  it.each([
    ['no version', (b: MetricBatch) => ({ ...b, version: undefined }), /body.*version/],
    ['unknown field', (b: MetricBatch) => ({ ...b, extra: 1 }), /body/],
    ['bad metric name', (b: MetricBatch) => ({ ...b, samples: [{ ...b.samples[0]!, name: 'Load 1' }] }), /body\/samples\/0\/name/],
    ['bad type', (b: MetricBatch) => ({ ...b, samples: [{ ...b.samples[0]!, type: 'HISTOGRAM' }] }), /body\/samples\/0\/type/],
    ['label value with the key syntax', (b: MetricBatch) => ({ ...b, samples: [{ ...b.samples[0]!, labels: { mount: 'a,b=c' } }] }), /body\/samples\/0\/labels/],
    ['value not a number', (b: MetricBatch) => ({ ...b, samples: [{ ...b.samples[0]!, value: '12' }] }), /body\/samples\/0\/value/],
    ['DERIVE not an integer', (b: MetricBatch) => ({ ...b, samples: [{ ...b.samples[0]!, type: 'DERIVE', value: 1.5 }] }), /samples\/0\/value: DERIVE values must be integers, got 1.5/],
    ['two samples of one series in one second', (b: MetricBatch) => ({ ...b, samples: [b.samples[0]!, { ...b.samples[0]!, ts: b.samples[0]!.ts + 400 }] }), /two samples of 'load.1'/],
  ])('refuses %s with 400 and a reason, storing nothing', async (_, mutate, re) => {
    const good = batch([{ ts: T0, value: 1 }, { name: 'memory.used', ts: T0, value: 5 }]);
    const bad = mutate(good) as MetricBatch;
    bad.samples = [...bad.samples, { name: 'cpu.user', type: 'GAUGE', ts: T0, value: 3 }];
    const res = await post(bad);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('RINGTAIL_ERR_BAD_REQUEST');
    expect(res.json().message).toMatch(re);
    expect((await get('/api/v1/metrics')).json().items).toEqual([]);
  });

  it('a sample whose type contradicts its series is refused; the series keeps what it had', async () => {
    await post(batch([{ name: 'net.rx_bytes', type: 'DERIVE', ts: T0, value: 1 }]));
    const res = await post(batch([{ name: 'net.rx_bytes', type: 'GAUGE', ts: T0 + 10_000, value: 1 }, { name: 'load.5', ts: T0 + 10_000, value: 1 }]));
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/'net.rx_bytes' of host 'web-1' is DERIVE, the sample says GAUGE/);
    expect((await get('/api/v1/metrics')).json().items.map((e: { metric: string }) => e.metric)).toEqual(['net.rx_bytes']);
  });

  it('roles: agents post, viewers read, nobody anonymous', async () => {
    const b = batch([{ ts: T0, value: 1 }]);
    expect((await post(b, 'viewer')).statusCode).toBe(403);
    expect((await post(b, 'admin')).statusCode).toBe(200);
    expect((await get('/api/v1/metrics', 'agent')).statusCode).toBe(403);
    expect((await get('/api/v1/series?host=web-1&metric=load.1', 'agent')).statusCode).toBe(403);
    expect((await c.app.inject({ method: 'GET', url: '/api/v1/metrics' })).statusCode).toBe(401);
    expect((await c.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', payload: b })).statusCode).toBe(401);
  });

  it('series queries: unknown series 404, bad cf and bad times 400', async () => {
    await post(batch([{ ts: T0, value: 1 }]));
    const unknown = await get('/api/v1/series?host=web-1&metric=load.15');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().message).toMatch(/no series 'load.15' for host 'web-1'/);
    expect((await get('/api/v1/series?host=web-1&metric=load.1&cf=MEDIAN')).statusCode).toBe(400);
    const t = await get('/api/v1/series?host=web-1&metric=load.1&start=yesterday');
    expect(t.statusCode).toBe(400);
    expect(t.json().message).toMatch(/start: expected an RFC 3339 time, ms or s since the epoch, or a relative time/);
    expect((await get(`/api/v1/series?host=web-1&metric=load.1&start=${T0}&end=${T0}`)).statusCode).toBe(400);
  });

  it("archive selection is rrdtool's: a range reaching past the 10 s archive's day reads the 1 min archive; MAX at 1 min", async () => {
    // 2 hours of a saw-tooth, one sample every 10 s
    const samples = [];
    for (let i = 0; i < 720; i++) samples.push({ ts: T0 + i * 10_000, value: i % 6 });
    expect((await post(batch(samples))).statusCode).toBe(200);
    now = T0 + 720 * 10_000;
    const fine = (await get(`/api/v1/series?host=web-1&metric=load.1&start=${T0 + 3_600_000}&end=${T0 + 3_660_000}`)).json();
    expect(fine.step).toBe(10_000);
    const far = (await get(`/api/v1/series?host=web-1&metric=load.1&start=${T0 - 2 * 86_400_000}&end=${T0 + 3_600_000}`)).json();
    expect(far.step).toBe(60_000);
    const max = (await get(`/api/v1/series?host=web-1&metric=load.1&cf=MAX&start=${T0 + 600_000}&end=${T0 + 1_200_000}&resolution=60000`)).json();
    expect(max.step).toBe(60_000);
    expect(max.values.filter((v: number | null) => v !== null).every((v: number) => v === 5)).toBe(true);
    const avg = (await get(`/api/v1/series?host=web-1&metric=load.1&start=${T0 + 600_000}&end=${T0 + 1_200_000}&resolution=60000`)).json();
    expect(avg.values.filter((v: number | null) => v !== null).every((v: number) => v === 2.5)).toBe(true);
  });

  it('hosts: active while samples arrive, stale after three intervals, withdrawn by an admin', async () => {
    await post(batch([{ ts: T0, value: 1 }], 'web-1'));
    await post(batch([{ ts: T0, value: 1 }], 'web-2', { interval_ms: 60_000 }));
    now = T0 + 5_000;
    expect((await get('/api/v1/metrics/hosts')).json().items.map((h: { host: string; state: string }) => [h.host, h.state])).toEqual([
      ['web-1', 'active'],
      ['web-2', 'active'],
    ]);
    now = T0 + 90_000; // web-1 (10 s) quiet for > 60 s; web-2 (60 s) not yet three intervals
    const hosts = (await get('/api/v1/metrics/hosts')).json().items;
    expect(hosts.map((h: { host: string; state: string }) => [h.host, h.state])).toEqual([
      ['web-1', 'stale'],
      ['web-2', 'active'],
    ]);
    expect(hosts[0]).toMatchObject({ series: 1, last_sample: T0, interval_ms: 10_000 });
    const del = () => c.app.inject({ method: 'DELETE', url: '/api/v1/metrics?host=web-1', headers: { authorization: `Bearer ${c.token('viewer')}` } });
    expect((await del()).statusCode).toBe(403);
    const ok = await c.app.inject({ method: 'DELETE', url: '/api/v1/metrics?host=web-1', headers: { authorization: `Bearer ${c.token('admin')}` } });
    expect(ok.json()).toEqual({ host: 'web-1', deleted: 1 });
    expect((await get('/api/v1/metrics/hosts')).json().items.map((h: { host: string }) => h.host)).toEqual(['web-2']);
    expect((await get('/api/v1/series?host=web-1&metric=load.1')).statusCode).toBe(404);
    // a withdrawn host that comes back is integrated again
    expect((await post(batch([{ ts: T0 + 100_000, value: 1 }], 'web-1'))).json()).toMatchObject({ created: 1 });
  });
});

describe('metric layouts and restarts', () => {
  it('a configured pattern overrides the default layout; the catalog survives a restart', async () => {
    const dir = tempDir('ringtail-mlayout-');
    try {
      const layouts = [{ match: 'check.*', step: 60, rra: ['AVERAGE:0.5:1:1440', 'MAX:0.5:60:24'] }];
      let app = await buildApp({ dataDir: dir.path, clock: () => T0, hostMetrics: { layouts } });
      const token = (await app.storage.tokens.create('admin', 't', T0)).token;
      const h = { authorization: `Bearer ${token}` };
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/metrics/ingest',
        headers: h,
        payload: batch([{ name: 'check.http.up', labels: { check: 'web' }, ts: T0, value: 1 }, { ts: T0, value: 1 }]),
      });
      expect(res.statusCode, res.body).toBe(200);
      const defs = app.hostMetrics.store.list().map((n) => [n, app.hostMetrics.store.info(n).def]);
      const check = defs.find(([n]) => String(n).includes('check.http.up'))![1] as { step: number; rra: unknown[]; ds: Array<{ heartbeat: number }> };
      expect(check.step).toBe(60);
      expect(check.rra).toHaveLength(2);
      expect(check.ds[0]!.heartbeat).toBe(120);
      const load = defs.find(([n]) => String(n).endsWith('/load.1'))![1] as { step: number; rra: Array<{ cf: string; pdpPerRow: number; rows: number }> };
      expect(load.step).toBe(10);
      expect(load.rra.map((r) => `${r.cf}:${r.pdpPerRow}:${r.rows}`)).toEqual([
        'AVERAGE:1:8640', 'AVERAGE:6:10080', 'AVERAGE:30:8928', 'AVERAGE:360:8784', 'MIN:6:10080', 'MAX:6:10080', 'MIN:360:8784', 'MAX:360:8784',
      ]);
      await app.close();
      app = await buildApp({ dataDir: dir.path, clock: () => T0 + 10_000 });
      expect(app.hostMetrics.list().map((e) => e.metric)).toEqual(['check.http.up{check=web}', 'load.1']);
      // the restarted collector still knows the last update: a redelivery is a duplicate
      const again = await app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: h, payload: batch([{ ts: T0, value: 1 }]) });
      expect(again.json()).toEqual({ accepted: 0, duplicates: 1, created: 0 });
      await app.close();
    } finally {
      dir.cleanup();
    }
  });

  it('an archive too large for the store is a configuration error at start', async () => {
    const dir = tempDir('ringtail-mlayout-');
    try {
      await expect(buildApp({ dataDir: dir.path, hostMetrics: { layouts: [{ match: '*', rra: ['AVERAGE:0.5:1:9999999'] }] } })).rejects.toThrow(/metrics.layouts\[0\].rra\[0\]: at most/);
    } finally {
      dir.cleanup();
    }
  });
});
