// Issue 12, item 1 (the token half): any agent token could write any host's lines and series.
// With auth.bind_agent_hosts an agent token may only send for the first host it announced;
// the binding is stored, so it survives a restart. Off by default (see plugins/host-binding.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../collector/app.js';
import { INGEST_MULTI_TYPE, WIRE_VERSION, type MetricBatch } from '../../shared/wire.js';
import { batchOf } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';

const T0 = 1_700_000_000_000;

function metrics(host: string, ts = T0): MetricBatch {
  return { version: WIRE_VERSION, agent_id: `agt_${host}`, host, interval_ms: 10_000, samples: [{ name: 'cpu.user', type: 'GAUGE', ts, value: 1 }] };
}

describe('auth.bind_agent_hosts', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir('ringtail-bind-');
  });
  afterEach(() => dir.cleanup());

  async function open(bind: boolean) {
    const app = await buildApp({ dataDir: dir.path, clock: () => T0, bindAgentHosts: bind });
    const send = (token: string, url: string, payload: object | string, type = 'application/json') =>
      app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}`, 'content-type': type }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
    return {
      app,
      logs: (token: string, host: string, stream = `s-${host}`) => send(token, '/api/v1/ingest', batchOf(['x'], { host, stream, ts: T0, agent: `agt_${host}` })),
      metrics: (token: string, host: string, ts = T0) => send(token, '/api/v1/metrics/ingest', metrics(host, ts)),
      multi: (token: string, hosts: string[]) =>
        send(token, '/api/v1/ingest', hosts.map((h, i) => JSON.stringify(batchOf([`m${i}`], { host: h, stream: `multi-${i}`, ts: T0 }))).join('\n') + '\n', INGEST_MULTI_TYPE),
      stored: async (host: string) => (await app.storage.logs.query({ host, limit: 100 })).items.length,
    };
  }

  it('off by default: one agent token may send for several hosts (a shared fleet token)', async () => {
    const c = await open(false);
    try {
      const t = (await c.app.storage.tokens.create('agent', 'fleet', T0)).token;
      expect((await c.logs(t, 'i-1')).statusCode).toBe(200);
      expect((await c.logs(t, 'i-2')).statusCode).toBe(200);
      expect((await c.metrics(t, 'i-3')).statusCode).toBe(200);
    } finally {
      await c.app.close();
    }
  });

  it('on: a token is bound to the first host it announced, for logs and metrics, across restarts', async () => {
    let c = await open(true);
    const web = (await c.app.storage.tokens.create('agent', 'web-1', T0)).token;
    const db = (await c.app.storage.tokens.create('agent', 'db-1', T0)).token;
    const admin = (await c.app.storage.tokens.create('admin', 'ops', T0)).token;
    try {
      expect((await c.metrics(web, 'web-1')).statusCode).toBe(200);
      expect(c.app.events.count('auth.host_bound')).toBe(1);
      const lines = await c.logs(web, 'victim');
      expect(lines.statusCode).toBe(403);
      expect(lines.json()).toEqual({ error: 'RINGTAIL_ERR_FORBIDDEN', message: "token 'web-1' is bound to host 'web-1' and may not send for 'victim' (auth.bind_agent_hosts)" });
      const series = await c.metrics(web, 'victim');
      expect(series.statusCode).toBe(403);
      // a multi-batch request with one foreign batch is refused whole
      expect((await c.multi(web, ['web-1', 'victim'])).statusCode).toBe(403);
      expect(await c.stored('victim')).toBe(0);
      expect(await c.stored('web-1')).toBe(0);
      expect(c.app.hostMetrics.list('victim')).toEqual([]);
      expect(c.app.events.count('auth.host_refused')).toBe(3);
      // its own host still works; another token binds on its own; an admin token is not bound
      expect((await c.logs(web, 'web-1')).statusCode).toBe(200);
      expect((await c.logs(db, 'victim')).statusCode).toBe(200);
      expect((await c.logs(db, 'db-1')).statusCode).toBe(403);
      expect((await c.logs(admin, 'anything', 'adm-1')).statusCode).toBe(200);
      expect((await c.logs(admin, 'else', 'adm-2')).statusCode).toBe(200);
    } finally {
      await c.app.close();
    }
    c = await open(true);
    try {
      expect((await c.metrics(web, 'victim', T0 + 10_000)).statusCode).toBe(403);
      expect((await c.metrics(web, 'web-1', T0 + 10_000)).statusCode).toBe(200);
    } finally {
      await c.app.close();
    }
  });
});
