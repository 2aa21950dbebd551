// From a collector's firing webhook to a relaunch command, over real sockets, with a real shell
// script as the command: the evidence reaches it as files (private, 0600, removed after the
// command ends) and small environment variables, never as arguments; log text holding shell
// syntax or markup stays text all the way; the webhook secret never reaches the command.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startReceiver, type Receiver } from '../../cli/relaunch/receiver.js';
import { memorySources } from '../../collector/alerts/sources.js';
import { createLogger } from '../../shared/logger.js';
import { generateSecret, messageId, signedHeaders } from '../../shared/webhook-signature.js';
import { batchOf } from '../helpers/collector.js';
import { alertsRig, bearer } from '../helpers/alerts.js';
import { waitFor } from '../helpers/proc.js';

const SECRET = generateSecret();
const rig = alertsRig('ringtail-relaunch-evidence-');
let rx: Receiver | undefined;
const savedSecret = process.env.RINGTAIL_SECRET;
const savedTmp = process.env.TMPDIR;

afterEach(async () => {
  await rx?.close();
  await rx?.idle();
  rx = undefined;
  if (savedSecret === undefined) delete process.env.RINGTAIL_SECRET;
  else process.env.RINGTAIL_SECRET = savedSecret;
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
});

describe('relaunch gets the evidence as files', () => {
  it('copies evidence and env from files the command reads; shell syntax stays inert; files removed after', async () => {
    // relaunch's own environment holds the secret: it must not reach the command
    process.env.RINGTAIL_SECRET = SECRET;
    const dump = join(rig.dir.path, 'dump');
    const pwned = join(rig.dir.path, 'pwned');
    const script = join(rig.dir.path, 'dump.sh');
    // A real shell script, quoting its variables as a careful operator would.
    writeFileSync(
      script,
      `set -eu
mkdir -p "$1"
cp "$RINGTAIL_EVIDENCE_FILE" "$1/evidence.json"
cp "$RINGTAIL_ALERT_LINES_FILE" "$1/lines.txt"
stat -c '%a' "$(dirname "$RINGTAIL_EVIDENCE_FILE")" "$RINGTAIL_EVIDENCE_FILE" "$RINGTAIL_ALERT_LINES_FILE" > "$1/modes"
env > "$1/env"
printf '%s\\n' "$RINGTAIL_EVIDENCE_FILE" "$RINGTAIL_ALERT_LINES_FILE" > "$1/paths"
`,
    );
    const hostile = [`$(touch ${pwned})`, `\`touch ${pwned}\``, `<script>alert(1)</script>`, `x; touch ${pwned} #`, 'first\nsecond'];
    const logs: string[] = [];
    rx = await startReceiver({
      config: {
        listen: '127.0.0.1:0',
        secret: SECRET,
        state: join(rig.dir.path, 'relaunch-state'),
        tolerance_s: 300,
        body_limit: 1024 * 1024,
        resume: false,
        actions: [{ name: 'restart-app', match: { alertname: 'app-down' }, command: ['/bin/sh', script, dump] }],
      },
      log: createLogger({ write: (s: string) => (logs.push(s), true) } as unknown as NodeJS.WritableStream, 'info'),
      clock: rig.clock.now,
    });

    const src = memorySources();
    const t = rig.clock.t;
    src.point('web-1', 'check.process.count{check=app}', t, 0);
    const app = await rig.start(
      {
        external_url: 'http://collector.example',
        webhooks: [{ name: 'relaunch', url: rx.url + '/', secret: SECRET }],
        rules: [{ kind: 'check', name: 'app-down', check: 'app', check_types: ['process'] }],
      },
      src,
    );
    const token = (await app.storage.tokens.create('agent', 'agent', t)).token;
    rig.clock.advance(-1000);
    for (const [i, msgs] of [hostile, ['y'.repeat(1_000_000)], ['just info']].entries()) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: bearer(token),
        payload: batchOf(msgs, { ts: rig.clock.t + i, host: 'web-1', stream: `s${i}`, severity: i === 2 ? 6 : 3, program: 'app' }),
      });
      expect(res.statusCode).toBe(200);
    }
    rig.clock.advance(1000);

    expect((await app.alerts.evaluator.cycle()).notifications).toBe(1);
    await app.alerts.outbox.drain();
    expect((await app.alerts.store.pendingCount())).toBe(0);
    await waitFor('the command to write its dump', () => existsSync(join(dump, 'paths')), 10_000);
    await rx.idle();

    const ev = JSON.parse(readFileSync(join(dump, 'evidence.json'), 'utf8'));
    expect(ev.host).toBe('web-1');
    expect(ev.dashboard_url).toBe(`http://collector.example/#/host/web-1?from=${t - 30 * 60_000}&to=${t + 5 * 60_000}`);
    expect(ev.check).toMatchObject({ name: 'app', status: 'down' });
    expect(ev.lines.map((l: { message: string }) => l.message).slice(0, hostile.length)).toEqual(hostile);
    const big = ev.lines.at(-1);
    expect(big).toMatchObject({ truncated: true, bytes: 1_000_000 });
    expect(big.message.length).toBeLessThanOrEqual(1024);
    expect(ev.lines.some((l: { message: string }) => l.message === 'just info')).toBe(false);

    // the text file: one line per log line, a newline inside a message shown as \n
    const text = readFileSync(join(dump, 'lines.txt'), 'utf8').split('\n').filter(Boolean);
    expect(text).toHaveLength(hostile.length + 1);
    expect(text[0]).toBe(`${new Date(t - 1000).toISOString()} err /var/log/app.log/app: $(touch ${pwned})`);
    expect(text[4]).toMatch(/: first\\nsecond$/);
    expect(text[5]).toMatch(/: y+ \[truncated, 1000000 bytes\]$/);

    // private while it existed, gone after the command ended
    expect(readFileSync(join(dump, 'modes'), 'utf8').split('\n').filter(Boolean)).toEqual(['700', '600', '600']);
    const [evFile, linesFile] = readFileSync(join(dump, 'paths'), 'utf8').split('\n');
    expect(existsSync(evFile!)).toBe(false);
    expect(existsSync(linesFile!)).toBe(false);
    expect(existsSync(join(evFile!, '..'))).toBe(false);

    const env = readFileSync(join(dump, 'env'), 'utf8');
    expect(env).toContain(`RINGTAIL_ALERT_DASHBOARD_URL=${ev.dashboard_url}\n`);
    expect(env).toContain(`RINGTAIL_EVIDENCE_FILE=${evFile}\n`);
    expect(env).toContain('RINGTAIL_ALERT_NAME=app-down\n');
    expect(env).not.toContain('RINGTAIL_SECRET');
    expect(env).not.toContain(SECRET);
    // nothing of the log text ran
    expect(existsSync(pwned)).toBe(false);
    expect(logs.join('')).toContain('relaunch.run.ok');
  });

  it('evidence that cannot be written (no temp dir) does not stop the run: it goes without, and says so', async () => {
    const out = join(rig.dir.path, 'env.json');
    const script = join(rig.dir.path, 'record.mjs');
    writeFileSync(script, `import { writeFileSync } from 'node:fs'; writeFileSync(process.argv[2], JSON.stringify(process.env));`);
    const logs: string[] = [];
    rx = await startReceiver({
      config: { listen: '127.0.0.1:0', secret: SECRET, state: join(rig.dir.path, 'st'), tolerance_s: 300, body_limit: 65536, resume: false, actions: [{ name: 'restart-app', match: { alertname: 'app-down' }, command: [process.execPath, script, out] }] },
      log: createLogger({ write: (s: string) => (logs.push(s), true) } as unknown as NodeJS.WritableStream, 'info'),
    });
    process.env.TMPDIR = join(rig.dir.path, 'no', 'such', 'dir');
    const payload = JSON.stringify({
      version: '4', status: 'firing', receiver: 'r', groupKey: 'g', truncatedAlerts: 0, groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: '',
      alerts: [{ status: 'firing', labels: { alertname: 'app-down' }, annotations: {}, startsAt: '2026-01-01T00:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: '', fingerprint: 'f1',
        ringtail: { evidence: { host: 'h', dashboard_url: 'http://d/#/host/h', lines: [{ ts: 1, severity: 3, level: 'err', source: 's', program: null, message: '$(id)' }] } } }],
    });
    const res = await fetch(rx.url + '/', { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, messageId(), Date.now(), payload) }, body: payload });
    expect(res.status).toBe(202);
    await rx.idle();
    const env = JSON.parse(readFileSync(out, 'utf8'));
    expect(env.RINGTAIL_ALERT_NAME).toBe('app-down');
    expect(env.RINGTAIL_EVIDENCE_FILE).toBeUndefined();
    expect(env.RINGTAIL_ALERT_LINES_FILE).toBeUndefined();
    const done = logs.map((l) => JSON.parse(l)).find((l) => l.event === 'relaunch.run.ok');
    expect(done.evidence_error).toMatch(/ENOENT/);
  });
});
