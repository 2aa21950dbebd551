// Alerts on a real collector database: log and absence rules over the real log store, webhook
// bodies in Alertmanager's v4 format signed per Standard Webhooks and received over loopback,
// the outbox across a collector restart, retries, 410, silences, and the rules API.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { memorySources } from '../../collector/alerts/sources.js';
import { generateSecret } from '../../shared/webhook-signature.js';
import { batchOf } from '../helpers/collector.js';
import { alertsRig, bearer, hookReceiver, type Hook } from '../helpers/alerts.js';

const SECRET = generateSecret();
const rig = alertsRig('ringtail-alerts-', { secret: SECRET, backoff_base_ms: 1000 });
const { start } = rig;

// one token per app and role: an agent_id is bound to the agent token that first sent for it
const issued = new WeakMap<FastifyInstance, Map<string, string>>();
async function token(app: FastifyInstance, role: 'agent' | 'viewer' | 'admin'): Promise<string> {
  let byRole = issued.get(app);
  if (!byRole) issued.set(app, (byRole = new Map()));
  let t = byRole.get(role);
  if (t === undefined) byRole.set(role, (t = (await app.storage.tokens.create(role, `t ${role}`, rig.clock.t)).token));
  return t;
}

async function ingest(app: FastifyInstance, messages: string[], opts: Parameters<typeof batchOf>[1] = {}) {
  const res = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: bearer(await token(app, 'agent')), payload: batchOf(messages, { ts: rig.clock.t, ...opts }) });
  expect(res.statusCode).toBe(200);
}

function expectSigned(req: Hook['requests'][number]) {
  const id = req.headers['webhook-id'] as string;
  const ts = req.headers['webhook-timestamp'] as string;
  const key = Buffer.from(SECRET.slice(6), 'base64');
  const expected = 'v1,' + createHmac('sha256', key).update(`${id}.${ts}.${req.body}`).digest('base64');
  expect(req.headers['webhook-signature']).toBe(expected);
  expect(id).toMatch(/^msg_/);
  expect(Number(ts)).toBe(Math.floor(rig.clock.t / 1000));
}

const oomRule = {
  kind: 'log',
  name: 'oom',
  query: 'OutOfMemoryError',
  window: '1m',
  annotations: { summary: '{{ $labels.host }}: {{ $value }} OutOfMemoryError in 1 min', description: 'rule {{ $rule }} at {{ $severity }}' },
};

describe('log rule over the real log store, webhook in Alertmanager v4 format', () => {
  it('fires, notifies signed, resolves, and keeps history', async () => {
    const app = await start({ rules: [oomRule] });
    await ingest(app, ['all good', 'java.lang.OutOfMemoryError: Java heap space', 'OutOfMemoryError again'], { host: 'web-1' });
    await ingest(app, ['fine here'], { host: 'web-2', stream: 's2', agent: 'agt_2' });

    const stats = (await app.alerts.evaluator.cycle());
    expect(stats).toMatchObject({ instances: 2, transitions: 1, notifications: 1 });
    const current = (await app.inject({ url: '/api/v1/alerts', headers: bearer(await token(app, 'viewer')) })).json();
    expect(current.items).toHaveLength(1);
    expect(current.items[0]).toMatchObject({ rule: 'oom', host: 'web-1', state: 'firing', severity: 'critical', value: 2 });
    expect(current.items[0].annotations.summary).toBe('web-1: 2 OutOfMemoryError in 1 min');
    const firingProm = (await app.inject({ url: '/metrics', headers: bearer(await token(app, 'viewer')) })).body;
    expect(firingProm).toContain('ringtail_alerts{state="firing",severity="critical"} 1');
    expect(firingProm).toContain('ringtail_alerts_outbox_pending 1');

    expect(await app.alerts.outbox.drain()).toBe(1);
    expect(rig.hook.requests).toHaveLength(1);
    const fired = rig.hook.requests[0]!;
    expectSigned(fired);
    expect(fired.json).toMatchObject({
      version: '4',
      status: 'firing',
      receiver: 'ops',
      truncatedAlerts: 0,
      groupLabels: { alertname: 'oom' },
      commonLabels: { alertname: 'oom', host: 'web-1', severity: 'critical', rule: 'oom' },
      commonAnnotations: { summary: 'web-1: 2 OutOfMemoryError in 1 min', description: 'rule oom at critical' },
    });
    expect(typeof fired.json.groupKey).toBe('string');
    expect(typeof fired.json.externalURL).toBe('string');
    const a = fired.json.alerts[0];
    expect(a).toMatchObject({ status: 'firing', endsAt: '0001-01-01T00:00:00Z', startsAt: new Date(rig.clock.t).toISOString() });
    expect(a.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof a.generatorURL).toBe('string');

    // Nothing new while it stays firing (repeat interval 4 h by default).
    rig.clock.advance(10_000);
    expect((await app.alerts.evaluator.cycle()).notifications).toBe(0);

    // The lines leave the 1 min window: resolved.
    rig.clock.advance(60_000);
    expect((await app.alerts.evaluator.cycle())).toMatchObject({ transitions: 1, notifications: 1 });
    await app.alerts.outbox.drain();
    const resolved = rig.hook.requests[1]!;
    expectSigned(resolved);
    expect(resolved.json.status).toBe('resolved');
    expect(resolved.json.alerts[0]).toMatchObject({ status: 'resolved', fingerprint: a.fingerprint, startsAt: a.startsAt, endsAt: new Date(rig.clock.t).toISOString() });
    expect(resolved.headers['webhook-id']).not.toBe(fired.headers['webhook-id']);

    const hist = (await app.inject({ url: '/api/v1/alerts/history?rule=oom', headers: bearer(await token(app, 'viewer')) })).json();
    expect(hist.items.map((h: { event: string }) => h.event)).toEqual(['resolved', 'firing']);
    // the time parameters of every read API: the resolution happened at rig.clock.t
    const at = (hist.items as Array<{ at: number }>)[0]!.at;
    const since = (await app.inject({ url: `/api/v1/alerts/history?rule=oom&start=${at}`, headers: bearer(await token(app, 'viewer')) })).json();
    expect(since.items.map((h: { event: string }) => h.event)).toEqual(['resolved']);
    const before = (await app.inject({ url: `/api/v1/alerts/history?rule=oom&end=${new Date(at).toISOString()}`, headers: bearer(await token(app, 'viewer')) })).json();
    expect(before.items.map((h: { event: string }) => h.event)).toEqual(['firing']);
    const bad = await app.inject({ url: '/api/v1/alerts/history?start=-99999999999999999999', headers: bearer(await token(app, 'viewer')) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'RINGTAIL_ERR_BAD_QUERY', parameter: 'start' });
    const prom = (await app.inject({ url: '/metrics', headers: bearer(await token(app, 'viewer')) })).body;
    expect(prom).toContain('ringtail_alerts_outbox_pending 0');
    expect(prom).toMatch(/ringtail_events_total\{event="alerts\.firing"\} 1/);
    expect(prom).toMatch(/ringtail_alerts_cycle_seconds \d/);
    expect((await app.inject({ url: '/api/v1/alerts', headers: bearer(await token(app, 'viewer')) })).json().items).toEqual([]);
  });

  it('groups the alerts of one rule in one body', async () => {
    const src = memorySources();
    src.set('a', 'cpu', 95);
    src.set('b', 'cpu', 97);
    src.set('c', 'cpu', 10);
    const app = await start({ rules: [{ kind: 'metric', name: 'cpu', metric: 'cpu', op: 'above', critical: 90 }] }, src);
    expect((await app.alerts.evaluator.cycle()).notifications).toBe(1);
    await app.alerts.outbox.drain();
    expect(rig.hook.requests).toHaveLength(1);
    const body = rig.hook.requests[0]!.json;
    expect(body.alerts.map((x: { labels: { host: string } }) => x.labels.host).sort()).toEqual(['a', 'b']);
    expect(body.commonLabels).toEqual({ alertname: 'cpu', rule: 'cpu', severity: 'critical' });
  });
});

describe('absence rule (dead man\'s switch) over host last-seen times', () => {
  it('fires when a host sends nothing for N seconds and resolves when it is back', async () => {
    const app = await start({ rules: [{ kind: 'absence', name: 'silent', seconds: 30, annotations: { summary: '{{ $labels.host }} silent for {{ $value }} s' } }] });
    await ingest(app, ['hello'], { host: 'web-1' });
    rig.clock.advance(30_000);
    await app.alerts.evaluator.cycle();
    expect(app.alerts.evaluator.current(rig.clock.t)).toEqual([]);
    rig.clock.advance(1000);
    await app.alerts.evaluator.cycle();
    const cur = app.alerts.evaluator.current(rig.clock.t);
    expect(cur).toHaveLength(1);
    expect(cur[0]!.annotations.summary).toBe('web-1 silent for 31 s');
    await ingest(app, ['back'], { host: 'web-1', start: 6 });
    await app.alerts.evaluator.cycle();
    expect(app.alerts.evaluator.current(rig.clock.t)).toEqual([]);
    await app.alerts.outbox.drain();
    expect(rig.hook.requests.map((r) => r.json.status)).toEqual(['firing', 'resolved']);
  });
});

describe('state and outbox across a collector restart', () => {
  it('a firing alert is neither forgotten nor fired again after a restart', async () => {
    const src = memorySources();
    src.set('web-1', 'load', 9);
    const rules = [{ kind: 'metric', name: 'load', metric: 'load', op: 'above', critical: 5 }];
    let app = await start({ rules }, src);
    await app.alerts.evaluator.cycle();
    await app.alerts.outbox.drain();
    expect(rig.hook.requests).toHaveLength(1);
    await rig.stopApps();

    rig.clock.advance(10_000);
    app = await start({ rules }, src);
    expect(app.alerts.evaluator.current(rig.clock.t)).toMatchObject([{ host: 'web-1', state: 'firing' }]);
    expect((await app.alerts.evaluator.cycle()).notifications).toBe(0);
    src.set('web-1', 'load', 1);
    rig.clock.advance(10_000);
    expect((await app.alerts.evaluator.cycle()).notifications).toBe(1);
    await app.alerts.outbox.drain();
    expect(rig.hook.requests.map((r) => r.json.status)).toEqual(['firing', 'resolved']);
  });

  it('an instance whose source is not ready (undefined) keeps its state', async () => {
    const src = memorySources();
    src.set('web-1', 'load', 9);
    let ready = true;
    const wrapped = { ...src, seriesWindow: (...a: Parameters<typeof src.seriesWindow>) => (ready ? src.seriesWindow(...a) : undefined) };
    const app = await start({ rules: [{ kind: 'metric', name: 'load', metric: 'load', op: 'above', critical: 5 }] }, wrapped as typeof src);
    await app.alerts.evaluator.cycle();
    ready = false;
    rig.clock.advance(10_000);
    expect((await app.alerts.evaluator.cycle())).toMatchObject({ transitions: 0 });
    expect(app.alerts.evaluator.current(rig.clock.t)).toMatchObject([{ host: 'web-1', state: 'firing' }]);
    ready = true;
    src.set('web-1', 'load', 1);
    rig.clock.advance(10_000);
    expect((await app.alerts.evaluator.cycle())).toMatchObject({ transitions: 1 });
  });

  it('a receiver down then up gets the notification once, after a collector restart', async () => {
    const port = rig.hook.port;
    const url = rig.hook.url;
    await rig.hook.close(); // receiver down
    const src = memorySources();
    src.set('web-1', 'disk', 99);
    const config = { rules: [{ kind: 'metric', name: 'disk', metric: 'disk', op: 'above', critical: 95 }], webhooks: [{ name: 'ops', url, secret: SECRET, backoff_base_ms: 1000 }] };
    let app = await rig.startWith(config, src);
        await app.alerts.evaluator.cycle();
    expect(await app.alerts.outbox.drain()).toBe(1);
    let row = (await app.alerts.store.outbox(10))[0]!;
    expect(row).toMatchObject({ state: 'pending', attempts: 1 });
    expect(row.last_error).toMatch(/ECONNREFUSED|fetch failed/);
    expect(row.next_at).toBeGreaterThanOrEqual(rig.clock.t + 500);
    expect(row.next_at).toBeLessThanOrEqual(rig.clock.t + 1000);
    await rig.stopApps(); // collector stops with the notification undelivered

    rig.hook = await hookReceiver(port); // receiver up again
    rig.clock.advance(2000);
    app = await rig.startWith(config, src);
        expect(await app.alerts.outbox.drain()).toBe(1);
    expect(await app.alerts.outbox.drain()).toBe(0);
    expect(rig.hook.requests).toHaveLength(1);
    expect(rig.hook.requests[0]!.headers['webhook-id']).toBe(row.id);
    expectSigned(rig.hook.requests[0]!);
    row = (await app.alerts.store.outbox(10))[0]!;
    expect(row).toMatchObject({ state: 'delivered', attempts: 2, last_status: 200 });
    expect((await app.alerts.evaluator.cycle()).notifications).toBe(0);
  });
});

describe('delivery policy', () => {
  const rule = { kind: 'metric', name: 'm', metric: 'm', op: 'above', critical: 1 };

  it('honours Retry-After, backs off with jitter, and gives up after max_attempts', async () => {
    const src = memorySources();
    src.set('h', 'm', 2);
    const app = await start({ rules: [rule], webhooks: [{ name: 'ops', url: rig.hook.url, secret: SECRET, backoff_base_ms: 1000, max_attempts: 3 }] }, src);
    await app.alerts.evaluator.cycle();
    rig.hook.answers.push({ status: 429, headers: { 'retry-after': '120' } }, { status: 503 }, { status: 500 });
    await app.alerts.outbox.drain();
    expect((await app.alerts.store.outbox(1))[0]!).toMatchObject({ state: 'pending', next_at: rig.clock.t + 120_000, last_status: 429 });
    rig.clock.advance(119_000);
    expect(await app.alerts.outbox.drain()).toBe(0);
    rig.clock.advance(1000);
    expect(await app.alerts.outbox.drain()).toBe(1);
    const second = (await app.alerts.store.outbox(1))[0]!;
    expect(second.last_status).toBe(503);
    // attempt 2: 2 s with equal jitter → between 1 and 2 s
    expect(second.next_at - rig.clock.t).toBeGreaterThanOrEqual(1000);
    expect(second.next_at - rig.clock.t).toBeLessThanOrEqual(2000);
    rig.clock.advance(2000);
    await app.alerts.outbox.drain();
    expect((await app.alerts.store.outbox(1))[0]!).toMatchObject({ state: 'failed', attempts: 3, last_status: 500 });
    expect(rig.hook.requests).toHaveLength(3);
    expect(new Set(rig.hook.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  it('410 Gone disables the webhook until its URL changes', async () => {
    const src = memorySources();
    src.set('h', 'm', 2);
    const app = await start({ rules: [rule] }, src);
    await app.alerts.evaluator.cycle();
    rig.hook.answers.push({ status: 410 });
    await app.alerts.outbox.drain();
    expect((await app.alerts.store.outbox(1))[0]!.state).toBe('disabled');
    const out = (await app.inject({ url: '/api/v1/alerts/outbox', headers: bearer(await token(app, 'admin')) })).json();
    expect(out.disabled_notifiers.ops.url).toBe(rig.hook.url);
    src.set('h', 'm', 0);
    rig.clock.advance(1000);
    expect((await app.alerts.evaluator.cycle()).notifications).toBe(0);
    expect(rig.hook.requests).toHaveLength(1);
  });

  it('repeats a still firing alert after the repeat interval', async () => {
    const src = memorySources();
    src.set('h', 'm', 2);
    const app = await start({ rules: [rule], repeat_interval_s: 60 }, src);
    expect((await app.alerts.evaluator.cycle()).notifications).toBe(1);
    rig.clock.advance(59_000);
    expect((await app.alerts.evaluator.cycle()).notifications).toBe(0);
    rig.clock.advance(1000);
    expect((await app.alerts.evaluator.cycle()).notifications).toBe(1);
    await app.alerts.outbox.drain();
    expect(rig.hook.requests.map((r) => r.json.alerts[0].startsAt)).toEqual([new Date(rig.clock.t - 60_000).toISOString(), new Date(rig.clock.t - 60_000).toISOString()]);
  });
});

describe('silences', () => {
  it('hold back firing notifications for matching alerts during their window only', async () => {
    const src = memorySources();
    src.set('web-1', 'm', 2);
    src.set('web-2', 'm', 2);
    const app = await start({ rules: [{ kind: 'metric', name: 'm', metric: 'm', op: 'above', critical: 1 }] }, src);
    const admin = await token(app, 'admin');
    const bad = await app.inject({ method: 'POST', url: '/api/v1/alerts/silences', headers: bearer(admin), payload: { matchers: [{ name: 'host', value: '(' , regex: true }], ends_at: rig.clock.t + 60_000, comment: 'x' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('matchers/0/value');
    const viewer = await app.inject({ method: 'POST', url: '/api/v1/alerts/silences', headers: bearer(await token(app, 'viewer')), payload: { matchers: [{ name: 'host', value: 'web-1' }], ends_at: rig.clock.t + 60_000, comment: 'maintenance' } });
    expect(viewer.statusCode).toBe(403);
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/alerts/silences',
      headers: bearer(admin),
      payload: { matchers: [{ name: 'host', value: 'web-1' }, { name: 'alertname', value: 'm|other', regex: true }], ends_at: new Date(rig.clock.t + 60_000).toISOString(), comment: 'maintenance' },
    });
    expect(res.statusCode).toBe(201);
    const sil = res.json();
    await app.alerts.evaluator.cycle();
    await app.alerts.outbox.drain();
    expect(rig.hook.requests).toHaveLength(1);
    expect(rig.hook.requests[0]!.json.alerts.map((a: { labels: { host: string } }) => a.labels.host)).toEqual(['web-2']);
    const cur = app.alerts.evaluator.current(rig.clock.t);
    expect(cur.find((c) => c.host === 'web-1')!.silenced_by).toBe(sil.id);

    // The silence ends (expired through the API): web-1 is announced on the next cycle.
    rig.clock.advance(10_000);
    expect((await app.inject({ method: 'DELETE', url: `/api/v1/alerts/silences/${sil.id}`, headers: bearer(admin) })).statusCode).toBe(200);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/alerts/silences/sil_nope', headers: bearer(admin) })).statusCode).toBe(404);
    await app.alerts.evaluator.cycle();
    await app.alerts.outbox.drain();
    expect(rig.hook.requests).toHaveLength(2);
    expect(rig.hook.requests[1]!.json.alerts.map((a: { labels: { host: string } }) => a.labels.host)).toEqual(['web-1']);
    const list = (await app.inject({ url: '/api/v1/alerts/silences', headers: bearer(await token(app, 'viewer')) })).json();
    expect(list.items[0]).toMatchObject({ id: sil.id, active: false, created_by: 't admin' });
  });
});

describe('rules API', () => {
  it('admins change rules, readers read them, config rules are read-only, bad rules are named', async () => {
    const src = memorySources();
    src.set('web-1', 'mem', 99);
    const app = await start({ rules: [oomRule] }, src);
    const admin = await token(app, 'admin');
    const viewer = await token(app, 'viewer');
    const rule = { kind: 'metric', metric: 'mem', op: 'above', warning: 80, critical: 95, labels: { team: 'ops' } };
    expect((await app.inject({ method: 'PUT', url: '/api/v1/alerts/rules/mem', headers: bearer(viewer), payload: rule })).statusCode).toBe(403);
    const created = await app.inject({ method: 'PUT', url: '/api/v1/alerts/rules/mem', headers: bearer(admin), payload: rule });
    expect(created.statusCode).toBe(201);
    expect((await app.inject({ method: 'PUT', url: '/api/v1/alerts/rules/mem', headers: bearer(admin), payload: rule })).statusCode).toBe(200);
    const listed = (await app.inject({ url: '/api/v1/alerts/rules', headers: bearer(viewer) })).json();
    expect(listed.items.map((r: { name: string; source: string }) => `${r.name}:${r.source}`)).toEqual(['mem:api', 'oom:config']);

    const cases: Array<[unknown, number, string]> = [
      [{ ...rule, op: 'over' }, 400, 'body/op'],
      [{ ...rule, name: 'other' }, 400, 'body/name'],
      [{ ...rule, critical_clear: 99 }, 400, 'critical_clear'],
      [{ kind: 'log', query: 'unterminated "quote' }, 400, 'body/query: invalid search: unbalanced quote at 13'],
      // the one prefix check of every search (issue 12 item 8)
      [{ kind: 'log', query: 'oom "a"*' }, 400, "body/query: invalid search: prefix 'a*' at 4"],
      [[1, 2], 400, 'expected a JSON object'],
    ];
    for (const [payload, status, msg] of cases) {
      const res = await app.inject({ method: 'PUT', url: '/api/v1/alerts/rules/mem', headers: bearer(admin), payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().message).toContain(msg);
      if (msg.startsWith('body/query')) expect(res.json().position).toBe(Number(/at (\d+)/.exec(msg)![1]));
    }
    expect((await app.inject({ method: 'PUT', url: '/api/v1/alerts/rules/oom', headers: bearer(admin), payload: oomRule })).statusCode).toBe(409);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/alerts/rules/oom', headers: bearer(admin) })).statusCode).toBe(409);
    expect((await app.inject({ method: 'DELETE', url: '/api/v1/alerts/rules/nope', headers: bearer(admin) })).statusCode).toBe(404);

    // The API rule fires, survives a restart, and deleting it resolves its alert.
    await app.alerts.evaluator.cycle();
    expect(app.alerts.evaluator.current(rig.clock.t)).toMatchObject([{ rule: 'mem', severity: 'critical', labels: { team: 'ops' } }]);
    await rig.stopApps();
    const app2 = await start({ rules: [oomRule] }, src);
    expect((await app2.inject({ method: 'DELETE', url: '/api/v1/alerts/rules/mem', headers: bearer(await token(app2, 'admin')) })).statusCode).toBe(200);
    rig.clock.advance(1000);
    expect((await app2.alerts.evaluator.cycle()).notifications).toBe(1);
    await app2.alerts.outbox.drain();
    expect(rig.hook.requests.map((r) => r.json.status)).toEqual(['firing', 'resolved']);
    expect(app2.alerts.evaluator.current(rig.clock.t)).toEqual([]);
    const hist = (await app2.inject({ url: '/api/v1/alerts/history?host=web-1', headers: bearer(await token(app2, 'viewer')) })).json();
    expect(hist.items.map((h: { event: string }) => h.event)).toEqual(['resolved', 'firing']);
  });
});
