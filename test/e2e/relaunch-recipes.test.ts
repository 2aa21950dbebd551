// docs/relaunch.md's three recipes, end to end from a failing check to the command run: a real
// agent's process checks fail (no pidfile), the collector's check rules fire, the signed webhooks
// reach a real `ringtail relaunch`, whose actions run `systemctl restart`, `docker restart` and
// deploy/relaunch/aws-replace-instance.sh (→ `aws autoscaling …`). systemctl, docker and aws are
// stand-ins first on relaunch's PATH that record their arguments.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { generateSecret } from '../../shared/webhook-signature.js';
import { createToken, listeningUrl, ringtail, spawnProc, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';

const ADMIN = 'rt_admin_e2e_recipes_0123456789abcd';
const SECRET = generateSecret();
const AWS_SCRIPT = fileURLToPath(new URL('../../deploy/relaunch/aws-replace-instance.sh', import.meta.url));
const HOST = 'i-0123456789abcdef0';
const dir = tempDir('ringtail-recipes-');
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs.reverse()) await p.kill('SIGTERM');
  if (!process.env.KEEP) dir.cleanup();
});

function standIn(bin: string, name: string, record: string): void {
  const f = join(bin, name);
  // one JSON line per run: the program's name and its arguments, exactly as received
  writeFileSync(f, `#!/bin/sh\nnode -e 'require("fs").appendFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)) + "\\n")' ${JSON.stringify(record)} ${name} "$@"\n`);
  chmodSync(f, 0o755);
}

function runs(record: string): string[][] {
  return existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]) : [];
}

it('a failing check → alert → webhook → systemctl restart, docker restart, aws autoscaling', async () => {
  const bin = join(dir.path, 'bin');
  mkdirSync(bin);
  const record = join(dir.path, 'commands.jsonl');
  for (const name of ['systemctl', 'docker', 'aws']) standIn(bin, name, record);
  // node must stay reachable for the stand-ins; they come first
  const nodeDir = process.execPath.replace(/\/[^/]+$/, '');
  const PATH = `${bin}:${nodeDir}:/usr/bin:/bin`;

  writeFileSync(
    join(dir.path, 'relaunch.json'),
    JSON.stringify({
      listen: '127.0.0.1:0',
      state: join(dir.path, 'relaunch-state'),
      actions: [
        { name: 'restart-unit', match: { alertname: 'app-down' }, command: ['systemctl', 'restart', 'app.service'], max_runs: 3, within_s: 600 },
        { name: 'restart-container', match: { alertname: 'container-down' }, command: ['docker', 'restart', 'app'], max_runs: 3, within_s: 600 },
        { name: 'replace-instance', match: { alertname: 'instance-down' }, match_re: { host: 'i-[0-9a-f]+' }, command: [AWS_SCRIPT, 'unhealthy'], max_runs: 1, within_s: 3600 },
      ],
    }),
  );
  const relaunch = ringtail(['relaunch', '--config', join(dir.path, 'relaunch.json')], { RINGTAIL_SECRET: SECRET, PATH });
  procs.push(relaunch);
  const relaunchUrl = await listeningUrl(relaunch, 'relaunch');

  const data = join(dir.path, 'data');
  const check = (name: string, checkName: string) => ({ kind: 'check', name, host: HOST, check: checkName, annotations: { summary: `${checkName} is down` } });
  writeFileSync(
    join(dir.path, 'collector.json'),
    JSON.stringify({
      alerts: {
        evaluation_interval_ms: 250,
        rules: [check('app-down', 'app'), check('container-down', 'container'), check('instance-down', 'heartbeat')],
        webhooks: [{ name: 'relaunch', url: relaunchUrl + '/hook', secret: SECRET, backoff_base_ms: 200 }],
      },
    }),
  );
  const agentToken = await createToken(['--data', data]);
    const collector = await startCollectorProc(data, ADMIN, ['--config', join(dir.path, 'collector.json')]);
  procs.push(collector.proc);

  // the three checks fail: their pidfiles do not exist
  writeFileSync(join(dir.path, 'app.log'), '');
  const pid = (n: string) => join(dir.path, `${n}.pid`);
  writeFileSync(
    join(dir.path, 'agent.json'),
    JSON.stringify({
      collector: collector.url,
      watch: [join(dir.path, 'app.log')],
      state: join(dir.path, 'agent-state'),
      host: HOST,
      metrics: { interval_ms: 1000, families: ['load'] },
      checks: { processes: [{ name: 'app', pidfile: pid('app') }, { name: 'container', pidfile: pid('container') }, { name: 'heartbeat', pidfile: pid('heartbeat') }] },
    }),
  );
  const agent = ringtail(['agent', '--config', join(dir.path, 'agent.json')], { RINGTAIL_TOKEN: agentToken });
  procs.push(agent);

  const all = await waitFor('the three commands', () => {
    const r = runs(record);
    return r.length >= 3 ? r : undefined;
  }, 60_000, 100);
  expect(all.sort()).toEqual([
    ['aws', 'autoscaling', 'set-instance-health', '--instance-id', HOST, '--health-status', 'Unhealthy', '--no-should-respect-grace-period'],
    ['docker', 'restart', 'app'],
    ['systemctl', 'restart', 'app.service'],
  ]);
});

it('aws-replace-instance.sh refuses a host that is not an instance id, and has a terminate mode', async () => {
  const bin = join(dir.path, 'bin2');
  mkdirSync(bin);
  const record = join(dir.path, 'aws.jsonl');
  standIn(bin, 'aws', record);
  const PATH = `${bin}:${process.execPath.replace(/\/[^/]+$/, '')}:/usr/bin:/bin`;
  const run = async (host: string, mode?: string) => {
    const p = spawnProc(AWS_SCRIPT, mode ? [mode] : [], { PATH, RINGTAIL_ALERT_HOST: host });
    return { ...(await p.exited), stderr: p.stderr() };
  };
  const bad = await run('i-0123; reboot');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toMatch(/not an EC2 instance id/);
  expect((await run('web-1')).code).toBe(2);
  expect(runs(record)).toEqual([]);
  expect((await run(HOST, 'terminate')).code).toBe(0);
  expect(runs(record)).toEqual([['aws', 'autoscaling', 'terminate-instance-in-auto-scaling-group', '--instance-id', HOST, '--no-should-decrement-desired-capacity']]);
});
