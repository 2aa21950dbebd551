// deploy/systemd/*.service: `systemd-analyze verify` accepts them, they carry the hardening the
// deploy docs promise, and each ExecStart is a command line ringtail accepts. verify checks that
// ExecStart's program exists, so it runs on copies whose install paths point into this checkout
// (/opt/ringtail → the checkout, /usr/local/bin/ringtail-agent → dist/ringtail-agent); nothing
// else is changed.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnProc, tempDir } from '../helpers/proc.js';
import { hasTool } from '../helpers/tools.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
const UNITS = join(ROOT, 'deploy', 'systemd');
const dir = tempDir('ringtail-units-');
afterAll(() => dir.cleanup());

const names = ['ringtail-collector.service', 'ringtail-agent.service', 'ringtail-relaunch.service'];

function unit(name: string): string {
  return readFileSync(join(UNITS, name), 'utf8');
}

/** key=value lines of a unit (last one wins, as for systemd's single-valued keys). */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

function localised(text: string): string {
  return text.replaceAll('/usr/local/bin/ringtail-agent', join(ROOT, 'dist', 'ringtail-agent')).replaceAll('/opt/ringtail', ROOT);
}

function verify(files: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile('systemd-analyze', ['verify', ...files], { env: { ...process.env, SYSTEMD_LOG_COLOR: '0' } }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    ),
  );
}

describe('deploy/systemd units', () => {
  it('are the three the docs name', () => {
    expect(readdirSync(UNITS).filter((f) => f.endsWith('.service')).sort()).toEqual([...names].sort());
  });

  it('carry a dedicated user, a state directory, the sandbox and restart on failure', () => {
    for (const name of names) {
      const d = directives(unit(name));
      expect(d.get('User')?.[0], name).toMatch(/^ringtail/);
      expect(d.get('User')?.[0], name).not.toBe('root');
      expect(d.get('StateDirectory')?.[0], name).toMatch(/^ringtail/);
      expect(d.get('ProtectSystem'), name).toEqual(['strict']);
      expect(d.get('NoNewPrivileges'), name).toEqual(['yes']);
      expect(d.get('Restart'), name).toEqual(['on-failure']);
      // secrets come from an environment file, never from the command line
      expect(d.get('ExecStart')?.[0], name).not.toMatch(/token|secret/i);
    }
    expect(directives(unit('ringtail-agent.service')).get('SupplementaryGroups')).toEqual(['adm']);
    expect(directives(unit('ringtail-collector.service')).get('ExecReload')?.[0]).toMatch(/kill -HUP \$MAINPID/);
  });

  it.skipIf(!hasTool('systemd-analyze', 'systemd'))('pass systemd-analyze verify (and a broken one does not)', async () => {
    const files = names.map((name) => {
      const f = join(dir.path, name);
      writeFileSync(f, localised(unit(name)));
      return f;
    });
    const ok = await verify(files);
    expect(ok.out).toBe('');
    expect(ok.code).toBe(0);
    // the check can fail: a misspelt value is reported
    const broken = join(dir.path, 'ringtail-broken.service');
    writeFileSync(broken, localised(unit('ringtail-collector.service')).replace('Restart=on-failure', 'Restart=on-failures'));
    const bad = await verify([broken]);
    expect(bad.out).toMatch(/ringtail-broken.service:\d+: .*on-failures/);
  });

  it('run command lines ringtail accepts', async () => {
    const config = join(dir.path, 'empty.json');
    writeFileSync(config, '{}');
    for (const name of names) {
      const exec = directives(localised(unit(name))).get('ExecStart')![0]!;
      // systemd splits on spaces here (no quotes in these units); --help parses every flag first
      const [file, ...args] = exec.replace(/--config \S+/, `--config ${config}`).split(' ');
      const p = spawnProc(file!, [...args, '--help'], { PATH: process.env.PATH });
      const { code } = await p.exited;
      expect(p.stderr(), name).toBe('');
      expect(code, name).toBe(0);
      expect(p.stdout(), name).toMatch(/Usage: ringtail (collector|agent|relaunch)/);
    }
  });
});
