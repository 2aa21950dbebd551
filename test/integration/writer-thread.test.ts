// The server's writer path: group commits in the writer thread on a second connection.
// (Uses the built dist/collector/ingest/writer-worker.js; `npm test` builds first.)
import { describe, expect, it } from 'vitest';
import { batchOf, testCollector } from '../helpers/collector.js';

describe('writer thread', () => {
  it('commits concurrent batches once each, applies filters, and acks only what the other connection can read', async () => {
    const c = await testCollector(undefined, { writer: 'worker', filters: [{ action: 'drop', re: '^noise' }] });
    const post = (i: number) =>
      c.app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json' },
        payload: JSON.stringify(batchOf([`thread ${i} a`, `noise ${i}`, `thread ${i} b`], { host: 'wt', stream: `wt-${i % 20}`, start: 0 })),
      });
    // 60 requests over 20 streams: each stream's first batch stores, the two redeliveries do not
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => post(i)));
    let accepted = 0;
    let duplicates = 0;
    for (const r of results) {
      expect(r.statusCode, r.body).toBe(200);
      accepted += r.json().accepted;
      duplicates += r.json().duplicates;
      // the acknowledgement means the main connection already sees the lines
      const stream = r.json().committed as Record<string, number>;
      expect(Object.values(stream)[0]).toBeGreaterThan(0);
    }
    expect(accepted).toBe(40);
    expect(duplicates).toBe(80);
    const items = (await c.app.inject({ method: 'GET', url: '/api/v1/logs?host=wt&limit=1000', headers: { authorization: `Bearer ${c.token('viewer')}` } })).json().items;
    expect(items).toHaveLength(40);
    expect(items.every((i: { message: string }) => i.message.startsWith('thread'))).toBe(true);
    // filter rules run before the offset check, so redelivered noise is counted each time it is dropped
    expect(c.app.events.count('ingest.filtered')).toBe(60);
    await c.close();
  });

  it('stores every property of a line as sent (lines cross to the thread packed)', async () => {
    const c = await testCollector(undefined, { writer: 'worker' });
    const batch = batchOf(['plain', 'with everything', 'ünïcödé 日本語 😀', 'truncated'], { host: 'pk', stream: 'pk-1' });
    const [a, b, u, t] = batch.segments[0]!.lines;
    Object.assign(b!, { program: 'sshd', pid: 4242, facility: 4, severity: 3, fields: { user: 'root', 'k"ey': 'v\nq' } });
    Object.assign(u!, { program: '', pid: 0, facility: 0, ts: a!.ts + 1 });
    Object.assign(t!, { truncated: true, ts: a!.ts + 2 });
    const r = await c.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json' },
      payload: JSON.stringify(batch),
    });
    expect(r.statusCode, r.body).toBe(200);
    const items = (await c.app.inject({ method: 'GET', url: '/api/v1/logs?host=pk&limit=10', headers: { authorization: `Bearer ${c.token('viewer')}` } })).json().items as Array<Record<string, unknown>>;
    const byMsg = new Map(items.map((i) => [i.message, i]));
    expect(items).toHaveLength(4);
    expect(byMsg.get('plain')).toMatchObject({ program: null, pid: null, facility: null, severity: 6, ts: a!.ts, source: '/var/log/app.log', fields: null });
    expect(byMsg.get('with everything')).toMatchObject({ program: 'sshd', pid: 4242, facility: 4, severity: 3, fields: { user: 'root', 'k"ey': 'v\nq' } });
    expect(byMsg.get('ünïcödé 日本語 😀')).toMatchObject({ program: '', pid: 0, facility: 0, ts: a!.ts + 1 });
    expect(byMsg.get('truncated')).toMatchObject({ fields: { truncated: 'true' }, ts: a!.ts + 2 });
    await c.close();
  });
});
