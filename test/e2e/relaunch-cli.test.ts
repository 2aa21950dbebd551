// `ringtail relaunch` refuses a bad configuration with one line naming the key, exit status 2;
// the real process hands its commands the documented environment, never RINGTAIL_SECRET.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { messageId, signedHeaders } from '../../shared/webhook-signature.js';
import { listeningUrl, ringtail, runRingtail, tempDir, waitFor } from '../helpers/proc.js';

const dir = tempDir('ringtail-relaunch-cli-');
afterAll(() => dir.cleanup());
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

function config(obj: unknown): string {
  const f = join(dir.path, `c${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(obj));
  return f;
}

describe('ringtail relaunch options', () => {
  it.each([
    ['no secret', [], { actions: [{ name: 'a', command: ['true'] }] }, {}, '--secret'],
    ['a secret without whsec_', [], { actions: [{ name: 'a', command: ['true'] }] }, { RINGTAIL_SECRET: 'abc' }, '--secret'],
    ['a too short key', [], { actions: [{ name: 'a', command: ['true'] }] }, { RINGTAIL_SECRET: 'whsec_AAAA' }, '--secret'],
    ['no actions', [], {}, { RINGTAIL_SECRET: SECRET }, '--actions'],
    ['a command given as a string', [], { actions: [{ name: 'a', command: 'systemctl restart app' }] }, { RINGTAIL_SECRET: SECRET }, '--actions'],
    ['a bad regex', [], { actions: [{ name: 'a', command: ['true'], match_re: { host: '(' } }] }, { RINGTAIL_SECRET: SECRET }, "actions[0].match_re.host"],
    ['an unknown key', [], { actions: [{ name: 'a', command: ['true'] }], shell: true }, { RINGTAIL_SECRET: SECRET }, "'shell'"],
    ['the secret in an env allow-list', [], { actions: [{ name: 'a', command: ['true'], env: ['TZ', 'RINGTAIL_SECRET'] }] }, { RINGTAIL_SECRET: SECRET }, 'actions[0].env[1]'],
  ])('%s', async (_name, args, cfg, env, key) => {
    const r = await runRingtail(['relaunch', '--config', config(cfg), '--listen', '127.0.0.1:0', ...args], { RINGTAIL_SECRET: '', ...env });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('RINGTAIL_ERR_CONFIG');
    expect(r.stderr).toContain(key);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('prints help derived from the schema', async () => {
    const r = await runRingtail(['relaunch', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--tolerance-s');
    expect(r.stdout).toContain('RINGTAIL_SECRET');
  });

  it('runs a command with the documented environment: the secret it was given never reaches it', async () => {
    const dump = join(dir.path, 'env.json');
    const script = join(dir.path, 'dump-env.mjs');
    writeFileSync(script, `import { writeFileSync } from 'node:fs'; writeFileSync(process.argv[2], JSON.stringify(process.env));`);
    const cfg = config({ actions: [{ name: 'dump', match: { alertname: 'x' }, command: [process.execPath, script, dump], env: ['APP_CONFIG'] }] });
    const p = ringtail(['relaunch', '--config', cfg, '--listen', '127.0.0.1:0', '--state', join(dir.path, 'state')], {
      RINGTAIL_SECRET: SECRET,
      APP_CONFIG: '/etc/app.conf',
      NOT_ASKED_FOR: 'x',
    });
    try {
      const url = await listeningUrl(p, 'relaunch', 'http', 20_000);
      const payload = JSON.stringify({
        version: '4', status: 'firing',
        alerts: [{ status: 'firing', labels: { alertname: 'x' }, annotations: {}, startsAt: '2026-01-01T00:00:00Z', endsAt: '0001-01-01T00:00:00Z', fingerprint: 'f1' }],
      });
      const res = await fetch(url + '/', { method: 'POST', headers: { 'content-type': 'application/json', ...signedHeaders(SECRET, messageId(), Date.now(), payload) }, body: payload });
      expect(res.status).toBe(202);
      await waitFor('the command ran', () => existsSync(dump) && readFileSync(dump, 'utf8').endsWith('}'), 20_000);
      const env = JSON.parse(readFileSync(dump, 'utf8')) as Record<string, string>;
      expect(JSON.stringify(env)).not.toContain(SECRET);
      expect(env.RINGTAIL_SECRET).toBeUndefined();
      expect(env.NOT_ASKED_FOR).toBeUndefined();
      expect(env.APP_CONFIG).toBe('/etc/app.conf');
      expect(env.PATH).toBe(process.env.PATH);
      expect(env.RINGTAIL_ALERT_NAME).toBe('x');
      expect(Object.keys(env).filter((k) => !k.startsWith('RINGTAIL_ALERT_')).sort()).toEqual(
        [...['PATH', 'HOME', 'LANG'].filter((k) => process.env[k] !== undefined), 'APP_CONFIG', 'RINGTAIL_ACTION', 'RINGTAIL_WEBHOOK_ID'].sort(),
      );
    } finally {
      await p.kill('SIGTERM');
    }
  });
});
