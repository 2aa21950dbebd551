import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';

let c: TestCollector;
beforeAll(async () => {
  c = await testCollector();
});
afterAll(async () => c.close());

function ingest(body: unknown, token = c.token('agent'), headers: Record<string, string> = {}) {
  return c.app.inject({
    method: 'POST',
    url: '/api/v1/ingest',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}
function get(url: string, token = c.token('viewer')) {
  return c.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
}

describe('auth', () => {
  it('every route but health and the login page needs a token', async () => {
    const open = c.app.routeTable.filter((r) => r.public).map((r) => `${r.method} ${r.url}`);
    expect(open.filter((r) => r.startsWith('GET /api'))).toEqual([]);
    // the only other public routes: the sign-in call and the dashboard's static files
    expect(open.filter((r) => !r.startsWith('GET ') && !r.startsWith('HEAD '))).toEqual(['POST /api/v1/session']);
    expect(open.filter((r) => /^(GET|HEAD) /.test(r) && r !== 'GET /healthz' && r !== 'HEAD /healthz' && !/^(GET|HEAD) \/([\w./-]*\.(html|js|css|svg|png|ico))?$/.test(r))).toEqual([]);
    expect(open).toContain('GET /healthz');
    for (const route of c.app.routeTable) {
      if (route.public) continue;
      const res = await c.app.inject({ method: route.method as 'GET', url: route.url });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
      if (route.method !== 'HEAD') expect(res.json().error).toBe('RINGTAIL_ERR_AUTH');
    }
    expect(c.app.routeTable.filter((r) => !r.public).length).toBeGreaterThanOrEqual(3);
    // routes added later are in the table walked above (so they answered 401 without a token)
    const all = c.app.routeTable.map((r) => `${r.method} ${r.url}`);
    for (const r of ['GET /api/v1/logs/histogram', 'PATCH /api/v1/alerts/rules/:name']) expect(all).toContain(r);
  });

  it('rejects unknown and revoked tokens, and checks roles', async () => {
    expect((await get('/api/v1/logs', 'rt_viewer_nope')).statusCode).toBe(401);
    const { token, record } = await c.app.storage.tokens.create('viewer', 'to revoke', Date.now());
    expect((await get('/api/v1/logs', token)).statusCode).toBe(200);
    await c.app.storage.tokens.revoke(record.id, Date.now());
    expect((await get('/api/v1/logs', token)).statusCode).toBe(401);
    expect((await get('/api/v1/logs', c.token('agent'))).statusCode).toBe(403);
    expect((await ingest(batchOf(['x'], { stream: 'role' }), c.token('viewer'))).statusCode).toBe(403);
  });

  it('stores tokens hashed', async () => {
    const { token } = await c.app.storage.tokens.create('admin', 'hash check', Date.now());
    const raw = JSON.stringify(await c.app.storage.tokens.list());
    expect(raw).not.toContain(token);
  });

  it('serves /healthz without a token', async () => {
    const res = await c.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });
});

describe('ingest and query', () => {
  it('stores lines once even when a batch is delivered twice', async () => {
    const batch = batchOf(['alpha one', 'beta two', 'gamma three'], { stream: 'dup' });
    const first = await ingest(batch);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ accepted: 3, duplicates: 0 });
    const again = await ingest(batch);
    expect(again.json()).toMatchObject({ accepted: 0, duplicates: 3 });
    // an overlapping redelivery keeps only the new tail
    const overlap = batchOf(['beta two', 'gamma three', 'delta four'], { stream: 'dup', start: Buffer.byteLength('alpha one\n') });
    expect((await ingest(overlap)).json()).toMatchObject({ accepted: 1, duplicates: 2 });
    const res = await get('/api/v1/logs?source=/var/log/app.log&q=two%20OR%20four%20OR%20alpha%20OR%20three&limit=100');
    const messages = res.json().items.map((i: { message: string }) => i.message).sort();
    expect(messages.filter((m: string) => /alpha|beta|gamma|delta/.test(m))).toEqual(['alpha one', 'beta two', 'delta four', 'gamma three']);
  });

  it('answers hosts with last-seen times', async () => {
    await ingest(batchOf(['from db'], { stream: 'h', host: 'db-7' }));
    const res = await get('/api/v1/hosts');
    const hosts = res.json().items as Array<{ host: string; last_seen: number }>;
    expect(hosts.map((h) => h.host)).toContain('db-7');
    expect(hosts.find((h) => h.host === 'db-7')!.last_seen).toBeGreaterThan(0);
  });

  it('pages newest first with a stable cursor while lines keep arriving', async () => {
    const msgs = Array.from({ length: 25 }, (_, i) => `page-line ${i}`);
    for (let i = 0; i < msgs.length; i++) {
      await ingest(batchOf([msgs[i]!], { stream: `page-${i}`, host: 'pager', ts: 1_700_000_100_000 + i }));
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const res = await get(`/api/v1/logs?host=pager&limit=10${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const page = res.json();
      seen.push(...page.items.map((i: { message: string }) => i.message));
      cursor = page.next_cursor;
      // newer lines arriving meanwhile must not shift the pages being read
      await ingest(batchOf([`late ${round}`], { stream: `late-${round++}`, host: 'pager', ts: 1_700_000_200_000 }));
    } while (cursor);
    expect(seen).toEqual([...msgs].reverse());
  });

  it('filters by time range, host and full text', async () => {
    await ingest(batchOf(['needle in haystack'], { stream: 'f1', host: 'filt', ts: 1_600_000_000_000 }));
    await ingest(batchOf(['needle later'], { stream: 'f2', host: 'filt', ts: 1_600_000_100_000 }));
    const ranged = (await get('/api/v1/logs?host=filt&start=1600000050000')).json().items;
    expect(ranged.map((i: { message: string }) => i.message)).toEqual(['needle later']);
    const iso = (await get(`/api/v1/logs?host=filt&end=${new Date(1_600_000_050_000).toISOString()}`)).json().items;
    expect(iso.map((i: { message: string }) => i.message)).toEqual(['needle in haystack']);
    const fts = (await get('/api/v1/logs?q=haystack')).json().items;
    expect(fts.map((i: { message: string }) => i.message)).toEqual(['needle in haystack']);
  });
});

describe('bad input gets a clear 4xx and stores nothing', () => {
  const count = async () => (await get('/api/v1/logs?host=bad&limit=1000')).json().items.length;

  it.each([
    ['malformed JSON', '{"version":1,', /JSON/i],
    ['wrong type', { ...batchOf(['x'], { host: 'bad' }), host: 5 }, /body\/host: Expected string/],
    ['unknown field', { ...batchOf(['x'], { host: 'bad' }), extra: true }, /extra|Unexpected property/],
    ['missing segments', { version: 1, agent_id: 'a', host: 'bad' }, /segments/],
    ['line offset outside its range', (() => {
      const b = batchOf(['x', 'y'], { host: 'bad', stream: 'badoff' });
      b.segments[0]!.lines[1]!.offset = 999;
      return b;
    })(), /offset: 999/],
  ])('%s', async (_name, body, reason) => {
    const before = await count();
    const res = await ingest(body as object);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(reason);
    expect(await count()).toBe(before);
  });

  it('refuses bodies over the limit with 413', async () => {
    const big = batchOf([ 'z'.repeat(300 * 1024) ], { host: 'bad' });
    const res = await ingest(big);
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toBe('RINGTAIL_ERR_TOO_LARGE');
  });

  it('answers a malformed search with a 400 that says why and where', async () => {
    const res = await get('/api/v1/logs?q=%22unbalanced');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_QUERY', position: 0 });
    expect(res.json().message).toMatch(/^q: unbalanced quote at 0/);
  });

  it('answers bad query parameters with 400', async () => {
    expect((await get('/api/v1/logs?limit=0')).statusCode).toBe(400);
    expect((await get('/api/v1/logs?start=yesterday')).json().message).toMatch(/start: expected/);
    expect((await get('/api/v1/logs?cursor=garbage')).json().message).toMatch(/cursor/);
    expect((await get('/api/v1/logs?bogus=1')).statusCode).toBe(400);
  });

  it('accepts gzip bodies, refuses corrupt gzip with 400 and gzip bombs with 413', async () => {
    const ok = await ingest(gzipSync(JSON.stringify(batchOf(['zipped line'], { stream: 'gz', host: 'gz' }))), undefined, { 'content-encoding': 'gzip' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ accepted: 1 });
    const corrupt = gzipSync(JSON.stringify(batchOf(['x'], { host: 'bad' })));
    corrupt.writeUInt32LE(0xdeadbeef, corrupt.length - 8);
    const bad = await ingest(corrupt.subarray(0, corrupt.length - 3), undefined, { 'content-encoding': 'gzip' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/gzip/);
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(256 * 1024);
    const big = await ingest(bomb, undefined, { 'content-encoding': 'gzip' });
    expect(big.statusCode).toBe(413);
    const br = await ingest('{}', undefined, { 'content-encoding': 'br' });
    expect(br.statusCode).toBe(415);
    expect(br.json().message).toMatch(/content-encoding/);
  });

  it('does not decompress what it was not told to (gzip without header is bad JSON)', async () => {
    const res = await ingest(gzipSync(JSON.stringify(batchOf(['x']))));
    expect(res.statusCode).toBe(400);
  });
});
