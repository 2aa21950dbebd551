// Several batches in one request (NDJSON, gzip members concatenated): what an agent with a
// backlog sends. They commit in order in one transaction, are acknowledged one ack each, stay
// exactly-once on redelivery, and a request with one bad batch stores nothing.
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LogWriter } from '../../collector/ingest/writer.js';
import type { IngestAck, IngestBatch } from '../../shared/wire.js';
import { INGEST_AFTER_HEADER, INGEST_MULTI_TYPE } from '../../shared/wire.js';
import { batchOf, testCollector } from '../helpers/collector.js';

const ndjsonGzip = (batches: unknown[]) => Buffer.concat(batches.flatMap((b, i) => [...(i > 0 ? [gzipSync('\n')] : []), gzipSync(JSON.stringify(b))]));

describe('multi-batch ingest requests', () => {
  it('commits the batches of a request in order, one ack each, and drops them on redelivery', async () => {
    const c = await testCollector(undefined, { writer: 'worker' });
    const b1 = batchOf(['deadlock detected in worker 1', 'first b'], { stream: 'm1', start: 0 });
    const b2 = batchOf(['second a', 'second b'], { stream: 'm1', start: b1.segments[0]!.end });
    const b3 = batchOf(['other stream'], { stream: 'm2', start: 0 });
    const post = () =>
      c.app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': INGEST_MULTI_TYPE, 'content-encoding': 'gzip' },
        payload: ndjsonGzip([b1, b2, b3]),
      });
    const r = await post();
    expect(r.statusCode, r.body).toBe(200);
    const acks = r.json() as IngestAck[];
    expect(acks.map((a) => [a.accepted, a.duplicates])).toEqual([[2, 0], [2, 0], [1, 0]]);
    expect(acks[1]!.committed.m1).toBe(b2.segments[0]!.end);
    const again = (await post()).json() as IngestAck[];
    expect(again.map((a) => [a.accepted, a.duplicates])).toEqual([[0, 2], [0, 2], [0, 1]]);
    const viewer = { authorization: `Bearer ${c.token('viewer')}` };
    const items = (await c.app.inject({ method: 'GET', url: '/api/v1/logs?limit=100', headers: viewer })).json().items as Array<{ id: number; message: string }>;
    expect(items.sort((a, b) => a.id - b.id).map((i) => i.message)).toEqual(['deadlock detected in worker 1', 'first b', 'second a', 'second b', 'other stream']);
    const found = (await c.app.inject({ method: 'GET', url: `/api/v1/logs?q=${encodeURIComponent('"deadlock detected"')}`, headers: viewer })).json().items;
    expect(found).toHaveLength(1);
    await c.close();
  });

  it('refuses the whole request when one batch is invalid, storing none of it', async () => {
    const c = await testCollector();
    const good = batchOf(['good line'], { stream: 'm3' });
    const bad = { ...batchOf(['bad line'], { stream: 'm3', start: 100 }), version: 99 };
    const r = await c.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': INGEST_MULTI_TYPE },
      payload: `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`,
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe('RINGTAIL_ERR_BAD_REQUEST');
    expect(r.json().message).toMatch(/^body\/version/);
    const notJson = await c.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': INGEST_MULTI_TYPE },
      payload: `${JSON.stringify(good)}\n{nope\n`,
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().message).toMatch(/^body: line 2 is not JSON/);
    const items = (await c.app.inject({ method: 'GET', url: '/api/v1/logs?limit=10', headers: { authorization: `Bearer ${c.token('viewer')}` } })).json().items;
    expect(items).toHaveLength(0);
    await c.close();
  });
});

describe('a request sent behind another (INGEST_AFTER_HEADER)', () => {
  it.each(['worker', 'inline'] as const)('is refused with 409 and stores nothing until the batch it follows is committed (%s writer)', async (writer) => {
    const c = await testCollector(undefined, { writer });
    const b1 = batchOf(['one a', 'one b'], { stream: 'p1', start: 0 });
    const b2 = batchOf(['two a', 'two b'], { stream: 'p1', start: b1.segments[0]!.end });
    const other = batchOf(['elsewhere'], { stream: 'p2', start: 0 });
    const post = (batches: unknown[], after?: string) =>
      c.app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: {
          authorization: `Bearer ${c.token('agent')}`,
          'content-type': batches.length > 1 ? INGEST_MULTI_TYPE : 'application/json',
          ...(after !== undefined ? { [INGEST_AFTER_HEADER]: after } : {}),
        },
        payload: batches.map((b) => JSON.stringify(b)).join('\n'),
      });
    const after = encodeURIComponent(JSON.stringify({ p1: b1.segments[0]!.end }));
    // b2 (with a batch of another stream) overtakes b1: refused whole, nothing stored
    const early = await post([b2, other], after);
    expect(early.statusCode, early.body).toBe(409);
    expect(early.json().error).toBe('RINGTAIL_ERR_OUT_OF_ORDER');
    const single = await post([b2], after);
    expect(single.statusCode).toBe(409);
    const viewer = { authorization: `Bearer ${c.token('viewer')}` };
    const stored = async () => ((await c.app.inject({ method: 'GET', url: '/api/v1/logs?limit=100', headers: viewer })).json().items as Array<{ id: number; message: string }>).sort((a, b) => a.id - b.id).map((i) => i.message);
    expect(await stored()).toEqual([]);
    expect((await post([b1])).statusCode).toBe(200);
    const late = await post([b2, other], after);
    expect(late.statusCode, late.body).toBe(200);
    expect(await stored()).toEqual(['one a', 'one b', 'two a', 'two b', 'elsewhere']);
    expect((await post([b2], '%7Bnot json')).statusCode).toBe(400);
    expect((await post([b2], encodeURIComponent('{"p1":-1}'))).statusCode).toBe(400);
    await c.close();
  });
});

describe('a request that overtook the one it follows', () => {
  it.each(['worker', 'inline'] as const)('waits for it while it is still arriving, then both commit in order (%s writer)', async (writer) => {
    const c = await testCollector(undefined, { writer });
    await c.app.listen({ port: 0, host: '127.0.0.1' });
    const port = (c.app.server.address() as { port: number }).port;
    const b1 = batchOf(['first a', 'first b'], { stream: 'h1', start: 0 });
    const b2 = batchOf(['second a'], { stream: 'h1', start: b1.segments[0]!.end });
    const after = encodeURIComponent(JSON.stringify({ h1: b1.segments[0]!.end }));
    const viewer = { authorization: `Bearer ${c.token('viewer')}` };
    const stored = async () => ((await c.app.inject({ method: 'GET', url: '/api/v1/logs?limit=100', headers: viewer })).json().items as Array<{ id: number; message: string }>).sort((a, b) => a.id - b.id).map((i) => i.message);
    /** b1 over a real socket, its body held back until `finish()` (or the socket destroyed) */
    const slow = (batch: IngestBatch) => {
      const body = Buffer.from(JSON.stringify(batch));
      let status: (s: number) => void = () => {};
      const answered = new Promise<number>((r) => (status = r));
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/api/v1/ingest', headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => status(res.statusCode ?? 0));
      });
      req.on('error', () => status(-1));
      req.write(body.subarray(0, 10));
      return { answered, finish: () => req.end(body.subarray(10)), abort: () => req.destroy() };
    };
    const post2 = () =>
      c.app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json', [INGEST_AFTER_HEADER]: after }, payload: JSON.stringify(b2) });
    const waitArriving = async () => {
      // the slow request's headers have reached the server once it counts as arriving
      const deadline = Date.now() + 5000;
      while ((c.app.writer as unknown as { incoming: number }).incoming < 1) {
        if (Date.now() > deadline) throw new Error('the slow request never arrived');
        await new Promise((r) => setTimeout(r, 5));
      }
    };

    const first = slow(b1);
    await waitArriving();
    const second = post2();
    // held, not refused: still unanswered while b1 is arriving
    const raced = await Promise.race([second.then(() => 'answered'), new Promise((r) => setTimeout(r, 200, 'held'))]);
    expect(raced).toBe('held');
    expect(await stored()).toEqual([]);
    first.finish();
    expect(await first.answered).toBe(200);
    const r2 = await second;
    expect(r2.statusCode, r2.body).toBe(200);
    expect(r2.json().accepted).toBe(1);
    expect(await stored()).toEqual(['first a', 'first b', 'second a']);

    // the request it waits for never comes (its socket dies): refused with 409 at once, not after the hold
    const b3 = batchOf(['third'], { stream: 'h1', start: b2.segments[0]!.end });
    const b4 = batchOf(['fourth'], { stream: 'h1', start: b3.segments[0]!.end });
    const third = slow(b3);
    await waitArriving();
    const fourth = c.app.inject({
      method: 'POST',
      url: '/api/v1/ingest',
      headers: { authorization: `Bearer ${c.token('agent')}`, 'content-type': 'application/json', [INGEST_AFTER_HEADER]: encodeURIComponent(JSON.stringify({ h1: b3.segments[0]!.end })) },
      payload: JSON.stringify(b4),
    });
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    third.abort();
    const r4 = await fourth;
    expect(r4.statusCode, r4.body).toBe(409);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(await stored()).toEqual(['first a', 'first b', 'second a']);
    await c.close();
  });
});

describe('LogWriter.submitMany', () => {
  it('holds a request that is out of order while another is arriving, for at most holdMs', async () => {
    const committed = new Map<string, number>();
    const order: string[] = [];
    // a stand-in store: a batch with `after` is out of order until its stream reached that end
    const w = new LogWriter(
      async (items) => ({
        acks: items.map((it) => {
          const seg = it.batch.segments[0]!;
          if (it.after && (committed.get(seg.stream) ?? 0) < it.after[seg.stream]!) return { accepted: 0, duplicates: 0, committed: {}, out_of_order: true as const };
          committed.set(seg.stream, seg.end);
          order.push(seg.lines[0]!.message);
          return { accepted: seg.lines.length, duplicates: 0, committed: { [seg.stream]: seg.end } };
        }),
        ms: 0,
      }),
      () => {},
      300,
    );
    const a = batchOf(['a'], { stream: 's', start: 0 });
    const b = batchOf(['b'], { stream: 's', start: a.segments[0]!.end });
    w.arriving(1); // a is on its way
    const pb = w.submitMany([b], 0, { s: a.segments[0]!.end });
    await new Promise((r) => setTimeout(r, 50));
    w.arriving(-1);
    const pa = w.submitMany([a], 0);
    expect((await pa)[0]!.accepted).toBe(1);
    expect((await pb)[0]!.accepted).toBe(1);
    expect(order).toEqual(['a', 'b']);
    // the one it follows never comes, but something is still said to arrive: refused after holdMs
    const c = batchOf(['c'], { stream: 's', start: 1000 });
    w.arriving(1);
    const t0 = Date.now();
    const pc = await w.submitMany([c], 0, { s: 1000 });
    expect(pc[0]!.out_of_order).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    w.arriving(-1);
  });


  const lines = (n: number): IngestBatch => batchOf(Array.from({ length: n }, (_, i) => `l${i}`));

  it('never splits one request between two transactions, and fails it whole', async () => {
    const groups: number[][] = [];
    let fail = false;
    const w = new LogWriter(async (items) => {
      groups.push(items.map((it) => it.batch.segments[0]!.lines.length));
      if (fail) throw new Error('disk full');
      return { acks: items.map(() => ({ accepted: 1, duplicates: 0, committed: {} })), ms: 0 };
    });
    // 15,000 + 2 × 5,000 lines: the cap (20,000) would fit one of the two after the first
    const a = w.submit(lines(15_000), 0);
    const b = w.submitMany([lines(5_000), lines(5_000)], 0);
    expect((await a).accepted).toBe(1);
    expect(await b).toHaveLength(2);
    expect(groups).toEqual([[15_000], [5_000, 5_000]]);
    fail = true;
    const c = w.submitMany([lines(3), lines(4)], 0);
    await expect(c).rejects.toThrow(/could not commit/);
    expect(groups.at(-1)).toEqual([3, 4]);
  });
});
