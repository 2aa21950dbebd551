// Evidence in firing webhooks, on a real collector database and a real webhook receiver: the
// host's last lines at warning or worse (bounded, a 1 MB line cut and marked, markup and shell
// syntax kept as text), the metric window's points, the check's last result, the dashboard link;
// the Alertmanager v4 fields as before and the signature over the whole body.
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { EVIDENCE_LOOKBACK_MS, EVIDENCE_MAX_BYTES, EVIDENCE_MAX_LINE_BYTES, EVIDENCE_MAX_LINES } from '../../collector/alerts/evidence.js';
import { MAX_EVIDENCE_ALERTS } from '../../collector/alerts/notifiers/webhook.js';
import { memorySources } from '../../collector/alerts/sources.js';
import { generateSecret } from '../../shared/webhook-signature.js';
import { batchOf } from '../helpers/collector.js';
import { alertsRig, bearer, type Hook } from '../helpers/alerts.js';

const SECRET = generateSecret();
const rig = alertsRig('ringtail-evidence-', { secret: SECRET });
const EXTERNAL = 'https://ringtail.example:8080/';
const V4_ALERT_KEYS = ['annotations', 'endsAt', 'fingerprint', 'generatorURL', 'labels', 'startsAt', 'status'];
const V4_BODY_KEYS = ['alerts', 'commonAnnotations', 'commonLabels', 'externalURL', 'groupKey', 'groupLabels', 'receiver', 'status', 'truncatedAlerts', 'version'];
const HOSTILE = ['$(rm -rf /)', '`touch /tmp/pwned`', '<script>alert(1)</script>', '"; DROP TABLE logs; --', 'a\nfake line'];

let agentToken: string | undefined;
async function ingest(app: FastifyInstance, messages: string[], opts: Parameters<typeof batchOf>[1] & { stream: string }) {
  agentToken ??= (await app.storage.tokens.create('agent', 'agent', rig.clock.t)).token;
  const res = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: bearer(agentToken), payload: batchOf(messages, { ts: rig.clock.t, ...opts }) });
  expect(res.statusCode).toBe(200);
}

function expectSigned(req: Hook['requests'][number]) {
  const key = Buffer.from(SECRET.slice(6), 'base64');
  const expected = 'v1,' + createHmac('sha256', key).update(`${req.headers['webhook-id']}.${req.headers['webhook-timestamp']}.${req.body}`).digest('base64');
  expect(req.headers['webhook-signature']).toBe(expected);
}

async function fireAndReceive(app: FastifyInstance) {
  const stats = (await app.alerts.evaluator.cycle());
  expect(stats.notifications).toBeGreaterThan(0);
  await app.alerts.outbox.drain();
  const req = rig.hook.requests.at(-1)!;
  expectSigned(req);
  expect(Object.keys(req.json).sort()).toEqual(V4_BODY_KEYS);
  return req;
}

describe('evidence in a firing webhook', () => {
  it('metric rule: lines at warning+ (bounded, oldest first), the window points, the dashboard link; v4 fields unchanged', async () => {
    agentToken = undefined;
    const src = memorySources();
    const t0 = rig.clock.t;
    for (let i = 0; i < 6; i++) src.point('web-1', 'cpu.busy_pct', t0 - 50_000 + i * 10_000, 95 + i / 10);
    const app = await rig.start({ external_url: EXTERNAL, rules: [{ kind: 'metric', name: 'cpu-hot', metric: 'cpu.busy_pct', window: '1m', op: 'above', warning: 90 }] }, src);
    // 30 warnings (only the newest 20 may go), info lines (never), one 1 MB error line, hostile text
    rig.clock.advance(-40_000);
    await ingest(app, Array.from({ length: 30 }, (_, i) => `warn ${i}`), { host: 'web-1', severity: 4, stream: 'w' });
    rig.clock.advance(10_000);
    await ingest(app, ['x'.repeat(1_000_000)], { host: 'web-1', severity: 3, stream: 'big' });
    rig.clock.advance(10_000);
    await ingest(app, HOSTILE, { host: 'web-1', severity: 2, stream: 'h', program: 'app' });
    rig.clock.advance(10_000);
    await ingest(app, ['info after', 'debug after'], { host: 'web-1', severity: 6, stream: 'i' });
    await ingest(app, ['other host'], { host: 'web-2', severity: 0, stream: 'o', agent: 'agt_2' });
    rig.clock.advance(10_000);
    const at = rig.clock.t;

    const req = await fireAndReceive(app);
    const body = req.json;
    expect(body).toMatchObject({ version: '4', status: 'firing', receiver: 'ops', truncatedAlerts: 0, externalURL: 'https://ringtail.example:8080', groupLabels: { alertname: 'cpu-hot' } });
    const alert = body.alerts[0];
    expect(Object.keys(alert).sort()).toEqual([...V4_ALERT_KEYS, 'ringtail'].sort());
    expect(alert).toMatchObject({ status: 'firing', endsAt: '0001-01-01T00:00:00Z', labels: { alertname: 'cpu-hot', host: 'web-1', severity: 'warning' } });

    const ev = alert.ringtail.evidence;
    expect(ev.host).toBe('web-1');
    expect(ev.at).toBe(at);
    expect(ev.dashboard_url).toBe(`https://ringtail.example:8080/#/host/web-1?from=${at - 30 * 60_000}&to=${at + 5 * 60_000}`);
    // at warning or worse only, of this host only, oldest first, the newest 20
    const lines = ev.lines as Array<{ message: string; severity: number; ts: number; truncated?: boolean; bytes?: number; program: string | null }>;
    expect(lines.length).toBeLessThanOrEqual(EVIDENCE_MAX_LINES);
    expect(lines.every((l) => l.severity <= 4)).toBe(true);
    expect(lines.some((l) => l.message === 'other host' || l.message.endsWith('after'))).toBe(false);
    expect(lines.map((l) => l.ts)).toEqual([...lines.map((l) => l.ts)].sort((a, b) => a - b));
    expect(lines.slice(-HOSTILE.length).map((l) => l.message)).toEqual(HOSTILE);
    expect(lines.slice(-HOSTILE.length).every((l) => l.program === 'app')).toBe(true);
    expect(ev.lines_omitted).toBe(true);
    // the 1 MB line: cut and marked, with its whole length
    const big = lines.find((l) => l.message.startsWith('xxx'))!;
    expect(big).toMatchObject({ truncated: true, bytes: 1_000_000 });
    expect(Buffer.byteLength(big.message)).toBeLessThanOrEqual(EVIDENCE_MAX_LINE_BYTES);
    expect(lines.reduce((n, l) => n + Buffer.byteLength(l.message), 0)).toBeLessThanOrEqual(EVIDENCE_MAX_BYTES);
    // the newest warnings come before the big line in time; the oldest were left out
    const warns = lines.filter((l) => l.message.startsWith('warn ')).map((l) => l.message);
    expect(warns.length).toBeGreaterThan(0);
    expect(warns.at(-1)).toBe('warn 29');
    expect(warns).not.toContain('warn 0');
    expect(req.body.length).toBeLessThan(32 * 1024);

    expect(ev.metric).toEqual({ key: 'cpu.busy_pct', window_s: 60, points_omitted: false, points: Array.from({ length: 6 }, (_, i) => ({ t: t0 - 50_000 + i * 10_000, v: 95 + i / 10 })) });
    expect(ev.check).toBeUndefined();
  });

  it('check rule: the last results; a host with no lines gives empty lines, not an error; resolved carries none', async () => {
    agentToken = undefined;
    const src = memorySources();
    const t = rig.clock.t;
    src.point('db-1', 'check.process.count{check=postgres}', t - 20_000, 1);
    src.point('db-1', 'check.process.count{check=postgres}', t - 10_000, 0);
    src.point('db-1', 'check.process.count{check=postgres}', t, 0);
    const app = await rig.start({ rules: [{ kind: 'check', name: 'proc-down', check: 'postgres', check_types: ['process'] }] }, src);
    const req = await fireAndReceive(app);
    const ev = req.json.alerts[0].ringtail.evidence;
    expect(ev).toMatchObject({ host: 'db-1', dashboard_url: null, lines: [], lines_omitted: false });
    expect(ev.check).toEqual({ name: 'postgres', status: 'down', results: [{ t: t - 20_000, v: 1 }, { t: t - 10_000, v: 0 }, { t, v: 0 }] });
    expect(ev.metric).toBeUndefined();

    rig.clock.advance(10_000);
    src.point('db-1', 'check.process.count{check=postgres}', rig.clock.t, 1);
    await app.alerts.evaluator.cycle();
    await app.alerts.outbox.drain();
    const resolved = rig.hook.requests.at(-1)!;
    expect(resolved.json.status).toBe('resolved');
    expect(Object.keys(resolved.json.alerts[0]).sort()).toEqual(V4_ALERT_KEYS);
  });

  it('metric rule on a host with no points and no lines: empty evidence, the alert still goes', async () => {
    agentToken = undefined;
    const src = memorySources();
    src.set('bare-1', 'mem.used_pct', 99);
    const app = await rig.start({ rules: [{ kind: 'metric', name: 'mem', metric: 'mem.used_pct', window: '1m', op: 'above', critical: 90 }] }, src);
    const req = await fireAndReceive(app);
    expect(req.json.alerts[0].ringtail.evidence).toMatchObject({ host: 'bare-1', lines: [], lines_omitted: false, metric: { key: 'mem.used_pct', points: [], points_omitted: false } });
  });

  it('the byte bound: long lines fill 8 KiB, older ones are left out (marked)', async () => {
    agentToken = undefined;
    const src = memorySources();
    src.set('noisy-1', 'mem.used_pct', 99);
    const app = await rig.start({ rules: [{ kind: 'metric', name: 'mem', metric: 'mem.used_pct', window: '1m', op: 'above', critical: 90 }] }, src);
    rig.clock.advance(-1000);
    await ingest(app, Array.from({ length: 15 }, (_, i) => `${String(i).padStart(2, '0')} ` + 'é'.repeat(1500)), { host: 'noisy-1', severity: 3, stream: 'n' });
    rig.clock.advance(1000);
    const ev = (await fireAndReceive(app)).json.alerts[0].ringtail.evidence;
    const total = ev.lines.reduce((n: number, l: { message: string }) => n + Buffer.byteLength(l.message), 0);
    expect(total).toBeLessThanOrEqual(EVIDENCE_MAX_BYTES);
    expect(total).toBeGreaterThan(EVIDENCE_MAX_BYTES - EVIDENCE_MAX_LINE_BYTES);
    expect(ev.lines_omitted).toBe(true);
    expect(ev.lines.length).toBeLessThan(15);
    // cut on a character boundary: no replacement characters from half an 'é'
    expect(ev.lines.every((l: { message: string; truncated?: boolean }) => l.truncated === true && !l.message.includes('\ufffd'))).toBe(true);
    expect(ev.lines.at(-1).message.startsWith('14 ')).toBe(true);
  });

  it('bounded per body: many hosts firing at once, only the first alerts carry evidence; old lines are not looked at', async () => {
    agentToken = undefined;
    const src = memorySources();
    const n = MAX_EVIDENCE_ALERTS + 3;
    for (let i = 0; i < n; i++) src.set(`h-${String(i).padStart(2, '0')}`, 'mem.used_pct', 99);
    const app = await rig.start({ rules: [{ kind: 'metric', name: 'mem', metric: 'mem.used_pct', window: '1m', op: 'above', critical: 90 }] }, src);
    rig.clock.advance(-EVIDENCE_LOOKBACK_MS - 1000);
    await ingest(app, ['too old to matter'], { host: 'h-00', severity: 0, stream: 'old' });
    rig.clock.advance(EVIDENCE_LOOKBACK_MS);
    await ingest(app, ['recent enough'], { host: 'h-00', severity: 4, stream: 'new' });
    rig.clock.advance(1000);
    const alerts = (await fireAndReceive(app)).json.alerts as Array<{ labels: { host: string }; ringtail?: { evidence: { lines: Array<{ message: string }> } } }>;
    expect(alerts).toHaveLength(n);
    expect(alerts.filter((a) => a.ringtail !== undefined)).toHaveLength(MAX_EVIDENCE_ALERTS);
    expect(alerts.slice(MAX_EVIDENCE_ALERTS).every((a) => a.ringtail === undefined)).toBe(true);
    const h0 = alerts.find((a) => a.labels.host === 'h-00')!;
    expect(h0.ringtail!.evidence.lines.map((l) => l.message)).toEqual(['recent enough']);
  });
});
