// The agent's side of enrollment (agent/enroll.ts) against a real collector on 127.0.0.1: it
// waits out an unreachable collector with backoff, stores its token atomically with mode 0600,
// uses the stored token on every later start, never logs either token, and stops with the
// collector's reason when refused.
import { existsSync, readdirSync, statSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { AgentConfig } from '../../agent/config.js';
import { readStoredToken, resolveAgentToken, storedTokenPath } from '../../agent/enroll.js';
import { buildApp } from '../../collector/app.js';
import { RingtailError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { freePort } from '../helpers/agent-run.js';
import { tempDir } from '../helpers/proc.js';

const dirs: Array<{ cleanup(): void }> = [];
const apps: FastifyInstance[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
  for (const d of dirs) d.cleanup();
});

function config(over: Record<string, unknown>): AgentConfig {
  return Value.Default(AgentConfig, { watch: ['/nonexistent/*.log'], ...over }) as AgentConfig;
}

function logSink() {
  let text = '';
  const stream = { write: (s: string) => ((text += s), true) } as unknown as NodeJS.WritableStream;
  return { log: createLogger(stream, 'debug'), text: () => text };
}

async function collectorOn(port: number, dataDir: string): Promise<FastifyInstance> {
  const app = await buildApp({ dataDir });
  await app.listen({ host: '127.0.0.1', port });
  apps.push(app);
  return app;
}

describe('agent enrollment', () => {
  it('retries an unreachable collector with backoff, stores its token (0600), and reuses it', async () => {
    const d = tempDir('ringtail-enroll-');
    dirs.push(d);
    const port = await freePort();
    const data = `${d.path}/data`;
    // the enrollment token exists before the collector listens (as an operator makes it)
    const boot = await buildApp({ dataDir: data });
    const enroll = (await boot.storage.tokens.create('enroll', 'fleet', Date.now(), { uses: 1 })).token;
    await boot.close();

    const cfg = config({ collector: `http://127.0.0.1:${port}`, enroll_token: enroll, host: 'boot-1', state: `${d.path}/state` });
    const sink = logSink();
    const waits: number[] = [];
    let app: FastifyInstance | undefined;
    // the third wait brings the collector up: the agent must have kept trying, not exited
    const token = await resolveAgentToken(cfg, {
      log: sink.log,
      wait: async (ms) => {
        waits.push(ms);
        if (waits.length === 3) app = await collectorOn(port, data);
      },
    });
    expect(waits.length).toBe(3);
    expect(waits[0]).toBeGreaterThan(0);
    expect(token).toMatch(/^rt_agent_/);
    expect(await app!.storage.tokens.verify(token)).toMatchObject({ role: 'agent', enrolled_host: 'boot-1' });
    // stored atomically with mode 0600, no temporary file left
    const file = storedTokenPath(cfg.state);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(cfg.state).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(readStoredToken(cfg.state)).toMatchObject({ token, host: 'boot-1' });
    // neither token reaches the log; the retries and the enrollment do
    expect(sink.text()).not.toContain(token);
    expect(sink.text()).not.toContain(enroll);
    expect(sink.text()).toContain('agent.enroll_retry');
    expect(sink.text()).toContain('agent.enrolled');

    // a restart uses the stored token: no request (the collector is gone, the token used up)
    await app!.close();
    apps.splice(apps.indexOf(app!), 1);
    const again = await resolveAgentToken(cfg, { log: sink.log, wait: () => Promise.reject(new Error('must not retry')) });
    expect(again).toBe(token);
    // a configured --token wins over both
    expect(await resolveAgentToken({ ...cfg, token: 'rt_agent_configured' }, { log: sink.log })).toBe('rt_agent_configured');
    // a stored token enrolled for another host is not used for this one
    await expect(resolveAgentToken({ ...cfg, host: 'other' }, { log: sink.log })).rejects.toThrow(/enrolled for host 'boot-1'/);
  });

  it('a refused enrollment ends the start with the collector\'s reason, without retrying', async () => {
    const d = tempDir('ringtail-enroll-');
    dirs.push(d);
    const port = await freePort();
    const app = await collectorOn(port, `${d.path}/data`);
    const e = await app.storage.tokens.create('enroll', 'fleet', Date.now(), { uses: 1 });
    const sink = logSink();
    const noRetry = () => Promise.reject(new Error('must not retry a refusal'));
    const first = config({ collector: `http://127.0.0.1:${port}`, enroll_token: e.token, host: 'a', state: `${d.path}/a` });
    await resolveAgentToken(first, { log: sink.log, wait: noRetry });
    const second = { ...first, host: 'b', state: `${d.path}/b` };
    const used = await resolveAgentToken(second, { log: sink.log, wait: noRetry }).catch((err: unknown) => err);
    expect(used).toBeInstanceOf(RingtailError);
    expect((used as RingtailError).code).toBe('RINGTAIL_ERR_ENROLL_USED_UP');
    await app.storage.tokens.revoke(e.record.id, Date.now());
    const revoked = await resolveAgentToken({ ...second, host: 'c', state: `${d.path}/c` }, { log: sink.log, wait: noRetry }).catch((err: unknown) => err);
    expect((revoked as RingtailError).code).toBe('RINGTAIL_ERR_ENROLL_REVOKED');
    expect(sink.text()).not.toContain(e.token);
    expect(existsSync(storedTokenPath(`${d.path}/b`))).toBe(false);
    // no token and no enrollment token: a configuration error naming --token
    await expect(resolveAgentToken(config({ collector: `http://127.0.0.1:${port}`, host: 'd', state: `${d.path}/d` }), { log: sink.log })).rejects.toThrow(/--token/);
  });
});
