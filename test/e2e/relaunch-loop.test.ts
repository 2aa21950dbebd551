// The loop closed end to end with real processes: a demo application (pidfile, a log line every
// 200 ms) is watched by a real agent, both by a process check on its pidfile and by tailing its
// log, and shipped to a real collector. The app is killed → the alert fires → the signed webhook
// reaches a real `ringtail relaunch` → its command starts the app again → the alert resolves.
// Two triggers, one test each: the process check (check rule), and the dead man's switch on the
// app's log (absence rule). Prints kill → resolve times.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSecret } from '../../shared/webhook-signature.js';
import { alive, api, ringtail, runRingtail, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';

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

const TRIGGERS = {
  'process check': {
    rule: { kind: 'check', name: 'demo-app-down', host: 'demo-host', check: 'demo', annotations: { summary: '{{ $labels.host }}: demo app not running', description: '$(touch /tmp/never) is only text' } },
    note: 'process check on the pidfile, agent samples every 1 s',
  },
  'log absence': {
    rule: null,
    note: 'absence threshold 2 s on the app log',
  },
} as const;

describe('kill → alert → signed webhook → relaunch → resolved', () => {
  it.each(Object.keys(TRIGGERS) as Array<keyof typeof TRIGGERS>)('closes the loop with real processes, triggered by the %s', async (trigger) => {
    const dir = tempDir('ringtail-loop-');
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
        actions: [{ name: 'restart-demo', match: { alertname: 'demo-app-down', host: 'demo-host' }, command: startArgv, max_runs: 3, within_s: 600 }],
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
          evaluation_interval_ms: 250,
          // this loop watches its own rule; the default process-down would alert on the same check
          defaults: false,
          rules: [
            TRIGGERS[trigger].rule ?? {
              kind: 'absence',
              name: 'demo-app-down',
              host: 'demo-host',
              source: appLog,
              seconds: 2,
              annotations: { summary: '{{ $labels.host }}: demo app silent for {{ $value }} s', description: '$(touch /tmp/never) is only text' },
            },
          ],
          webhooks: [{ name: 'relaunch', url: relaunchUrl + '/hook', secret: SECRET, backoff_base_ms: 200 }],
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
        batch: { linger_ms: 50 },
        scan_interval_ms: 100,
        metrics: { interval_ms: 1000, families: ['load'] },
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
    expect((await api<Alerts>(collector.url, ADMIN, '/api/v1/alerts')).items).toEqual([]);
    expect((await api<{ items: unknown[] }>(collector.url, ADMIN, '/api/v1/alerts/history')).items).toEqual([]);

    // Kill it.
    const killedAt = Date.now();
    process.kill(firstPid, 'SIGKILL');
    await waitFor('the app to die', () => !alive(firstPid));

    // The history, not the current state: the loop can close (relaunch, resolve) within one
    // sampling interval, faster than a poll of /api/v1/alerts on a loaded machine would see it.
    type History = { items: Array<{ event: string; rule: string; host: string }> };
    const firing = await waitFor('the alert to fire', async () => {
      const h = await api<History>(collector.url, ADMIN, '/api/v1/alerts/history?rule=demo-app-down');
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
      const h = await api<{ items: Array<{ event: string; rule: string }> }>(collector.url, ADMIN, '/api/v1/alerts/history?rule=demo-app-down');
      return h.items[0]?.event === 'resolved';
    }, 30_000, 50);
    const resolvedAt = Date.now();
    expect((await api<Alerts>(collector.url, ADMIN, '/api/v1/alerts')).items).toEqual([]);

    console.log(
      `relaunch loop: kill → firing ${firedAt - killedAt} ms, → app relaunched ${relaunchedAt - killedAt} ms, → resolved ${resolvedAt - killedAt} ms` +
        ` (${TRIGGERS[trigger].note}, evaluation every 250 ms)`,
    );

    // Exactly one relaunch, told which host and why, through environment variables.
    const runs = readFileSync(record, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(runs).toHaveLength(2); // the test's own first start, then the relaunch
    expect(runs[1]).toMatchObject({ host: 'demo-host' });
    expect(runs[1].summary).toMatch(/^demo-host: demo app (not running|silent for \d)/);
    expect(existsSync('/tmp/never')).toBe(false);
    const status = (await (await fetch(relaunchUrl + '/status')).json()) as { actions: Array<{ name: string; runs_in_window: number; suspended_at: number | null }> };
    expect(status.actions[0]).toMatchObject({ name: 'restart-demo', runs_in_window: 1, suspended_at: null });

    // Both notifications went out from the outbox, signed, and were accepted.
    const outbox = await api<{ items: Array<{ state: string }> }>(collector.url, ADMIN, '/api/v1/alerts/outbox');
    expect(outbox.items.map((o) => o.state)).toEqual(['delivered', 'delivered']);
    expect(secondPid).not.toBe(firstPid);
  });
});
