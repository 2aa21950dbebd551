// Relaunch in seconds (issue 18, item 4), with default settings: no shortened interval anywhere
// (agent rounds every 10 s, rule evaluation every 10 s), the default `process-down` rule on the
// agent's pidfile check. The process check's watch notices the death between rounds and ships it
// out of band, the collector evaluates the rule on arrival, the webhook reaches a real
// `ringtail relaunch`, whose command starts the app again; the restart is noticed the same way.
// Asserts kill → relaunched < 5 s and kill → resolved < 10 s: the periodic path alone takes
// 10–25 s (issue 18's figures), so only the fast path passes.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { LOOP_ADMIN as ADMIN, relaunchLoops } from '../helpers/relaunch-loop.js';
import { api } from '../helpers/proc.js';

const loops = relaunchLoops();
afterAll(() => loops.cleanup());

describe('relaunch in seconds, default settings', () => {
  it('kill → relaunched < 5 s → resolved < 10 s, through the default process-down rule', async () => {
    const loop = await loops.start({
      prefix: 'ringtail-fast-loop-',
      alertname: 'process-down',
      // default evaluation interval and default rules (process-down for each process check)
      alerts: ({ webhook }) => ({ webhooks: [webhook] }),
      agent: { metrics: { families: ['load'] } },
    });
    type Alerts = { items: Array<{ rule: string; state: string; host: string }> };
    const processDown = async () => (await api<Alerts>(loop.collectorUrl, ADMIN, '/api/v1/alerts')).items.filter((a) => a.rule === 'process-down');
    expect(await processDown()).toEqual([]);

    const t = await loops.killAndTime(loop, 'process-down');
    expect(t.firing.host).toBe('demo-host');
    expect(await processDown()).toEqual([]);

    console.log(`relaunch fast loop (default settings): kill → firing ${t.firedAt - t.killedAt} ms, → app relaunched ${t.relaunchedAt - t.killedAt} ms, → resolved ${t.resolvedAt - t.killedAt} ms`);
    expect(t.relaunchedAt - t.killedAt).toBeLessThan(5_000);
    expect(t.resolvedAt - t.killedAt).toBeLessThan(10_000);

    // exactly one relaunch: repeated arrivals of the dead state did not notify twice
    const runs = readFileSync(loop.record, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(runs).toHaveLength(2); // the test's own first start, then the relaunch
    expect(runs[1]).toMatchObject({ host: 'demo-host' });
    const h = await api<{ items: Array<{ event: string }> }>(loop.collectorUrl, ADMIN, '/api/v1/alerts/history?rule=process-down');
    expect(h.items.filter((x) => x.event === 'firing')).toHaveLength(1);
  }, 120_000);
});
