// `ringtail hosts` as a real process on a collector's store: stopped (the command applies the
// operation itself, series and hidden lines included) and running (the collector applies the
// queued request in its sweep, so its in-memory state agrees).
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../collector/app.js';
import { WIRE_VERSION } from '../../shared/wire.js';
import { bearer } from '../helpers/alerts.js';
import { batchOf } from '../helpers/collector.js';
import { runRingtail, tempDir } from '../helpers/proc.js';

let dir: { path: string; cleanup(): void };
beforeEach(() => {
  dir = tempDir('ringtail-hosts-cli-');
});
afterEach(() => dir.cleanup());

async function collector(run: boolean): Promise<{ app: FastifyInstance; agent: string; viewer: string }> {
  const app = await buildApp({ dataDir: dir.path, hosts: { run, config: { sweep_interval: '100ms' } } });
  await app.ready();
  return { app, agent: (await app.storage.tokens.create('agent', 'a', Date.now())).token, viewer: (await app.storage.tokens.create('viewer', 'v', Date.now())).token };
}

async function feed(c: { app: FastifyInstance; agent: string }, host: string) {
  const l = await c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: bearer(c.agent), payload: batchOf([`line of ${host}`], { host, agent: `agt_${host}`, ts: Date.now() }) });
  expect(l.statusCode).toBe(200);
  const m = await c.app.inject({
    method: 'POST',
    url: '/api/v1/metrics/ingest',
    headers: bearer(c.agent),
    payload: { version: WIRE_VERSION, agent_id: `agt_${host}`, host, samples: [{ name: 'load.1', type: 'GAUGE', ts: Date.now(), value: 1 }] },
  });
  expect(m.statusCode).toBe(200);
}

describe('ringtail hosts (process)', () => {
  it('on a stopped collector: list, retire, forget (series deleted, lines hidden, forgotten after restart), unknown host exits 1', async () => {
    let c = await collector(false);
    await feed(c, 'web-1');
    await feed(c, 'web-2');
    await c.app.close();

    const list = await runRingtail(['hosts', 'list', '--data', dir.path]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout.trim().split('\n').map((l) => JSON.parse(l)).map((h: { host: string; state: string }) => [h.host, h.state])).toEqual([
      ['web-1', 'up'],
      ['web-2', 'up'],
    ]);
    const retire = await runRingtail(['hosts', 'retire', '--host', 'web-2', '--data', dir.path]);
    expect(retire.code, retire.stderr).toBe(0);
    expect((await runRingtail(['hosts', 'list', '--data', dir.path])).stdout).not.toContain('web-2');
    expect((await runRingtail(['hosts', 'list', '--data', dir.path, '--include-retired'])).stdout).toContain('"state":"retired"');

    const forget = await runRingtail(['hosts', 'forget', '--host', 'web-1', '--data', dir.path]);
    expect(forget.code, forget.stderr).toBe(0);
    expect(JSON.parse(forget.stdout)).toEqual({ host: 'web-1', forgotten: true });
    const unknown = await runRingtail(['hosts', 'forget', '--host', 'web-1', '--data', dir.path]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('RINGTAIL_ERR_NOT_FOUND');
    const bad = await runRingtail(['hosts', 'forget', '--host', 'a\u0001b', '--data', dir.path]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--host');

    c = await collector(false);
    try {
      const get = async (url: string) => (await c.app.inject({ method: 'GET', url, headers: bearer(c.viewer) })).json();
      expect((await get('/api/v1/hosts?include_retired=true')).items.map((h: { host: string; state: string }) => [h.host, h.state])).toEqual([['web-2', 'retired']]);
      expect((await get('/api/v1/metrics?host=web-1')).items).toEqual([]);
      expect((await get('/api/v1/metrics?host=web-2')).items).toHaveLength(1);
      expect((await get('/api/v1/logs')).items.map((l: { host: string }) => l.host)).toEqual(['web-2']);
    } finally {
      await c.app.close();
    }
  });

  it('on a running collector: the request is applied by the collector, whose state agrees at once', async () => {
    const c = await collector(true);
    try {
      await feed(c, 'web-1');
      await feed(c, 'web-2');
      // the collector has swept at least once: the command sees it running
      const started = Date.now();
      while ((await c.app.storage.hostStates!.getMeta('tick_at')) === null && Date.now() - started < 5000) await new Promise((r) => setTimeout(r, 20));
      const retire = await runRingtail(['hosts', 'retire', '--host', 'web-1', '--data', dir.path]);
      expect(retire.code, retire.stderr).toBe(0);
      expect(c.app.hosts.state('web-1')).toBe('retired');
      const forget = await runRingtail(['hosts', 'forget', '--host', 'web-2', '--data', dir.path]);
      expect(forget.code, forget.stderr).toBe(0);
      expect(c.app.hosts.state('web-2')).toBeNull();
      expect(c.app.hostMetrics.list('web-2')).toEqual([]);
      const unknown = await runRingtail(['hosts', 'retire', '--host', 'nope', '--data', dir.path]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('RINGTAIL_ERR_NOT_FOUND');
    } finally {
      await c.app.close();
    }
  });
});
