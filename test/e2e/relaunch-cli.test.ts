// `ringtail relaunch` refuses a bad configuration with one line naming the key, exit status 2.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRingtail, tempDir } from '../helpers/proc.js';

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
});
