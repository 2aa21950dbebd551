// The relaunch loop with real processes, shared by the loop tests (test/e2e/relaunch-loop.test.ts,
// relaunch-fast.test.ts): a demo application (pidfile, a log line every 200 ms) watched by a real
// agent (a process check on its pidfile, its log tailed) shipping to a real collector whose alert
// webhook reaches a real `ringtail relaunch`, whose command starts the app again. Each test
// chooses the rule, the collector's alerts section and the agent's intervals.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { generateSecret } from '../../shared/webhook-signature.js';
import { alive, api, createToken, listeningUrl, ringtail, startCollectorProc, tempDir, waitFor, type Proc } from './proc.js';

export const LOOP_ADMIN = 'rt_admin_e2e_relaunch_token_0123456789';

export interface LoopOptions {
  /** temp directory prefix */
  prefix: string;
  /** the alert name relaunch's action matches */
  alertname: string;
  /** the collector's `alerts` section, given the webhook every loop uses */
  alerts(ctx: { appLog: string; webhook: Record<string, unknown> }): Record<string, unknown>;
  /** the agent's config beyond collector, watch, state, host and the pidfile check */
  agent: Record<string, unknown>;
}

export interface Loop {
  dir: string;
  /** one JSON line per start of the app: the test's own first, then each relaunch */
  record: string;
  relaunchUrl: string;
  collectorUrl: string;
  firstPid: number;
}

export interface LoopTimes {
  killedAt: number;
  firedAt: number;
  relaunchedAt: number;
  resolvedAt: number;
  firing: { event: string; rule: string; host: string };
  secondPid: number;
}

type History = { items: Array<{ event: string; rule: string; host: string }> };

export function relaunchLoops() {
  const secret = generateSecret();
  const procs: Proc[] = [];
  const dirs: Array<{ path: string; cleanup(): void }> = [];
  const appPids: number[] = [];
  let pidfile = '';
  const appPid = (): number | null => (existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8').trim()) || null : null);

  return {
    async cleanup(): Promise<void> {
      for (const pid of appPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
      for (const p of procs.reverse()) await p.kill('SIGTERM');
      for (const d of dirs) {
        if (!process.env.KEEP) d.cleanup();
        else console.log('kept', d.path);
      }
    },

    /** Everything running, the app's lines and its check at the collector. */
    async start(o: LoopOptions): Promise<Loop> {
      const dir = tempDir(o.prefix);
      dirs.push(dir);
      const appDir = join(dir.path, 'app');
      const appLog = join(appDir, 'app.log');
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
          actions: [{ name: 'restart-demo', match: { alertname: o.alertname, host: 'demo-host' }, command: startArgv, max_runs: 3, within_s: 600 }],
        }),
      );
      const relaunch = ringtail(['relaunch', '--config', join(dir.path, 'relaunch.json')], { RINGTAIL_SECRET: secret });
      procs.push(relaunch);
      const relaunchUrl = await listeningUrl(relaunch, 'relaunch');

      const data = join(dir.path, 'data');
      const webhook = { name: 'relaunch', url: relaunchUrl + '/hook', secret };
      writeFileSync(join(dir.path, 'collector.json'), JSON.stringify({ alerts: o.alerts({ appLog, webhook }) }));
      const agentToken = await createToken(['--data', data]);
            const collector = await startCollectorProc(data, LOOP_ADMIN, ['--config', join(dir.path, 'collector.json')]);
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
          ...o.agent,
          checks: { processes: [{ name: 'demo', pidfile }] },
        }),
      );
      procs.push(ringtail(['agent', '--config', join(dir.path, 'agent.json')], { RINGTAIL_TOKEN: agentToken }));
      await waitFor('app lines at the collector', async () => {
        const page = await api<{ items: unknown[] }>(collector.url, LOOP_ADMIN, '/api/v1/logs?host=demo-host&limit=5');
        return page.items.length >= 3;
      }, 20_000);
      await waitFor('the process check at the collector', async () => {
        const m = await api<{ items: Array<{ metric: string }> }>(collector.url, LOOP_ADMIN, '/api/v1/metrics?host=demo-host');
        return m.items.some((i) => i.metric === 'check.process.count{check=demo}');
      }, 20_000);
      return { dir: dir.path, record, relaunchUrl, collectorUrl: collector.url, firstPid };
    },

    /** SIGKILLs the app and times each hop of the loop from the kill, through `rule`'s history. */
    async killAndTime(loop: Loop, rule: string): Promise<LoopTimes> {
      const history = () => api<History>(loop.collectorUrl, LOOP_ADMIN, `/api/v1/alerts/history?rule=${rule}`);
      const killedAt = Date.now();
      process.kill(loop.firstPid, 'SIGKILL');
      await waitFor('the app to die', () => !alive(loop.firstPid));

      // The history, not the current state: the loop can close (relaunch, resolve) within one
      // sampling interval, faster than a poll of /api/v1/alerts on a loaded machine would see it.
      const firing = await waitFor('the alert to fire', async () => (await history()).items.find((x) => x.event === 'firing'), 30_000, 50);
      const firedAt = Date.now();

      const secondPid = await waitFor('the app to be relaunched', () => {
        const pid = appPid();
        return pid !== null && pid !== loop.firstPid && alive(pid) ? pid : undefined;
      }, 30_000, 50);
      appPids.push(secondPid);
      const relaunchedAt = Date.now();

      await waitFor('the alert to resolve', async () => (await history()).items[0]?.event === 'resolved', 30_000, 50);
      return { killedAt, firedAt, relaunchedAt, resolvedAt: Date.now(), firing, secondPid };
    },
  };
}
