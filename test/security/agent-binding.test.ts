// An agent_id is bound to the agent token that first sent lines for it
// (collector/plugins/agent-binding.ts): another agent token cannot end its streams. Across a
// restart; taken over by a new token when the bound one is revoked (a re-tokened agent keeps its
// agent_id); one token may carry many agent_ids (a fleet sharing an image token); admin exempt.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../collector/app.js';
import { INGEST_MULTI_TYPE, type IngestBatch } from '../../shared/wire.js';
import { batchOf } from '../helpers/collector.js';
import { tempDir } from '../helpers/proc.js';

const T0 = 1_700_000_000_000;

describe('agent_id bound to its first token', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir('ringtail-agent-bind-');
  });
  afterEach(() => dir.cleanup());

  const open = async () => {
    const app = await buildApp({ dataDir: dir.path, clock: () => T0 });
    const send = (token: string, payload: IngestBatch | IngestBatch[]) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: { authorization: `Bearer ${token}`, 'content-type': Array.isArray(payload) ? INGEST_MULTI_TYPE : 'application/json' },
        payload: Array.isArray(payload) ? payload.map((b) => JSON.stringify(b)).join('\n') + '\n' : JSON.stringify(payload),
      });
    return { app, send };
  };
  const line = (agent: string, start: number, message = `m${start}`) => batchOf([message], { agent, stream: 's1', host: 'h', start, ts: T0 });

  it('refuses a second token for the agent_id, across a restart, and hands it over when the first is revoked', async () => {
    let { app, send } = await open();
    const first = await app.storage.tokens.create('agent', 'first', T0);
    const second = await app.storage.tokens.create('agent', 'second', T0);
    try {
      expect((await send(first.token, line('agt_a', 0))).json()).toMatchObject({ accepted: 1 });
      const refused = await send(second.token, line('agt_a', 3));
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toEqual({ error: 'RINGTAIL_ERR_FORBIDDEN', message: "body/agent_id: agent_id 'agt_a' belongs to another agent token; token 'second' may not send for it (each agent keeps its own agent_id)" });
      expect(app.events.count('auth.agent_refused')).toBe(1);
      // a multi-batch request with one foreign agent_id is refused whole, naming the batch
      const multi = await send(second.token, [line('agt_b', 0), line('agt_a', 3)]);
      expect(multi.statusCode).toBe(403);
      expect(multi.json().message).toMatch(/^body\/1\/agent_id: /);
      expect((await app.storage.logs.query({ host: 'h', limit: 10 })).items.map((i) => i.message)).toEqual(['m0']);
      await app.close();
      ({ app, send } = await open());
      expect((await send(second.token, line('agt_a', 3))).statusCode).toBe(403);
      expect((await send(first.token, line('agt_a', 3))).json()).toMatchObject({ accepted: 1, duplicates: 0 });
      // the agent is re-tokened: its old token is revoked, the new one takes its agent_id over
      await app.storage.tokens.revoke(first.record.id, T0);
      expect((await send(second.token, line('agt_a', 6))).json()).toMatchObject({ accepted: 1, duplicates: 0 });
      expect((await send((await app.storage.tokens.create('agent', 'third', T0)).token, line('agt_a', 9))).statusCode).toBe(403);
    } finally {
      await app.close();
    }
  });

  it('one token may carry many agent_ids; an admin token is not bound; syslog is reserved', async () => {
    const { app, send } = await open();
    const fleet = (await app.storage.tokens.create('agent', 'fleet image', T0)).token;
    const admin = (await app.storage.tokens.create('admin', 'ops', T0)).token;
    try {
      for (const agent of ['agt_1', 'agt_2', 'agt_3']) expect((await send(fleet, line(agent, 0))).statusCode).toBe(200);
      expect((await send(admin, line('agt_1', 3))).statusCode).toBe(200);
      expect((await send(fleet, line('agt_1', 6))).statusCode).toBe(200);
      for (const token of [fleet, admin]) {
        const res = await send(token, line('syslog', 0));
        expect(res.statusCode).toBe(403);
        expect(res.json().message).toBe("body/agent_id: agent_id 'syslog' is reserved for the collector's syslog receiver");
      }
    } finally {
      await app.close();
    }
  });
});
