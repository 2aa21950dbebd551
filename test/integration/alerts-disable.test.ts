// Disabling alert rules: a disabled rule raises nothing, disabling a firing rule resolves its
// alert once (with the resolved webhook), enabling it again evaluates it again; the flag
// travels through PUT, PATCH (admins only), GET, the config file and a collector restart.
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { memorySources } from '../../collector/alerts/sources.js';
import { alertsRig, bearer } from '../helpers/alerts.js';

const rig = alertsRig('ringtail-alerts-off-');
const { start } = rig;
const token = async (app: FastifyInstance, role: 'viewer' | 'admin') => (await app.storage.tokens.create(role, `t ${role}`, rig.clock.t)).token;
const load = { kind: 'metric', metric: 'load', op: 'above', critical: 5, keep_firing_for: '1h' };

function patch(app: FastifyInstance, name: string, payload: unknown, tok: string) {
  return app.inject({ method: 'PATCH', url: `/api/v1/alerts/rules/${name}`, headers: bearer(tok), payload: payload as object });
}

describe('disabled alert rules', () => {
  it('a rule created disabled raises nothing; enabling it evaluates it', async () => {
    const src = memorySources();
    src.set('web-1', 'load', 9);
    const app = await start({}, src);
    const admin = await token(app, 'admin');
    const put = await app.inject({ method: 'PUT', url: '/api/v1/alerts/rules/load', headers: bearer(admin), payload: { ...load, enabled: false } });
    expect(put.statusCode).toBe(201);
    expect(put.json()).toMatchObject({ name: 'load', enabled: false });
    expect((await app.alerts.evaluator.cycle())).toMatchObject({ instances: 0, transitions: 0, notifications: 0 });
    expect(app.alerts.evaluator.current(rig.clock.t)).toEqual([]);

    expect((await patch(app, 'load', { enabled: true }, admin)).json()).toMatchObject({ name: 'load', enabled: true, spec: { enabled: true } });
    rig.clock.advance(1000);
    expect((await app.alerts.evaluator.cycle())).toMatchObject({ instances: 1, transitions: 1, notifications: 1 });
    expect(app.alerts.evaluator.current(rig.clock.t)).toMatchObject([{ rule: 'load', host: 'web-1', state: 'firing' }]);
  });

  it('disabling a firing rule resolves its alert once, at once (no keep_firing_for), and survives a restart', async () => {
    const src = memorySources();
    src.set('web-1', 'load', 9);
    src.set('web-2', 'load', 7);
    let app = await start({}, src);
    const admin = await token(app, 'admin');
    expect((await app.inject({ method: 'PUT', url: '/api/v1/alerts/rules/load', headers: bearer(admin), payload: load })).statusCode).toBe(201);
    expect((await app.alerts.evaluator.cycle()).notifications).toBe(1);
    await app.alerts.outbox.drain();
    const fired = rig.hook.requests[0]!.json;
    expect(fired.status).toBe('firing');

    rig.clock.advance(5000);
    const off = await patch(app, 'load', { enabled: false }, admin);
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ enabled: false, spec: { ...load, name: 'load', enabled: false } });
    expect((await app.alerts.evaluator.cycle())).toMatchObject({ transitions: 2, notifications: 1 });
    expect(app.alerts.evaluator.current(rig.clock.t)).toEqual([]);
    await app.alerts.outbox.drain();
    expect(rig.hook.requests).toHaveLength(2);
    const resolved = rig.hook.requests[1]!.json;
    expect(resolved.status).toBe('resolved');
    expect(resolved.alerts.map((a: { labels: { host: string }; endsAt: string }) => `${a.labels.host} ${a.endsAt}`).sort()).toEqual(
      ['web-1', 'web-2'].map((h) => `${h} ${new Date(rig.clock.t).toISOString()}`),
    );
    expect(resolved.alerts.map((a: { fingerprint: string }) => a.fingerprint).sort()).toEqual(fired.alerts.map((a: { fingerprint: string }) => a.fingerprint).sort());
    const hist = (await app.inject({ url: '/api/v1/alerts/history?rule=load', headers: bearer(admin) })).json();
    expect(hist.items.map((h: { event: string }) => h.event)).toEqual(['resolved', 'resolved', 'firing', 'firing']);

    // further cycles, and a restart, neither resolve again nor fire
    rig.clock.advance(5000);
    expect((await app.alerts.evaluator.cycle())).toMatchObject({ transitions: 0, notifications: 0 });
    await rig.stopApps();
    app = await start({}, src);
    const viewer = await token(app, 'viewer');
    const listed = (await app.inject({ url: '/api/v1/alerts/rules', headers: bearer(viewer) })).json();
    expect(listed.items).toMatchObject([{ name: 'load', source: 'api', enabled: false, spec: { enabled: false } }]);
    rig.clock.advance(5000);
    expect((await app.alerts.evaluator.cycle())).toMatchObject({ instances: 0, transitions: 0, notifications: 0 });
    await app.alerts.outbox.drain();
    expect(rig.hook.requests).toHaveLength(2);

    // enabled again: evaluated again, a new alert
    expect((await patch(app, 'load', { enabled: true }, await token(app, 'admin'))).statusCode).toBe(200);
    expect((await app.alerts.evaluator.cycle())).toMatchObject({ instances: 2, transitions: 2, notifications: 1 });
    await app.alerts.outbox.drain();
    expect(rig.hook.requests.map((r) => r.json.status)).toEqual(['firing', 'resolved', 'firing']);
  });

  it('PATCH: admins only, 404 for an unknown rule, 409 for config rules, 400 naming a bad body', async () => {
    const src = memorySources();
    src.set('web-1', 'load', 9);
    const app = await start({ rules: [{ ...load, name: 'from-file', enabled: false }] }, src);
    const admin = await token(app, 'admin');
    const viewer = await token(app, 'viewer');
    expect((await app.inject({ method: 'PUT', url: '/api/v1/alerts/rules/load', headers: bearer(admin), payload: load })).statusCode).toBe(201);
    expect((await patch(app, 'load', { enabled: false }, viewer)).statusCode).toBe(403);
    expect((await patch(app, 'nope', { enabled: false }, admin)).statusCode).toBe(404);
    const cfg = await patch(app, 'from-file', { enabled: true }, admin);
    expect(cfg.statusCode).toBe(409);
    expect(cfg.json().message).toContain('configuration file');
    for (const [payload, where] of [
      [{ enabled: 'no' }, 'enabled'],
      [{}, 'enabled'],
      [{ enabled: false, op: 'below' }, 'op'],
    ] as const) {
      const res = await patch(app, 'load', payload, admin);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().message).toContain(where);
    }
    const bad = await app.inject({ method: 'PUT', url: '/api/v1/alerts/rules/load', headers: bearer(admin), payload: { ...load, enabled: 'yes' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toContain('body/enabled');

    // the config file's disabled rule is listed as such and raises nothing; the API rule fires
    const listed = (await app.inject({ url: '/api/v1/alerts/rules', headers: bearer(viewer) })).json();
    expect(listed.items.map((r: { name: string; enabled: boolean }) => `${r.name}:${r.enabled}`)).toEqual(['from-file:false', 'load:true']);
    await app.alerts.evaluator.cycle();
    expect(app.alerts.evaluator.current(rig.clock.t).map((a) => a.rule)).toEqual(['load']);
  });
});
