// Relaunch in seconds (issue 18, item 4), with default settings: no shortened interval anywhere
// (agent rounds every 10 s, rule evaluation every 10 s), the default `process-down` rule on the
// agent's pidfile check. The process check's watch notices the death between rounds and ships it
// out of band, the collector evaluates the rule on arrival, the webhook reaches a real
// `ringtail relaunch`, whose command starts the app again; the restart is noticed the same way.
// Asserts kill → relaunched < 5 s and kill → resolved < 10 s: the periodic path alone takes
// 10–25 s (issue 18's figures), so only the fast path passes.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../shared/webhook-signature.js';
import { api, ringtail, runRingtail, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';

const ADMIN = 'rt_admin_e2e_relaunch_token_0123456789';
const SECRET = generateSecret();
const procs: Proc[] = [];
const dirs: Array<{ path: string; cleanup(): void }> = [];
let appDir = '';
let appLog = '';
let pidfile = '';

function appPid(): number | null {
  return existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) || null : null;
}
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const appPids: number[] = [];
afterAll(async () => {
  for (const pid of appPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const p of procs.reverse()) await p.kill('SIGTERM');
  for (const d of dirs) {
    if (!process.env.KEEP) d.cleanup();
    else console.log('kept', d.path);
  }
});

async function startedLine(p: Proc, what: string): Promise<string> {
  return waitFor(what, () => {
    if (p.child.exitCode !== null) throw new Error(`${what} exited: ${p.stderr()}`);
    return /listening on (http:\/\/\S+)/.exec(p.stdout())?.[1];
  }, 30_000);
}

describe('relaunch in seconds, default settings', () => {
  it('kill → relaunched < 5 s → resolved < 10 s, through the default process-down rule', async () => {
    const dir = tempDir('ringtail-fast-loop-');
    dirs.push(dir);
    appDir = join(dir.path, 'app');
    appLog = join(appDir, 'app.log');
    pidfile = join(appDir, 'app.pid');
    mkdirSync(appDir, { recursive: true });
    // The demo application: a pidfile and a heartbeat line every 200 ms, until killed.
    writeFileSync(
      join(appDir, 'app.mjs'),
      `import { appendFileSync, writeFileSync } from 'node:fs';
       const [log, pidfile] = process.argv.slice(2);
       writeFileSync(pidfile, String(process.pid));
       let n = 0;
       setInterval(() => appendFileSync(log, 'demo app alive ' + (n++) + ' pid ' + process.pid + '\\n'), 200);`,
    );
    // What `systemctl start app` would be: start the app detached and return.
    writeFileSync(
      join(appDir, 'start-app.mjs'),
      `import { spawn } from 'node:child_process';
       import { appendFileSync } from 'node:fs';
       const [app, log, pidfile, record] = process.argv.slice(2);
       appendFileSync(record, JSON.stringify({ at: Date.now(), host: process.env.RINGTAIL_ALERT_HOST, summary: process.env.RINGTAIL_ALERT_SUMMARY }) + '\\n');
       spawn(process.execPath, [app, log, pidfile], { detached: true, stdio: 'ignore' }).unref();`,
    );
    const record = join(dir.path, 'relaunches.jsonl');
    const startArgv = [process.execPath, join(appDir, 'start-app.mjs'), join(appDir, 'app.mjs'), appLog, pidfile, record];

    writeFileSync(
      join(dir.path, 'relaunch.json'),
      JSON.stringify({
        listen: '127.0.0.1:0',
        state: join(dir.path, 'relaunch-state'),
        actions: [{ name: 'restart-demo', match: { alertname: 'process-down', host: 'demo-host' }, command: startArgv, max_runs: 3, within_s: 600 }],
      }),
    );
    const relaunch = ringtail(['relaunch', '--config', join(dir.path, 'relaunch.json')], { RINGTAIL_SECRET: SECRET });
    procs.push(relaunch);
    const relaunchUrl = await startedLine(relaunch, 'relaunch to listen');

    const data = join(dir.path, 'data');
    writeFileSync(
      join(dir.path, 'collector.json'),
      JSON.stringify({
        alerts: {
          // default evaluation interval and default rules (process-down for each process check)
          webhooks: [{ name: 'relaunch', url: relaunchUrl + '/hook', secret: SECRET }],
        },
      }),
    );
    const created = await runRingtail(['token', 'create', '--data', data, '--role', 'agent']);
    expect(created.code).toBe(0);
    const collector = await startCollectorProc(data, ADMIN, ['--config', join(dir.path, 'collector.json')]);
    procs.push(collector.proc);

    // The app runs, the agent follows its log.
    await new Promise<void>((resolve, reject) => {
      const p = spawn(startArgv[0]!, startArgv.slice(1), { stdio: 'ignore' });
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`start-app exited ${code}`))));
    });
    // The agent starts once the app runs, so its first check round sees it.
    const firstPid = await waitFor('the app to write its pidfile', () => appPid() ?? undefined);
    appPids.push(firstPid);
    writeFileSync(
      join(dir.path, 'agent.json'),
      JSON.stringify({
        collector: collector.url,
        watch: [appLog],
        state: join(dir.path, 'agent-state'),
        host: 'demo-host',
        metrics: { families: ['load'] },
        checks: { processes: [{ name: 'demo', pidfile }] },
      }),
    );
    const agent = ringtail(['agent', '--config', join(dir.path, 'agent.json')], { RINGTAIL_TOKEN: created.stdout.trim() });
    procs.push(agent);
    await waitFor('app lines at the collector', async () => {
      const page = await api<{ items: unknown[] }>(collector.url, ADMIN, '/api/v1/logs?host=demo-host&limit=5');
      return page.items.length >= 3;
    }, 20_000);
    await waitFor('the process check at the collector', async () => {
      const m = await api<{ items: Array<{ metric: string }> }>(collector.url, ADMIN, '/api/v1/metrics?host=demo-host');
      return m.items.some((i) => i.metric === 'check.process.count{check=demo}');
    }, 20_000);
    type Alerts = { items: Array<{ rule: string; state: string; host: string }> };
    expect((await api<Alerts>(collector.url, ADMIN, '/api/v1/alerts')).items.filter((a) => a.rule === 'process-down')).toEqual([]);

    // Kill it.
    const killedAt = Date.now();
    process.kill(firstPid, 'SIGKILL');
    await waitFor('the app to die', () => !alive(firstPid));

    // The history, not the current state: the loop can close (relaunch, resolve) within one
    // sampling interval, faster than a poll of /api/v1/alerts on a loaded machine would see it.
    type History = { items: Array<{ event: string; rule: string; host: string }> };
    const firing = await waitFor('the alert to fire', async () => {
      const h = await api<History>(collector.url, ADMIN, '/api/v1/alerts/history?rule=process-down');
      return h.items.find((x) => x.event === 'firing');
    }, 30_000, 50);
    const firedAt = Date.now();
    expect(firing.host).toBe('demo-host');

    const secondPid = await waitFor('the app to be relaunched', () => {
      const pid = appPid();
      return pid !== null && pid !== firstPid && alive(pid) ? pid : undefined;
    }, 30_000, 50);
    appPids.push(secondPid);
    const relaunchedAt = Date.now();

    await waitFor('the alert to resolve', async () => {
      const h = await api<{ items: Array<{ event: string; rule: string }> }>(collector.url, ADMIN, '/api/v1/alerts/history?rule=process-down');
      return h.items[0]?.event === 'resolved';
    }, 30_000, 50);
    const resolvedAt = Date.now();
    expect((await api<Alerts>(collector.url, ADMIN, '/api/v1/alerts')).items.filter((a) => a.rule === 'process-down')).toEqual([]);

    console.log(`relaunch fast loop (default settings): kill → firing ${firedAt - killedAt} ms, → app relaunched ${relaunchedAt - killedAt} ms, → resolved ${resolvedAt - killedAt} ms`);
    expect(relaunchedAt - killedAt).toBeLessThan(5_000);
    expect(resolvedAt - killedAt).toBeLessThan(10_000);

    // exactly one relaunch: repeated arrivals of the dead state did not notify twice
    const runs = readFileSync(record, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(runs).toHaveLength(2); // the test's own first start, then the relaunch
    expect(runs[1]).toMatchObject({ host: 'demo-host' });
    const h = await api<{ items: Array<{ event: string }> }>(collector.url, ADMIN, '/api/v1/alerts/history?rule=process-down');
    expect(h.items.filter((x) => x.event === 'firing')).toHaveLength(1);
  }, 120_000);
});
