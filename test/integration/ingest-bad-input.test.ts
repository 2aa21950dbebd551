// Bad input on POST /api/v1/ingest, sent concurrently with good batches: each bad request gets
// its clear answer and every good line around it is stored exactly once.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FUTURE_MS } from '../../collector/ingest/pipeline.js';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';

const NOW = Date.UTC(2026, 5, 1, 12);
let c: TestCollector;
beforeAll(async () => {
  c = await testCollector(() => NOW);
});
afterAll(async () => c.close());

function post(payload: string | Buffer, headers: Record<string, string> = {}) {
  return c.app.inject({
    method: 'POST',
    url: '/api/v1/ingest',
    headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json', ...headers },
    payload,
  });
}
async function hostLines(host: string) {
  const res = await c.app.inject({ method: 'GET', url: `/api/v1/logs?host=${host}&limit=1000`, headers: { authorization: `Bearer ${c.token('viewer')}` } });
  return res.json().items as Array<{ message: string; ts: number; fields: Record<string, string> | null }>;
}

const good = (i: number) => JSON.stringify(batchOf([`good ${i} a`, `good ${i} b`], { host: 'mixed', stream: `good-${i}` }));
const withLine = (patch: object) => {
  const b = batchOf(['bad'], { host: 'mixed', stream: 'bad' });
  Object.assign(b.segments[0]!.lines[0]!, patch);
  return JSON.stringify(b);
};

const BAD: Array<[string, string | Buffer, Record<string, string>, number, RegExp]> = [
  ['malformed JSON', '{"version":1,"agent_id":', {}, 400, /^body: invalid JSON: .*(end|Unexpected)/i],
  ['an empty body', '', {}, 400, /^body: invalid JSON/],
  ['JSON that is not an object', '[1,2,3]', {}, 400, /body\/?: Expected object/],
  ['a string where a number belongs', withLine({ ts: '2026-01-01' }), {}, 400, /body\/segments\/0\/lines\/0\/ts: Expected integer/],
  ['a float offset', withLine({ offset: 0.5 }), {}, 400, /offset: Expected integer/],
  ['severity out of range', withLine({ severity: 9 }), {}, 400, /severity: Expected integer to be less or equal to 7/],
  ['an unknown field on a line', withLine({ colour: 'red' }), {}, 400, /lines\/0\/colour: Unexpected property/],
  ['an unknown top-level field', JSON.stringify({ ...batchOf(['x'], { host: 'mixed' }), priority: 1 }), {}, 400, /priority: Unexpected property/],
  ['a prototype-pollution key', JSON.stringify(batchOf(['x'], { host: 'mixed' })).replace('{', '{"__proto__":{"x":1},'), {}, 400, /body\/__proto__: Unexpected property/],
  ['wrong wire version', JSON.stringify({ ...batchOf(['x'], { host: 'mixed' }), version: 2 }), {}, 400, /version: Expected 1/],
  ['corrupt gzip', Buffer.concat([gzipSync(good(999)).subarray(0, 30), Buffer.from('garbage')]), { 'content-encoding': 'gzip' }, 400, /gzip/],
  ['an oversized body', JSON.stringify(batchOf(['y'.repeat(300_000)], { host: 'mixed', stream: 'big' })), {}, 413, /body larger than 262144 bytes/],
  ['an unsupported content type', 'version=1', { 'content-type': 'application/x-www-form-urlencoded' }, 415, /Unsupported Media Type|content-type/i],
];

describe('bad ingest requests amid good traffic', () => {
  it('answers each bad request clearly and stores every good line exactly once', async () => {
    const requests: Array<Promise<{ name: string; status: number; body: string }>> = [];
    let i = 0;
    for (const [name, payload, headers] of BAD) {
      requests.push(post(good(i++)).then((r) => ({ name: 'good', status: r.statusCode, body: r.body })));
      requests.push(post(payload, headers).then((r) => ({ name, status: r.statusCode, body: r.body })));
    }
    requests.push(post(good(i++)).then((r) => ({ name: 'good', status: r.statusCode, body: r.body })));
    const results = await Promise.all(requests);
    for (const r of results.filter((x) => x.name === 'good')) expect(r.status, r.body).toBe(200);
    for (const [name, , , status, why] of BAD) {
      const r = results.find((x) => x.name === name)!;
      expect(r.status, `${name}: ${r.body}`).toBe(status);
      const body = JSON.parse(r.body);
      expect(body.error, name).toMatch(/^RINGTAIL_ERR_/);
      expect(body.message, name).toMatch(why);
    }
    const stored = (await hostLines('mixed')).map((l) => l.message).sort();
    const want = Array.from({ length: i }, (_, k) => [`good ${k} a`, `good ${k} b`]).flat().sort();
    expect(stored).toEqual(want);
  });

  it('counts rejected requests by reason in /metrics', async () => {
    const text = (await c.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${c.token('viewer')}` } })).body;
    expect(text).toMatch(/ringtail_requests_rejected_total\{reason="json",status="400"\} [1-9]/);
    expect(text).toMatch(/ringtail_requests_rejected_total\{reason="too_large",status="413"\} 1/);
    expect(text).toMatch(/ringtail_requests_rejected_total\{reason="gzip",status="400"\} 1/);
    expect(text).toMatch(/ringtail_requests_rejected_total\{reason="invalid",status="400"\} [1-9]/);
  });

  it('stores invalid UTF-8 with replacement characters instead of failing', async () => {
    const json = Buffer.from(JSON.stringify(batchOf(['bytes: XX end'], { host: 'utf8', stream: 'utf8' })));
    const at = json.indexOf('XX');
    json[at] = 0xff;
    json[at + 1] = 0xc3; // a lead byte without its continuation
    const res = await post(json);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 1 });
    const [line] = await hostLines('utf8');
    expect(line!.message).toBe('bytes: \uFFFD\uFFFD end');
  });

  it('clamps far-future and pre-2000 timestamps to the received time and keeps the original', async () => {
    const b = batchOf(['from the future', 'from 1970', 'slightly ahead', 'last year'], { host: 'clock', stream: 'clock' });
    const [future, epoch, ahead, old] = b.segments[0]!.lines;
    future!.ts = NOW + 10 * 365 * 86_400_000;
    epoch!.ts = 0;
    ahead!.ts = NOW + MAX_FUTURE_MS - 1000;
    old!.ts = NOW - 365 * 86_400_000;
    const res = await post(JSON.stringify(b));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ accepted: 4 });
    const byMsg = new Map((await hostLines('clock')).map((l) => [l.message, l]));
    expect(byMsg.get('from the future')).toMatchObject({ ts: NOW, fields: { ts_original: String(future!.ts), ts_clamped: 'future' } });
    expect(byMsg.get('from 1970')).toMatchObject({ ts: NOW, fields: { ts_original: '0', ts_clamped: 'past' } });
    expect(byMsg.get('slightly ahead')).toMatchObject({ ts: ahead!.ts, fields: null });
    expect(byMsg.get('last year')).toMatchObject({ ts: old!.ts, fields: null });
    expect(c.app.events.count('ingest.ts_clamped')).toBe(2);
  });
});
