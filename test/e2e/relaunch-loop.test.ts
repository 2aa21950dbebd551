// The loop closed end to end with real processes: a demo application (pidfile, a log line every
// 200 ms) is watched by a real agent, both by a process check on its pidfile and by tailing its
// log, and shipped to a real collector. The app is killed → the alert fires → the signed webhook
// reaches a real `ringtail relaunch` → its command starts the app again → the alert resolves.
// Two triggers, one test each: the process check (check rule), and the dead man's switch on the
// app's log (absence rule). Prints kill → resolve times.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { LOOP_ADMIN as ADMIN, relaunchLoops } from '../helpers/relaunch-loop.js';
import { api } from '../helpers/proc.js';

const loops = relaunchLoops();
afterAll(() => loops.cleanup());

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
    const loop = await loops.start({
      prefix: 'ringtail-loop-',
      alertname: 'demo-app-down',
      alerts: ({ appLog, webhook }) => ({
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
        webhooks: [{ ...webhook, backoff_base_ms: 200 }],
      }),
      agent: { batch: { linger_ms: 50 }, scan_interval_ms: 100, metrics: { interval_ms: 1000, families: ['load'] } },
    });
    type Alerts = { items: Array<{ rule: string; state: string; host: string }> };
    expect((await api<Alerts>(loop.collectorUrl, ADMIN, '/api/v1/alerts')).items).toEqual([]);
    expect((await api<{ items: unknown[] }>(loop.collectorUrl, ADMIN, '/api/v1/alerts/history')).items).toEqual([]);

    const t = await loops.killAndTime(loop, 'demo-app-down');
    expect(t.firing.host).toBe('demo-host');
    expect((await api<Alerts>(loop.collectorUrl, ADMIN, '/api/v1/alerts')).items).toEqual([]);

    console.log(
      `relaunch loop: kill → firing ${t.firedAt - t.killedAt} ms, → app relaunched ${t.relaunchedAt - t.killedAt} ms, → resolved ${t.resolvedAt - t.killedAt} ms` +
        ` (${TRIGGERS[trigger].note}, evaluation every 250 ms)`,
    );

    // Exactly one relaunch, told which host and why, through environment variables.
    const runs = readFileSync(loop.record, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(runs).toHaveLength(2); // the test's own first start, then the relaunch
    expect(runs[1]).toMatchObject({ host: 'demo-host' });
    expect(runs[1].summary).toMatch(/^demo-host: demo app (not running|silent for \d)/);
    expect(existsSync('/tmp/never')).toBe(false);
    const status = (await (await fetch(loop.relaunchUrl + '/status')).json()) as { actions: Array<{ name: string; runs_in_window: number; suspended_at: number | null }> };
    expect(status.actions[0]).toMatchObject({ name: 'restart-demo', runs_in_window: 1, suspended_at: null });

    // Both notifications went out from the outbox, signed, and were accepted.
    const outbox = await api<{ items: Array<{ state: string }> }>(loop.collectorUrl, ADMIN, '/api/v1/alerts/outbox');
    expect(outbox.items.map((o) => o.state)).toEqual(['delivered', 'delivered']);
    expect(t.secondPid).not.toBe(loop.firstPid);
  });
});
