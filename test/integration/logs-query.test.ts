// GET /api/v1/logs beyond the basics: FTS5 edge cases, full-text paging while lines arrive,
// and the bounded regular expression `re`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';

let c: TestCollector;
let seq = 0;
beforeAll(async () => {
  c = await testCollector(undefined, { query: { scanBudgetRows: 4000 } });
  await ingest(
    [
      'connection timeout talking to db-1',
      'Connection TIMEOUT (second attempt)',
      'timeouts are not timeout',
      'disk full on /var',
      'user café logged in',
      'ユーザー ログイン 成功',
      'dead-lock detected in worker',
      'the quick brown fox',
      'quick the fox brown',
      'value=42 status=500 path="/api/x"',
    ],
    'fts',
  );
});
afterAll(async () => c.close());

async function ingest(messages: string[], host: string, extra: { ts?: number } = {}) {
  const res = await c.app.inject({
    method: 'POST',
    url: '/api/v1/ingest',
    headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json' },
    payload: JSON.stringify(batchOf(messages, { host, stream: `q-${seq++}`, ...extra })),
  });
  expect(res.statusCode).toBe(200);
}
function get(url: string) {
  return c.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${c.token('viewer')}` } });
}
const messages = async (qs: string) => {
  const res = await get(`/api/v1/logs?host=fts&${qs}`);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as Array<{ message: string }>).map((i) => i.message).sort();
};

describe('full-text search edge cases', () => {
  it.each([
    ['a word, case-insensitively', 'q=timeout', ['Connection TIMEOUT (second attempt)', 'connection timeout talking to db-1', 'timeouts are not timeout']],
    ['a prefix', 'q=timeout*', ['Connection TIMEOUT (second attempt)', 'connection timeout talking to db-1', 'timeouts are not timeout']],
    ['a phrase keeps word order', `q=${encodeURIComponent('"quick brown"')}`, ['the quick brown fox']],
    ['AND / NOT', `q=${encodeURIComponent('timeout NOT talking')}`, ['Connection TIMEOUT (second attempt)', 'timeouts are not timeout']],
    ['accents fold to the same token only when typed', 'q=caf%C3%A9', ['user café logged in']],
    ['non-Latin scripts', `q=${encodeURIComponent('ログイン')}`, ['ユーザー ログイン 成功']],
    ['a hyphenated word as a phrase', `q=${encodeURIComponent('"dead-lock"')}`, ['dead-lock detected in worker']],
    ['punctuation inside a quoted phrase', `q=${encodeURIComponent('"status=500"')}`, ['value=42 status=500 path="/api/x"']],
    ['the message: field is the text', 'q=message%3Adisk', ['disk full on /var']],
    ['a hyphenated word unquoted (the tokens in sequence)', 'q=dead-lock', ['dead-lock detected in worker']],
    ['NEAR is an ordinary word, not FTS5 syntax', `q=${encodeURIComponent('NEAR(quick fox)')}`, []],
    ['whitespace only means no full-text filter', 'q=%20%20&limit=3', null],
  ])('%s', async (_name, qs, want) => {
    const got = await messages(qs);
    if (want === null) expect(got.length).toBe(3);
    else expect(got).toEqual(want);
  });

  it.each([
    ['an unbalanced quote', '%22timeout', 0, /^q: unbalanced quote at 0/],
    ['a bare operator', 'AND', 0, /^q: unexpected 'AND' at 0/],
    ['a lone star', '*', 0, /^q: '\*' at 0 has no letters or digits/],
    ['an unbalanced parenthesis', 'disk%20(timeout', 5, /^q: unbalanced parenthesis at 5/],
  ])('%s is a 400 that says why and where', async (_name, q, position, reason) => {
    const res = await get(`/api/v1/logs?q=${q}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_QUERY', position });
    expect(res.json().message).toMatch(reason);
  });

  it.each(['a*', 'disk AND t*', '(x*)', '"q"*', '^a*', 'foo.b*'])('refuses the one-character prefix in %s', async (q) => {
    const res = await get(`/api/v1/logs?q=${encodeURIComponent(q)}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/^q: prefix '.\*' at \d+ matches too many words/);
  });

  it('still accepts longer prefixes and stars inside words', async () => {
    expect(await messages(`q=${encodeURIComponent('ti*')}`)).toEqual(['Connection TIMEOUT (second attempt)', 'connection timeout talking to db-1', 'timeouts are not timeout']);
  });

  it('pages full-text results newest-arrived first with a stable cursor while matching lines keep arriving', async () => {
    for (let i = 0; i < 23; i++) await ingest([`pagefts item ${i}`], 'ftspage', { ts: 1_700_000_300_000 + i });
    const seen: string[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const res = await get(`/api/v1/logs?host=ftspage&q=pagefts&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      seen.push(...res.json().items.map((i: { message: string }) => i.message));
      cursor = res.json().next_cursor;
      await ingest([`pagefts late ${round++}`], 'ftspage');
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 23 }, (_, i) => `pagefts item ${22 - i}`));
  });

  it('combines q with a time range, including lines that arrived late with old times', async () => {
    const H = 3_600_000;
    const t0 = 1_750_000_000_000;
    await ingest(['span early hit', 'span early other'], 'span', { ts: t0 });
    await ingest(['span middle hit'], 'span', { ts: t0 + 5 * H });
    await ingest(['span late hit'], 'span', { ts: t0 + 10 * H });
    // arrives last (highest id) but belongs to the first hour
    await ingest(['span backfilled hit'], 'span', { ts: t0 + 1000 });
    const within = async (start: number, end: number) =>
      (await get(`/api/v1/logs?host=span&q=hit&start=${start}&end=${end}`)).json().items.map((i: { message: string }) => i.message);
    expect(await within(t0, t0 + H)).toEqual(['span backfilled hit', 'span early hit']);
    expect(await within(t0 + H, t0 + 6 * H)).toEqual(['span middle hit']);
    expect(await within(t0 + 11 * H, t0 + 20 * H)).toEqual([]);
    expect(await within(t0 - 10 * H, t0 - H)).toEqual([]);
    expect((await get(`/api/v1/logs?host=span&q=hit&start=${t0 + 5 * H}`)).json().items.map((i: { message: string }) => i.message)).toEqual(['span late hit', 'span middle hit']);
  });

  it('refuses a cursor from the other kind of query', async () => {
    const plain = (await get('/api/v1/logs?host=fts&limit=1')).json().next_cursor as string;
    const res = await get(`/api/v1/logs?host=fts&q=timeout&cursor=${plain}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/cursor: this cursor belongs to a query without q/);
  });
});

describe('bounded regular expression re', () => {
  it('filters by a regular expression together with the other filters', async () => {
    expect(await messages(`re=${encodeURIComponent('status=5\\d\\d')}`)).toEqual(['value=42 status=500 path="/api/x"']);
    expect(await messages(`re=${encodeURIComponent('(?i)^connection')}`)).toEqual(['Connection TIMEOUT (second attempt)', 'connection timeout talking to db-1']);
    expect(await messages(`q=timeout&re=${encodeURIComponent('db-\\d')}`)).toEqual(['connection timeout talking to db-1']);
  });

  it('pages regex results with a cursor', async () => {
    const page1 = (await get(`/api/v1/logs?host=fts&re=o&limit=3`)).json();
    expect(page1.items).toHaveLength(3);
    const page2 = (await get(`/api/v1/logs?host=fts&re=o&limit=3&cursor=${page1.next_cursor}`)).json();
    const ids1 = page1.items.map((i: { id: number }) => i.id);
    for (const it of page2.items) expect(ids1).not.toContain(it.id);
  });

  it.each([
    ['invalid syntax', '(unclosed', /re: invalid regular expression/],
    ['too long', 'a'.repeat(257), /re: pattern longer than 256|querystring\/re/],
  ])('refuses %s with 400', async (_name, re, why) => {
    const res = await get(`/api/v1/logs?re=${encodeURIComponent(re)}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(why);
  });

  it('stops a catastrophic pattern with a 400 while the event loop keeps serving', async () => {
    await ingest(['a'.repeat(40) + '!'], 'redos');
    const started = Date.now();
    const slow = get(`/api/v1/logs?host=redos&re=${encodeURIComponent('^(a+)+$')}`);
    // the collector answers other requests while the pattern runs in the worker
    const health = await c.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(Date.now() - started).toBeLessThan(500);
    const res = await slow;
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/re: matching took longer than 1000 ms/);
    // and the matcher comes back for the next query
    expect(await messages(`re=${encodeURIComponent('disk')}`)).toEqual(['disk full on /var']);
  });

  it('reports when the scan budget ran out and continues from where it stopped', async () => {
    const many = Array.from({ length: 2500 }, (_, i) => `budget filler ${i}`);
    for (let i = 0; i < 2; i++) await ingest(many, 'budget');
    await ingest(['budget needle'], 'budget', { ts: 1_600_000_000_000 });
    let res = (await get(`/api/v1/logs?host=budget&re=needle&limit=5`)).json();
    expect(res.budget_exhausted).toBe(true);
    expect(res.scanned).toBe(4000);
    expect(res.items).toEqual([]);
    res = (await get(`/api/v1/logs?host=budget&re=needle&limit=5&cursor=${res.next_cursor}`)).json();
    expect(res.items.map((i: { message: string }) => i.message)).toEqual(['budget needle']);
    expect(res.budget_exhausted).toBeUndefined();
  });
});
