// Issue 15 item 3 end to end: the cloud-init user data documented in docs/enrollment.md, run
// (minus the cloud) with bash in a temporary root against a real collector on 127.0.0.1. Only
// paths and the four variables are substituted; the agent is dist/ringtail-agent when the build
// made one, else a two-line stand-in that runs `bin/ringtail agent`.
import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { storedTokenPath } from '../../agent/enroll.js';
import { alive, allLogs, api, BIN, createToken, runRingtail, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';

const ADMIN = 'rt_admin_enroll_e2e_0123456789abcdef';
const DOC = fileURLToPath(new URL('../../docs/enrollment.md', import.meta.url));
const ONE_FILE_AGENT = fileURLToPath(new URL('../../dist/ringtail-agent', import.meta.url));

/** The shell script between the doc's user-data markers. */
function userData(): string {
  const m = /<!-- user-data -->\s*```sh\n([\s\S]*?)```\s*<!-- \/user-data -->/.exec(readFileSync(DOC, 'utf8'));
  if (!m) throw new Error('docs/enrollment.md has no user-data block');
  return m[1]!;
}

interface Instance {
  root: string;
  host: string;
  state: string;
  log: string;
  agentLog: string;
  pid(): number | undefined;
}

const dir = tempDir('ringtail-userdata-');
const started: number[] = [];
let collector: Proc | undefined;

afterAll(async () => {
  for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGTERM');
  await waitFor('agents to stop', () => started.every((p) => !alive(p)), 20_000).catch(() => undefined);
  await collector?.kill();
  dir.cleanup();
});

/** The agent the script downloads (from a file:// URL, as curl fetches any). */
function agentArtifact(): string {
  if (existsSync(ONE_FILE_AGENT)) return ONE_FILE_AGENT;
  const stand = join(dir.path, 'artifacts', 'ringtail-agent');
  mkdirSync(join(dir.path, 'artifacts'), { recursive: true });
  writeFileSync(stand, `#!/bin/sh\nexec '${process.execPath}' '${BIN}' agent "$@"\n`);
  chmodSync(stand, 0o755);
  return stand;
}

async function launch(name: string, url: string, enrollToken: string): Promise<Instance> {
  const root = join(dir.path, name);
  const sub = (p: string) => join(root, p);
  const script = userData()
    .replace(/^COLLECTOR=.*$/m, `COLLECTOR='${url}'`)
    .replace(/^ENROLL_TOKEN=.*$/m, `ENROLL_TOKEN='${enrollToken}'`)
    .replace(/^AGENT_URL=.*$/m, `AGENT_URL='${pathToFileURL(agentArtifact()).href}'`)
    .replaceAll('/usr/local/bin', sub('usr/local/bin'))
    .replaceAll('/etc/', sub('etc/'))
    .replaceAll('/var/lib/', sub('var/lib/'))
    .replaceAll('/var/log/', sub('var/log/'))
    .replaceAll('/run/', sub('run/'));
  // the instance's own log, there before the agent (as a booting instance's syslog is)
  mkdirSync(sub('var/log'), { recursive: true });
  mkdirSync(sub('run'), { recursive: true });
  const log = sub('var/log/app.log');
  writeFileSync(log, `${name} booted\n${name} service up\n`);
  writeFileSync(sub('user-data.sh'), script);
  const res = await new Promise<{ code: number; stderr: string }>((resolve) => {
    // a clean environment: what cloud-init gives a script, plus the instance's host name
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root, RINGTAIL_HOST: name };
    execFile('bash', [sub('user-data.sh')], { env, timeout: 60_000 }, (err, _out, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }));
  });
  expect(res.code, res.stderr).toBe(0);
  const pidFile = sub('run/ringtail-agent.pid');
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  started.push(pid);
  return {
    root,
    host: name,
    state: sub('var/lib/ringtail-agent'),
    log,
    agentLog: sub('var/log/ringtail-agent/agent.log'),
    pid: () => pid,
  };
}

const hosts = (url: string) => api<{ items: Array<{ host: string }> }>(url, ADMIN, '/api/v1/hosts').then((h) => h.items.map((x) => x.host));
const linesOf = async (url: string, host: string) => (await allLogs(url, ADMIN, `&host=${host}`)).map((l) => l.message);
const agentLog = (i: Instance) => (existsSync(i.agentLog) ? readFileSync(i.agentLog, 'utf8') : '');

describe('cloud-init user data (docs/enrollment.md)', () => {
  it('enrolls a new instance; a second with the used-up token and a third after revocation are refused; the first keeps shipping', async () => {
    const data = join(dir.path, 'collector');
    const enrollToken = await createToken(['--data', data], 'enroll', ['--name', 'asg-web', '--uses', '1', '--ttl', '1h']);
    const c = await startCollectorProc(data, ADMIN);
    collector = c.proc;

    // 1. the first instance appears with its lines
    const first = await launch('inst-1', c.url, enrollToken);
    await waitFor('inst-1 in /api/v1/hosts', async () => (await hosts(c.url)).includes('inst-1'), 60_000, 200);
    await waitFor('inst-1 lines', async () => (await linesOf(c.url, 'inst-1')).includes('inst-1 service up'), 30_000, 200);
    expect(existsSync(storedTokenPath(first.state))).toBe(true);
    // the stored token is the agent's own, not the enrollment token; neither is in its log
    const stored = JSON.parse(readFileSync(storedTokenPath(first.state), 'utf8')) as { token: string; host: string };
    expect(stored.host).toBe('inst-1');
    expect(stored.token).toMatch(/^rt_agent_/);
    expect(agentLog(first)).not.toContain(stored.token);
    expect(agentLog(first)).not.toContain(enrollToken);

    // 2. a second instance with the same single-use token is refused, by name
    const second = await launch('inst-2', c.url, enrollToken);
    await waitFor('inst-2 refused', () => agentLog(second).includes('RINGTAIL_ERR_ENROLL_USED_UP'), 30_000, 100);
    expect(existsSync(storedTokenPath(second.state))).toBe(false);
    expect(agentLog(second)).not.toContain(enrollToken);
    // ... while the first keeps shipping
    appendFileSync(first.log, 'inst-1 after the second was refused\n');
    await waitFor('inst-1 still shipping', async () => (await linesOf(c.url, 'inst-1')).includes('inst-1 after the second was refused'), 30_000, 200);

    // 3. revoke the enrollment token: a new instance is refused, the running one ships on
    const list = await runRingtail(['token', 'list', '--data', data]);
    const enrollRecord = list.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; role: string; uses?: number }).find((t) => t.role === 'enroll')!;
    expect(enrollRecord.uses).toBe(1);
    const revoked = await runRingtail(['token', 'revoke', '--data', data, '--id', enrollRecord.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    const third = await launch('inst-3', c.url, enrollToken);
    await waitFor('inst-3 refused', () => agentLog(third).includes('RINGTAIL_ERR_ENROLL_REVOKED'), 30_000, 100);
    expect(existsSync(storedTokenPath(third.state))).toBe(false);
    appendFileSync(first.log, 'inst-1 after the revocation\n');
    await waitFor('inst-1 ships after revocation', async () => (await linesOf(c.url, 'inst-1')).includes('inst-1 after the revocation'), 30_000, 200);
    expect(alive(first.pid()!)).toBe(true);

    const all = await hosts(c.url);
    expect(all).toContain('inst-1');
    expect(all).not.toContain('inst-2');
    expect(all).not.toContain('inst-3');
    // the collector logged and counted each refusal
    const metrics = await fetch(`${c.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } }).then((r) => r.text());
    expect(metrics).toMatch(/ringtail_events_total\{event="enroll\.refused"\} 2\b/);
    expect(metrics).toMatch(/ringtail_events_total\{event="enroll\.issued"\} 1\b/);
  }, 240_000);
});
