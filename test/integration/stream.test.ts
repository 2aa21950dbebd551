// Live tail over a real socket: GET /api/v1/logs/stream as Server-Sent Events.
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { waitFor } from '../helpers/proc.js';
import { subscribeSse, type Sse } from '../helpers/sse.js';

let c: TestCollector;
let base: string;
let seq = 0;
let limitsBase = '';
beforeAll(async () => {
  c = await testCollector(undefined, { tail: { heartbeatMs: 100, maxBuffered: 64 * 1024 } });
  base = await c.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => c.close());

async function ingest(messages: string[], opts: { host?: string; severity?: number; program?: string } = {}, at: TestCollector = c) {
  const url = at === c ? base : limitsBase;
  const res = await fetch(`${url}/api/v1/ingest`, {
    method: 'POST',
    headers: { authorization: `Bearer ${at.token('agent')}`, 'content-type': 'application/json' },
    body: JSON.stringify(batchOf(messages, { stream: `tail-${seq++}`, ...opts })),
  });
  expect(res.status).toBe(200);
}

/** The live tail, by default on the first collector, as its viewer. */
async function subscribe(query: string, headers: Record<string, string> = {}, at?: { base: string; token: string }): Promise<Sse> {
  const target = at ?? { base, token: c.token('viewer') };
  return subscribeSse(target.base, target.token, query, headers);
}
const logs = (s: Sse) => s.events.filter((e) => e.event === 'log').map((e) => JSON.parse(e.data) as { id: number; message: string; host: string });

describe('live tail', () => {
  it('needs a viewer token and refuses bad filters before streaming', async () => {
    expect((await fetch(`${base}/api/v1/logs/stream`)).status).toBe(401);
    const agent = await fetch(`${base}/api/v1/logs/stream`, { headers: { authorization: `Bearer ${c.token('agent')}` } });
    expect(agent.status).toBe(403);
    const bad = await fetch(`${base}/api/v1/logs/stream?q=%22open`, { headers: { authorization: `Bearer ${c.token('viewer')}` } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_QUERY', position: 0, message: expect.stringMatching(/^q: unbalanced quote at 0/) });
    // the one prefix check of every search (issue 12 item 8): the live tail too
    const prefix = await fetch(`${base}/api/v1/logs/stream?q=a*`, { headers: { authorization: `Bearer ${c.token('viewer')}` } });
    expect(prefix.status).toBe(400);
    expect((await prefix.json()).message).toMatch(/^q: prefix 'a\*'/);
    const badRe = await fetch(`${base}/api/v1/logs/stream?re=(x`, { headers: { authorization: `Bearer ${c.token('viewer')}` } });
    expect(badRe.status).toBe(400);
  });

  it('streams new lines that match host, severity, q and re, and nothing older', async () => {
    await ingest(['before the subscription error'], { host: 'tail-a', severity: 3 });
    const all = await subscribe('host=tail-a');
    const errs = await subscribe('host=tail-a&severity=3');
    const fts = await subscribe(`q=${encodeURIComponent('"disk full"')}`);
    const re = await subscribe(`host=tail-a&re=${encodeURIComponent('code=5\\d\\d')}`);
    await ingest(['disk full on /data', 'request code=503 failed'], { host: 'tail-a', severity: 3 });
    await ingest(['just info code=200'], { host: 'tail-a', severity: 6 });
    await ingest(['disk full elsewhere'], { host: 'tail-b', severity: 6 });
    await waitFor('all lines', () => logs(all).length === 3);
    await waitFor('fts lines', () => logs(fts).length === 2);
    await waitFor('error lines', () => logs(errs).length === 2);
    await waitFor('re lines', () => logs(re).length === 1);
    expect(logs(all).map((l) => l.message)).toEqual(['disk full on /data', 'request code=503 failed', 'just info code=200']);
    expect(logs(errs).map((l) => l.message)).toEqual(['disk full on /data', 'request code=503 failed']);
    expect(logs(fts).map((l) => l.message)).toEqual(['disk full on /data', 'disk full elsewhere']);
    expect(logs(re).map((l) => l.message)).toEqual(['request code=503 failed']);
    // ids are SSE ids, so EventSource can resume with Last-Event-ID
    expect(all.events[0]!.id).toBe(String(logs(all)[0]!.id));
    for (const s of [all, errs, fts, re]) s.close();
  });

  it('sends heartbeats', async () => {
    const s = await subscribe('host=nobody');
    await waitFor('two heartbeats', () => s.comments.filter((x) => x.startsWith('heartbeat')).length >= 2);
    s.close();
  });

  it('replays what a reconnecting client missed (Last-Event-ID)', async () => {
    const first = await subscribe('host=tail-r');
    await ingest(['r1'], { host: 'tail-r' });
    await waitFor('r1', () => logs(first).length === 1);
    const lastId = first.events.at(-1)!.id!;
    first.close();
    await ingest(['r2', 'r3'], { host: 'tail-r' });
    const again = await subscribe('host=tail-r', { 'last-event-id': lastId });
    await ingest(['r4'], { host: 'tail-r' });
    await waitFor('r2..r4', () => logs(again).length === 3);
    expect(logs(again).map((l) => l.message)).toEqual(['r2', 'r3', 'r4']);
    again.close();
  });

  it('skips lines for a client that does not read, with a notice, instead of buffering without bound', async () => {
    // a raw socket that sends the request and then stops reading
    const sock: Socket = connect({ host: '127.0.0.1', port: Number(new URL(base).port) });
    sock.setNoDelay(true);
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /api/v1/logs/stream?host=flood HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.token('viewer')}\r\n\r\n`);
    let received = '';
    sock.on('data', (d) => (received += d.toString('utf8')));
    await waitFor('stream to open', () => received.includes('connected'));
    sock.pause();
    const body = 'x'.repeat(10_000);
    const total = 200 * 20;
    for (let i = 0; i < 200; i++) await ingest(Array.from({ length: 20 }, (_, j) => `${i}-${j} ${body}`), { host: 'flood' });
    await waitFor('lines to be skipped', () => c.app.events.count('tail.skipped') > 0);
    // what the server holds for this client stays at the cap (64 KiB + one line), far below the 40 MB sent
    const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${c.token('viewer')}` } }).then((r) => r.text());
    const held = Number(/^ringtail_tail_max_buffered_bytes (\d+)/m.exec(metrics)![1]);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(64 * 1024 + 11_000);
    sock.resume();
    await waitFor('the skipped notice', () => /event: skipped\ndata: \{"lines":\d+/.test(received), 15_000);
    const delivered = (received.match(/event: log/g) ?? []).length;
    const skipped = Number(/event: skipped\ndata: \{"lines":(\d+)/.exec(received)![1]);
    expect(skipped).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(total);
    await waitFor('every line delivered or counted as skipped', () => {
      const d = (received.match(/event: log/g) ?? []).length;
      const sk = [...received.matchAll(/event: skipped\ndata: \{"lines":(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      return d + sk === total;
    });
    sock.destroy();
  });

  it('skips a line larger than the whole client buffer with a notice, and goes on with the next', async () => {
    const s = await subscribe('host=tail-big');
    await ingest(['before', 'B'.repeat(70_000), 'after'], { host: 'tail-big' });
    await waitFor('the line after', () => logs(s).some((l) => l.message === 'after'));
    expect(s.events.map((e) => e.event)).toEqual(['log', 'skipped', 'log']);
    expect(logs(s).map((l) => l.message)).toEqual(['before', 'after']);
    const notice = JSON.parse(s.events[1]!.data);
    expect(notice).toMatchObject({ lines: 1, too_large: 1 });
    expect(notice.reason).toMatch(/larger than the live tail's 65536-byte client buffer/);
    s.close();
  });
});

describe('live tail limits', () => {
  const REPLAY_BYTES = 5_000;
  let d: TestCollector;
  beforeAll(async () => {
    d = await testCollector(undefined, { tail: { heartbeatMs: 100, maxClients: 3, maxClientsPerToken: 2, maxReplayBytes: REPLAY_BYTES } });
    limitsBase = await d.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => d.close());
  const viewer = async (name: string) => (await d.app.storage.tokens.create('viewer', name, Date.now())).token;
  const open = (token: string) => fetch(`${limitsBase}/api/v1/logs/stream`, { headers: { authorization: `Bearer ${token}` } });

  it('caps clients per token (429) and in total (503), naming the option, and frees a place on disconnect', async () => {
    const [t1, t2, t3] = [await viewer('one'), await viewer('two'), await viewer('three')];
    const at = (token: string) => ({ base: limitsBase, token });
    const a = await subscribe('', {}, at(t1));
    const b = await subscribe('', {}, at(t1));
    const third = await open(t1);
    expect(third.status).toBe(429);
    expect(await third.json()).toMatchObject({ error: 'RINGTAIL_ERR_RATE_LIMITED', message: expect.stringMatching(/tail\.max_clients_per_token = 2/) });
    const other = await subscribe('', {}, at(t2));
    const full = await open(t3);
    expect(full.status).toBe(503);
    expect(await full.json()).toMatchObject({ error: 'RINGTAIL_ERR_RATE_LIMITED', message: expect.stringMatching(/tail\.max_clients = 3/) });
    a.close();
    const later = await waitFor('a place to free up', async () => {
      const r = await open(t3);
      if (r.status === 200) return r;
      expect(r.status).toBe(503);
      await r.body?.cancel();
      return false;
    });
    await later.body?.cancel();
    for (const s of [b, other]) s.close();
    await waitFor('every place to free up', () => d.app.metrics.tailClients.get().then((m) => m.values[0]?.value === 0));
  });

  it('replays only the newest missed lines that fit in tail.max_replay_bytes', async () => {
    const t = await viewer('replay');
    const live = await subscribe('host=tail-rb', {}, { base: limitsBase, token: t });
    await ingest(['r0'], { host: 'tail-rb' }, d);
    await waitFor('r0', () => logs(live).length === 1);
    const lastId = live.events.at(-1)!.id!;
    const missed = Array.from({ length: 10 }, (_, i) => `m${i} ${'x'.repeat(1_000)}`);
    await ingest(missed, { host: 'tail-rb' }, d);
    await waitFor('m0..m9', () => logs(live).length === 11);
    live.close();
    // the events as they went over the wire; the replay takes the newest that fit
    const sizes = live.events.slice(1).map((e) => Buffer.byteLength(`id: ${e.id}\nevent: log\ndata: ${e.data}\n\n`));
    let fit = 0;
    for (let sum = 0; fit < sizes.length && sum + sizes[sizes.length - 1 - fit]! <= REPLAY_BYTES; fit++) sum += sizes[sizes.length - 1 - fit]!;
    expect(fit).toBeGreaterThan(0);
    expect(fit).toBeLessThan(missed.length);
    const again = await subscribe('host=tail-rb', { 'last-event-id': lastId }, { base: limitsBase, token: t });
    await ingest(['after'], { host: 'tail-rb' }, d);
    await waitFor('the live line after the replay', () => logs(again).some((l) => l.message === 'after'));
    expect(logs(again).map((l) => l.message)).toEqual([...missed.slice(-fit), 'after']);
    again.close();
  });
});
