// The relaunch receiver on a real socket with real commands: bad input never crashes it or
// runs anything, replays are dropped (also across a restart), alert text reaches the command
// only as environment variables, and the restart limit suspends an action.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../cli/relaunch/receiver.js';
import type { RelaunchConfig } from '../../cli/relaunch/config.js';
import { ConfigError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { generateSecret, messageId, signedHeaders, type SignedHeaders } from '../../shared/webhook-signature.js';
import { tempDir, waitFor } from '../helpers/proc.js';

const SECRET = generateSecret();
let dir: { path: string; cleanup(): void };
let rx: Receiver;
let logs: string;
let out: string;

function config(extra: Partial<RelaunchConfig> = {}): RelaunchConfig {
  return {
    listen: '127.0.0.1:0',
    secret: SECRET,
    state: join(dir.path, 'state'),
    tolerance_s: 300,
    body_limit: 64 * 1024,
    resume: false,
    actions: [
      { name: 'restart-app', match: { alertname: 'app-down' }, command: [process.execPath, join(dir.path, 'record.mjs'), out], max_runs: 2, within_s: 300 },
      { name: 'on-resolved', match_re: { alertname: 'cleanup|other' }, on: ['resolved'], command: [process.execPath, join(dir.path, 'record.mjs'), out] },
    ],
    ...extra,
  };
}

async function start(extra: Partial<RelaunchConfig> = {}) {
  const sink = { write: (s: string) => ((logs += s), true) } as unknown as NodeJS.WritableStream;
  rx = await startReceiver({ config: config(extra), log: createLogger(sink, 'info') });
}

beforeEach(async () => {
  dir = tempDir('ringtail-relaunch-');
  logs = '';
  out = join(dir.path, 'runs.jsonl');
  // Records the RINGTAIL_* environment it was given, one JSON line per run.
  writeFileSync(
    join(dir.path, 'record.mjs'),
    `import { appendFileSync } from 'node:fs';
     const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('RINGTAIL_')));
     appendFileSync(process.argv[2], JSON.stringify({ argv: process.argv.slice(2), env }) + '\\n');`,
  );
  await start();
});
afterEach(async () => {
  await rx.close();
  await rx.idle();
  dir.cleanup();
});

function body(status: 'firing' | 'resolved', labels: Record<string, string>, annotations: Record<string, string> = {}) {
  return JSON.stringify({
    version: '4',
    groupKey: '{}:{alertname="x"}',
    truncatedAlerts: 0,
    status,
    receiver: 'relaunch',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: '',
    alerts: [{ status, labels, annotations, startsAt: '2026-01-01T00:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'abc' }],
  });
}

/** the headers of one delivery: correctly signed ones, or any (possibly wrong or missing) set */
type DeliveryHeaders = SignedHeaders | Record<string, string>;

async function post(payload: string, headers: DeliveryHeaders = signedHeaders(SECRET, messageId(), Date.now(), payload)) {
  const res = await fetch(rx.url + '/', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: payload });
  return { status: res.status, json: (await res.json()) as any, headers };
}

function runs(): Array<{ argv: string[]; env: Record<string, string> }> {
  if (!existsSync(out)) return [];
  return readFileSync(out, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('relaunch receiver', () => {
  it('runs the matching command with alert fields as environment variables only', async () => {
    const keep = join(dir.path, 'keep');
    writeFileSync(keep, 'x');
    const pwned = join(dir.path, 'pwned');
    const evil = `$(touch ${pwned}) \`touch ${pwned}\`; rm -rf ${keep} && touch ${pwned} | sh -c 'touch ${pwned}' "quoted" > ${pwned}`;
    const res = await post(body('firing', { alertname: 'app-down', host: `web-1; touch ${pwned}`, severity: 'critical' }, { summary: evil, description: 'line1\nline2' }));
    expect(res.status).toBe(202);
    expect(res.json.runs).toEqual([{ action: 'restart-app', fingerprint: 'abc' }]);
    await rx.idle();
    const [run] = runs();
    expect(run!.argv).toEqual([out]);
    expect(run!.env).toMatchObject({
      RINGTAIL_ACTION: 'restart-app',
      RINGTAIL_ALERT_STATUS: 'firing',
      RINGTAIL_ALERT_NAME: 'app-down',
      RINGTAIL_ALERT_HOST: `web-1; touch ${pwned}`,
      RINGTAIL_ALERT_SEVERITY: 'critical',
      RINGTAIL_ALERT_SUMMARY: evil,
      RINGTAIL_ALERT_DESCRIPTION: 'line1\nline2',
      RINGTAIL_ALERT_FINGERPRINT: 'abc',
      RINGTAIL_WEBHOOK_ID: res.headers['webhook-id'],
    });
    expect(JSON.parse(run!.env.RINGTAIL_ALERT_LABELS!).host).toBe(`web-1; touch ${pwned}`);
    expect(existsSync(pwned)).toBe(false);
    expect(existsSync(keep)).toBe(true);
  });

  it('rejects bad input with 4xx, runs nothing, and keeps serving', async () => {
    const good = body('firing', { alertname: 'app-down' });
    const now = Date.now();
    const cases: Array<[string, string, DeliveryHeaders, number]> = [
      ['bad signature', good, { ...signedHeaders(SECRET, 'msg_1', now, good), 'webhook-signature': 'v1,' + Buffer.alloc(32).toString('base64') }, 401],
      ['signed with another secret', good, signedHeaders(generateSecret(), 'msg_2', now, good), 401],
      ['body changed after signing', good.replace('app-down', 'app-up'), signedHeaders(SECRET, 'msg_3', now, good), 401],
      ['stale timestamp', good, signedHeaders(SECRET, 'msg_4', now - 301_000, good), 401],
      // well past the 300 s tolerance, so a slow machine between here and the check cannot bring it back inside
      ['timestamp far in the future', good, signedHeaders(SECRET, 'msg_5', now + 600_000, good), 401],
      ['no signature headers', good, {}, 400],
      ['malformed JSON, signed', '{"version": "4", ', signedHeaders(SECRET, 'msg_6', now, '{"version": "4", '), 400],
      ['wrong version, signed', good.replace('"4"', '"3"'), signedHeaders(SECRET, 'msg_7', now, good.replace('"4"', '"3"')), 400],
      ['labels not strings, signed', good.replace('"app-down"', '42'), signedHeaders(SECRET, 'msg_8', now, good.replace('"app-down"', '42')), 400],
    ];
    for (const [name, payload, headers, status] of cases) {
      const res = await post(payload, headers);
      expect(res.status, name).toBe(status);
      expect(res.json.message, name).toBeTruthy();
    }
    const big = 'x'.repeat(70 * 1024);
    expect((await post(big, signedHeaders(SECRET, 'msg_9', now, big))).status).toBe(413);
    expect((await fetch(rx.url + '/')).status).toBe(405);
    await rx.idle();
    expect(runs()).toEqual([]);
    expect((await fetch(rx.url + '/healthz')).status).toBe(200);
    expect(logs).toContain('relaunch.rejected');
  });

  it('drops a webhook-id it has handled, also after a restart', async () => {
    const payload = body('firing', { alertname: 'app-down' });
    const headers = signedHeaders(SECRET, messageId(), Date.now(), payload);
    expect((await post(payload, headers)).status).toBe(202);
    const again = await post(payload, headers);
    expect(again.status).toBe(200);
    expect(again.json.status).toBe('duplicate');
    await rx.close();
    await rx.idle();
    await start();
    expect((await post(payload, headers)).json.status).toBe('duplicate');
    await rx.idle();
    expect(runs()).toHaveLength(1);
  });

  it('takes webhook ids and action names such as __proto__ and constructor as the strings they are', async () => {
    const ids = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'];
    await rx.close();
    await start({ actions: [{ name: 'constructor', match: { alertname: 'app-down' }, command: [process.execPath, join(dir.path, 'record.mjs'), out], max_runs: 100 }] });
    const payload = body('firing', { alertname: 'app-down' });
    for (const id of ids) {
      const first = await post(payload, signedHeaders(SECRET, id, Date.now(), payload));
      expect(first.status, id).toBe(202);
      expect(first.json.runs, id).toEqual([{ action: 'constructor', fingerprint: 'abc' }]);
    }
    for (const id of ids) expect((await post(payload, signedHeaders(SECRET, id, Date.now(), payload))).json.status, id).toBe('duplicate');
    // on disk as before: one JSON object of ids, written atomically; read back after a restart
    const onDisk = JSON.parse(readFileSync(join(dir.path, 'state', 'relaunch-state.json'), 'utf8'));
    expect(Object.keys(onDisk.handled).sort()).toEqual([...ids].sort());
    expect(Object.keys(onDisk.actions)).toEqual(['constructor']);
    expect(onDisk.actions.constructor.runs).toHaveLength(ids.length);
    await rx.close();
    await rx.idle();
    await start({ actions: [{ name: 'constructor', match: { alertname: 'app-down' }, command: [process.execPath, join(dir.path, 'record.mjs'), out], max_runs: 100 }] });
    for (const id of ids) expect((await post(payload, signedHeaders(SECRET, id, Date.now(), payload))).json.status, id).toBe('duplicate');
    const status = (await (await fetch(rx.url + '/status')).json()) as { handled_ids: number; actions: Array<{ name: string; runs_in_window: number }> };
    expect(status.handled_ids).toBe(ids.length);
    expect(status.actions).toMatchObject([{ name: 'constructor', runs_in_window: ids.length }]);
    await rx.idle();
    expect(runs()).toHaveLength(ids.length);
  });

  it('reads the state file an earlier version wrote', async () => {
    await rx.close();
    await rx.idle();
    const now = Date.now();
    writeFileSync(
      join(dir.path, 'state', 'relaunch-state.json'),
      JSON.stringify({ handled: { msg_earlier: now - 1000 }, actions: { 'restart-app': { runs: [now - 1000, now - 500], suspended_at: null } } }),
    );
    await start();
    const payload = body('firing', { alertname: 'app-down' });
    expect((await post(payload, signedHeaders(SECRET, 'msg_earlier', now, payload))).json.status).toBe('duplicate');
    // two runs in the window already: max_runs 2 suspends the action
    expect((await post(payload)).json.suspended).toEqual(['restart-app']);
  });

  it('acts on resolved only where configured', async () => {
    expect((await post(body('resolved', { alertname: 'app-down' }))).json.runs).toEqual([]);
    expect((await post(body('firing', { alertname: 'cleanup' }))).json.runs).toEqual([]);
    expect((await post(body('resolved', { alertname: 'cleanup' }))).json.runs).toEqual([{ action: 'on-resolved', fingerprint: 'abc' }]);
    await rx.idle();
    expect(runs().map((r) => r.env.RINGTAIL_ALERT_STATUS)).toEqual(['resolved']);
  });

  it('suspends an action after max_runs within its window, persistently, until resumed', async () => {
    for (let i = 0; i < 2; i++) expect((await post(body('firing', { alertname: 'app-down' }))).json.runs).toHaveLength(1);
    const third = await post(body('firing', { alertname: 'app-down' }));
    expect(third.status).toBe(202);
    expect(third.json).toMatchObject({ runs: [], suspended: ['restart-app'] });
    const status = (await (await fetch(rx.url + '/status')).json()) as any;
    expect(status.actions.find((a: { name: string }) => a.name === 'restart-app')).toMatchObject({ runs_in_window: 2, max_runs: 2 });
    expect(status.actions.find((a: { name: string }) => a.name === 'restart-app').suspended_at).toBeGreaterThan(0);
    expect(logs).toContain('relaunch.action.suspended');
    await rx.idle();
    expect(runs()).toHaveLength(2);

    await rx.close();
    await start();
    expect((await post(body('firing', { alertname: 'app-down' }))).json.suspended).toEqual(['restart-app']);
    await rx.close();
    await start({ resume: true });
    expect((await post(body('firing', { alertname: 'app-down' }))).json.runs).toHaveLength(1);
    await waitFor('third run', () => runs().length === 3);
  });

  it('gives a command the documented environment only: never the webhook secret', async () => {
    const dump = join(dir.path, 'env.jsonl');
    writeFileSync(
      join(dir.path, 'dump-env.mjs'),
      `import { appendFileSync } from 'node:fs';
       appendFileSync(process.argv[2], JSON.stringify(process.env) + '\\n');`,
    );
    // relaunch runs in this process here, so this process's environment is relaunch's
    const saved = { ...process.env };
    process.env.RINGTAIL_SECRET = SECRET;
    process.env.APP_CONFIG = '/etc/app.conf';
    process.env.NOT_ASKED_FOR = 'x';
    try {
      await rx.close();
      await start({
        actions: [{ name: 'dump', match: { alertname: 'dump' }, command: [process.execPath, join(dir.path, 'dump-env.mjs'), dump], env: ['APP_CONFIG', 'UNSET_NAME'] }],
      });
      const res = await post(body('firing', { alertname: 'dump', host: 'web-1' }));
      expect(res.status).toBe(202);
      await rx.idle();
      const env = JSON.parse(readFileSync(dump, 'utf8').trim()) as Record<string, string>;
      const alertVars = ['STATUS', 'NAME', 'HOST', 'SEVERITY', 'SUMMARY', 'DESCRIPTION', 'STARTS_AT', 'ENDS_AT', 'FINGERPRINT', 'LABELS', 'ANNOTATIONS'].map((k) => `RINGTAIL_ALERT_${k}`);
      const passed = ['PATH', 'HOME', 'LANG'].filter((k) => process.env[k] !== undefined);
      expect(Object.keys(env).sort()).toEqual([...passed, 'APP_CONFIG', 'RINGTAIL_ACTION', 'RINGTAIL_WEBHOOK_ID', ...alertVars].sort());
      for (const k of passed) expect(env[k]).toBe(process.env[k]);
      expect(env.APP_CONFIG).toBe('/etc/app.conf');
      expect(JSON.stringify(env)).not.toContain(SECRET);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it.each([
    [['RINGTAIL_SECRET'], "actions[0].env[0]", 'the webhook secret is never passed to a command'],
    [['TZ', 'RINGTAIL_ALERT_NAME'], "actions[0].env[1]", 'set by relaunch'],
    [['RINGTAIL_EVIDENCE_FILE'], "actions[0].env[0]", 'set by relaunch'],
  ])('refuses an env allow-list naming %j', async (names, key, why) => {
    await rx.close();
    const bad = start({ actions: [{ name: 'a', command: ['true'], env: names }] });
    await expect(bad).rejects.toThrow(ConfigError);
    await expect(bad).rejects.toThrow(key);
    await expect(bad).rejects.toThrow(why);
    // afterEach closes rx again: give it a running receiver
    await start();
  });
});
