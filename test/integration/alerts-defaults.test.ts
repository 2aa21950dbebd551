// The default rules on a real collector database, driven by synthetic series at their thresholds
// with an injected clock: each family fires above its level, holds until its clear level, waits
// for its `for`, and notifies (or stays silent) as documented in docs/alerts.md.
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ownHostDirectory, type HostDirectory } from '../../collector/alerts/hosts.js';
import { memorySources } from '../../collector/alerts/sources.js';
import { DEFAULT_RULES } from '../../collector/alerts/defaults.js';
import { alertsRig, bearer } from '../helpers/alerts.js';

const rig = alertsRig('ringtail-alerts-defaults-');

type Src = ReturnType<typeof memorySources>;

async function setup(hosts?: HostDirectory, config: Record<string, unknown> = {}) {
  const src = memorySources();
  const app = await rig.start({ defaults: true, ...config }, src, hosts);
  return { src, app };
}

/** Feeds `values` (metric key → value) for `host` every 10 s for `seconds`, one cycle after each. */
async function run(app: FastifyInstance, src: Src, host: string, seconds: number, values: Record<string, number | ((t: number) => number)>) {
  for (let s = 0; s < seconds; s += 10) {
    rig.clock.advance(10_000);
    for (const [k, v] of Object.entries(values)) src.point(host, k, rig.clock.t, typeof v === 'function' ? v(rig.clock.t) : v);
    await app.alerts.evaluator.cycle();
  }
}

function alert(app: FastifyInstance, rule: string, host: string, series = '') {
  return app.alerts.evaluator.current(rig.clock.t).find((a) => a.rule === rule && a.host === host && a.series === series);
}

/** What went to the outbox, as [rule, status, severity, host] per alert. */
async function sent(app: FastifyInstance): Promise<string[]> {
  return (await app.alerts.store.outbox(1000))
    .reverse()
    .flatMap((r) => (JSON.parse(r.body).alerts as Array<{ status: string; labels: Record<string, string> }>).map((a) => `${a.labels.alertname} ${a.status} ${a.labels.severity} ${a.labels.host}${a.labels.mount ? ' ' + a.labels.mount : ''}${a.labels.check ? ' ' + a.labels.check : ''}`));
}

describe('default rules', () => {
  it('are listed as defaults, all valid, and off with alerts.defaults: false', async () => {
    const { app } = await setup();
    const admin = (await app.storage.tokens.create('admin', 'a', rig.clock.t)).token;
    const rules = (await app.inject({ url: '/api/v1/alerts/rules', headers: bearer(admin) })).json().items as Array<{ name: string; source: string; enabled: boolean }>;
    expect(rules.filter((r) => r.source === 'default').map((r) => r.name).sort()).toEqual(DEFAULT_RULES.map((r) => r.name).sort());
    expect(rules.every((r) => r.enabled)).toBe(true);
    await rig.stopApps();
    const off = await rig.start({ defaults: false }, memorySources());
    expect((await off.inject({ url: '/api/v1/alerts/rules', headers: bearer(admin) })).json().items).toEqual([]);
  });

  it('disk space: one alert per mount, warning after `for`, critical above 98, held until the clear levels; only critical is sent', async () => {
    const { src, app } = await setup();
    await run(app, src, 'db-1', 50, { 'df.used_pct{mount=/}': 91, 'df.used_pct{mount=/data}': 50 });
    expect(alert(app, 'disk-space', 'db-1', '{mount=/}')).toMatchObject({ state: 'pending', severity: 'warning' });
    await run(app, src, 'db-1', 20, { 'df.used_pct{mount=/}': 91, 'df.used_pct{mount=/data}': 50 });
    const a = alert(app, 'disk-space', 'db-1', '{mount=/}')!;
    expect(a).toMatchObject({ state: 'firing', severity: 'warning', notify: false });
    expect(a.labels).toMatchObject({ mount: '/', host: 'db-1', alertname: 'disk-space' });
    expect(alert(app, 'disk-space', 'db-1', '{mount=/data}')).toBeUndefined();
    await run(app, src, 'db-1', 70, { 'df.used_pct{mount=/}': 99 });
    expect(alert(app, 'disk-space', 'db-1', '{mount=/}')).toMatchObject({ state: 'firing', severity: 'critical', notify: true });
    await run(app, src, 'db-1', 70, { 'df.used_pct{mount=/}': 95 }); // above the critical clear level (90)
    expect(alert(app, 'disk-space', 'db-1', '{mount=/}')).toMatchObject({ severity: 'critical' });
    await run(app, src, 'db-1', 70, { 'df.used_pct{mount=/}': 85 }); // at or below 90: back to warning, held above 80
    expect(alert(app, 'disk-space', 'db-1', '{mount=/}')).toMatchObject({ state: 'firing', severity: 'warning' });
    await run(app, src, 'db-1', 70, { 'df.used_pct{mount=/}': 80 });
    expect(alert(app, 'disk-space', 'db-1', '{mount=/}')).toBeUndefined();
    expect(await sent(app)).toEqual(['disk-space firing critical db-1 /', 'disk-space resolved critical db-1 /']);
  });

  it('inodes: the same levels over df.inodes_used_pct', async () => {
    const { src, app } = await setup();
    await run(app, src, 'db-1', 50, { 'df.inodes_used_pct{mount=/}': 99 });
    expect(alert(app, 'disk-inodes', 'db-1', '{mount=/}')).toMatchObject({ state: 'pending', severity: 'critical' });
    await run(app, src, 'db-1', 20, { 'df.inodes_used_pct{mount=/}': 99 });
    expect(alert(app, 'disk-inodes', 'db-1', '{mount=/}')).toMatchObject({ state: 'firing', severity: 'critical' });
    await run(app, src, 'db-1', 70, { 'df.inodes_used_pct{mount=/}': 89 });
    expect(alert(app, 'disk-inodes', 'db-1', '{mount=/}')).toMatchObject({ state: 'firing', severity: 'warning' });
    await run(app, src, 'db-1', 70, { 'df.inodes_used_pct{mount=/}': 79 });
    expect(alert(app, 'disk-inodes', 'db-1', '{mount=/}')).toBeUndefined();
  });

  it('disk will fill: hours to full from the last hour\'s trend, warning below 40% free, critical below 20% free, after 10 min', async () => {
    const { src, app } = await setup();
    const t0 = rig.clock.t;
    const pct = (start: number, perHour: number) => (t: number) => start + ((t - t0) / 3_600_000) * perHour;
    const hosts = {
      slow: pct(70, 6), // 6%/h from 70%: 4-5 h to full, but more than 20% free: warning only
      fast: pct(82, 12), // 12%/h from 82%: about 1 h to full, less than 20% free: critical
      flat: () => 95, // full but not filling: disk-space's business, not this rule's
      roomy: pct(40, 20), // 2.5 h to full at 50% used: more than 40% free, nothing
    };
    const step = async (seconds: number) => {
      for (let s = 0; s < seconds; s += 10) {
        rig.clock.advance(10_000);
        for (const [h, f] of Object.entries(hosts)) src.point(h, 'df.used_pct{mount=/}', rig.clock.t, f(rig.clock.t));
        await app.alerts.evaluator.cycle();
      }
    };
    await step(29 * 60); // less than half of the window spanned: no trend yet
    expect(app.alerts.evaluator.current(rig.clock.t).filter((a) => a.rule === 'disk-fill')).toEqual([]);
    await step(2 * 60);
    expect(alert(app, 'disk-fill', 'slow', '{mount=/}')).toMatchObject({ state: 'pending', severity: 'warning' });
    expect(alert(app, 'disk-fill', 'fast', '{mount=/}')).toMatchObject({ state: 'pending', severity: 'critical' });
    await step(9 * 60);
    expect(alert(app, 'disk-fill', 'slow', '{mount=/}')!.state).toBe('pending');
    await step(60);
    const slow = alert(app, 'disk-fill', 'slow', '{mount=/}')!;
    expect(slow).toMatchObject({ state: 'firing', severity: 'warning' });
    expect(slow.value!).toBeCloseTo((100 - hosts.slow(rig.clock.t)) / 6, 1);
    expect(alert(app, 'disk-fill', 'fast', '{mount=/}')).toMatchObject({ state: 'firing', severity: 'critical' });
    expect(alert(app, 'disk-fill', 'flat', '{mount=/}')).toBeUndefined();
    expect(alert(app, 'disk-fill', 'roomy', '{mount=/}')).toBeUndefined();
    // the disk is cleaned up: the trend turns, the alert resolves
    const at = rig.clock.t;
    hosts.fast = (t: number) => 60 - ((t - at) / 60_000) * 0.5;
    await step(40 * 60);
    expect(alert(app, 'disk-fill', 'fast', '{mount=/}')).toBeUndefined();
  });

  it('memory available: below 10% for 5 min warns, below 5% is critical, held until 10% / 15%', async () => {
    const { src, app } = await setup();
    const mem = (pct: number) => ({ 'memory.available': pct * 1e7, 'memory.total': 1e9 });
    await run(app, src, 'app-1', 120, mem(30));
    expect(alert(app, 'memory-available', 'app-1')).toBeUndefined();
    await run(app, src, 'app-1', 240, mem(8));
    expect(alert(app, 'memory-available', 'app-1')).toMatchObject({ state: 'pending', severity: 'warning' });
    await run(app, src, 'app-1', 130, mem(8));
    expect(alert(app, 'memory-available', 'app-1')).toMatchObject({ state: 'firing', severity: 'warning' });
    expect(alert(app, 'memory-available', 'app-1')!.value).toBeCloseTo(8, 6);
    await run(app, src, 'app-1', 70, mem(4));
    expect(alert(app, 'memory-available', 'app-1')).toMatchObject({ state: 'firing', severity: 'critical' });
    await run(app, src, 'app-1', 70, mem(9)); // below the critical clear level (10)
    expect(alert(app, 'memory-available', 'app-1')).toMatchObject({ severity: 'critical' });
    await run(app, src, 'app-1', 70, mem(12));
    expect(alert(app, 'memory-available', 'app-1')).toMatchObject({ severity: 'warning' });
    await run(app, src, 'app-1', 70, mem(15));
    expect(alert(app, 'memory-available', 'app-1')).toBeUndefined();
    expect(await sent(app)).toEqual(['memory-available firing critical app-1', 'memory-available resolved critical app-1']);
  });

  it('swap: no swap is no alert; above 90% used for 30 s is a warning, sent only at critical', async () => {
    const { src, app } = await setup();
    await run(app, src, 'app-1', 120, { 'memory.swap_used': 0, 'memory.swap_total': 0 });
    expect(app.alerts.evaluator.current(rig.clock.t)).toEqual([]);
    expect(app.alerts.evaluator.ruleErrors.size).toBe(0);
    await run(app, src, 'app-2', 30, { 'memory.swap_used': 95, 'memory.swap_total': 100 });
    expect(alert(app, 'swap-used', 'app-2')).toMatchObject({ state: 'pending', severity: 'warning' });
    await run(app, src, 'app-2', 10, { 'memory.swap_used': 95, 'memory.swap_total': 100 });
    expect(alert(app, 'swap-used', 'app-2')).toMatchObject({ state: 'firing', severity: 'warning', notify: false });
    expect(await sent(app)).toEqual([]);
    await run(app, src, 'app-2', 70, { 'memory.swap_used': 99, 'memory.swap_total': 100 });
    expect(alert(app, 'swap-used', 'app-2')).toMatchObject({ state: 'firing', severity: 'critical', notify: true });
    expect(await sent(app)).toEqual(['swap-used firing critical app-2']);
  });

  it('CPU busy (100 − idle) over a covered 10-minute window: nothing before it is covered, warning above 85, critical above 95; silent', async () => {
    const { src, app } = await setup();
    await run(app, src, 'web-1', 8 * 60, { 'cpu.idle': 2, 'cpu.iowait': 0, 'cpu.steal': 0 });
    expect(alert(app, 'cpu-busy', 'web-1')).toBeUndefined(); // a young series has no 10-minute average
    await run(app, src, 'web-1', 2 * 60, { 'cpu.idle': 2, 'cpu.iowait': 0, 'cpu.steal': 0 });
    expect(alert(app, 'cpu-busy', 'web-1')).toMatchObject({ state: 'firing', severity: 'critical', notify: false });
    expect(alert(app, 'cpu-busy', 'web-1')!.value).toBeCloseTo(98, 6);
    await run(app, src, 'web-1', 10 * 60, { 'cpu.idle': 12 }); // 88% busy: above the critical clear level (85), critical holds
    expect(alert(app, 'cpu-busy', 'web-1')).toMatchObject({ severity: 'critical' });
    await run(app, src, 'web-1', 10 * 60, { 'cpu.idle': 20 }); // 80%: warning held above 75
    expect(alert(app, 'cpu-busy', 'web-1')).toMatchObject({ severity: 'warning' });
    await run(app, src, 'web-1', 10 * 60, { 'cpu.idle': 26 });
    expect(alert(app, 'cpu-busy', 'web-1')).toBeUndefined();
    expect(await sent(app)).toEqual([]);
  });

  it('iowait above 40% over 10 min and steal above 10% over 20 min warn', async () => {
    const { src, app } = await setup();
    await run(app, src, 'vm-1', 10 * 60, { 'cpu.idle': 50, 'cpu.iowait': 45, 'cpu.steal': 12 });
    expect(alert(app, 'cpu-iowait', 'vm-1')).toMatchObject({ state: 'firing', severity: 'warning' });
    expect(alert(app, 'cpu-steal', 'vm-1')).toBeUndefined(); // its window is 20 minutes
    await run(app, src, 'vm-1', 10 * 60, { 'cpu.idle': 50, 'cpu.iowait': 39, 'cpu.steal': 12 });
    expect(alert(app, 'cpu-steal', 'vm-1')).toMatchObject({ state: 'firing', severity: 'warning' });
    expect(alert(app, 'cpu-iowait', 'vm-1')).toMatchObject({ state: 'firing' }); // 39 is above the clear level (20)
    await run(app, src, 'vm-1', 10 * 60, { 'cpu.idle': 80, 'cpu.iowait': 19, 'cpu.steal': 12 });
    expect(alert(app, 'cpu-iowait', 'vm-1')).toBeUndefined();
  });

  it('load15 per core above 2 for 15 minutes: every sample of the window', async () => {
    const { src, app } = await setup();
    await run(app, src, 'web-1', 10 * 60, { 'load.15': 5, 'load.cores': 2 });
    await run(app, src, 'web-1', 10, { 'load.15': 3, 'load.cores': 2 }); // one sample at 1.5 per core
    await run(app, src, 'web-1', 10 * 60, { 'load.15': 5, 'load.cores': 2 });
    expect(alert(app, 'load-per-core', 'web-1')).toBeUndefined(); // the dip is still in the window
    await run(app, src, 'web-1', 6 * 60, { 'load.15': 5, 'load.cores': 2 });
    expect(alert(app, 'load-per-core', 'web-1')).toMatchObject({ state: 'firing', severity: 'warning', value: 2.5 });
    await run(app, src, 'web-1', 30, { 'load.15': 3.6, 'load.cores': 2 }); // 1.8 per core: above the clear level (1.75)
    expect(alert(app, 'load-per-core', 'web-1')).toMatchObject({ state: 'firing', value: 1.8 });
    await run(app, src, 'web-1', 30, { 'load.15': 3.4, 'load.cores': 2 });
    expect(alert(app, 'load-per-core', 'web-1')).toBeUndefined();
    // the same load on 4 cores is fine
    await run(app, src, 'big-1', 16 * 60, { 'load.15': 5, 'load.cores': 4 });
    expect(alert(app, 'load-per-core', 'big-1')).toBeUndefined();
  });

  it('file descriptors above 90% of the maximum for 15 minutes', async () => {
    const { src, app } = await setup();
    await run(app, src, 'web-1', 14 * 60, { 'fds.open': 950, 'fds.max': 1000 });
    expect(alert(app, 'fds-used', 'web-1')).toMatchObject({ state: 'pending' });
    await run(app, src, 'web-1', 70, { 'fds.open': 950, 'fds.max': 1000 });
    expect(alert(app, 'fds-used', 'web-1')).toMatchObject({ state: 'firing', severity: 'warning' });
    expect(alert(app, 'fds-used', 'web-1')!.value).toBeCloseTo(95, 6);
    await run(app, src, 'web-1', 70, { 'fds.open': 900, 'fds.max': 1000 });
    expect(alert(app, 'fds-used', 'web-1')).toBeUndefined();
  });

  it('agent self-health: spool above half its bound, lag above 5 min, dropped lines', async () => {
    const { src, app } = await setup();
    const ok = { 'agent.spool_bytes': 1000, 'agent.spool_max_bytes': 268435456, 'agent.lag_ms': 200, 'agent.lines_dropped': 0 };
    await run(app, src, 'web-1', 15 * 60, ok);
    expect(app.alerts.evaluator.current(rig.clock.t)).toEqual([]);
    await run(app, src, 'web-1', 60, { ...ok, 'agent.spool_bytes': 0.6 * 268435456, 'agent.lag_ms': 301_000, 'agent.lines_dropped': 0.5 });
    expect(alert(app, 'agent-spool', 'web-1')).toMatchObject({ state: 'pending', severity: 'warning' });
    await run(app, src, 'web-1', 60, { ...ok, 'agent.spool_bytes': 0.6 * 268435456, 'agent.lag_ms': 301_000, 'agent.lines_dropped': 0.5 });
    expect(alert(app, 'agent-spool', 'web-1')).toMatchObject({ state: 'firing', severity: 'warning' });
    expect(alert(app, 'agent-lag', 'web-1')).toMatchObject({ state: 'firing', severity: 'warning' });
    expect(alert(app, 'agent-lag', 'web-1')!.value).toBeCloseTo(301, 6);
    expect(alert(app, 'agent-lines-dropped', 'web-1')).toMatchObject({ state: 'firing', severity: 'warning' });
    await run(app, src, 'web-1', 11 * 60, ok);
    expect(app.alerts.evaluator.current(rig.clock.t)).toEqual([]);
    expect(await sent(app)).toEqual([]);
  });

  it('checks: a process count of 0 fires at once, an HTTP/TCP check after 2 consecutive downs; both are sent', async () => {
    const { src, app } = await setup();
    await run(app, src, 'web-1', 10, { 'check.process.count{check=nginx}': 2, 'check.http.up{check=home}': 1, 'check.tcp.up{check=db}': 1 });
    await run(app, src, 'web-1', 10, { 'check.process.count{check=nginx}': 0, 'check.http.up{check=home}': 0, 'check.tcp.up{check=db}': 1 });
    expect(alert(app, 'process-down', 'web-1', '{check=nginx}')).toMatchObject({ state: 'firing', severity: 'critical' });
    expect(alert(app, 'check-down', 'web-1', '{check=home}')).toBeUndefined(); // one down result
    await run(app, src, 'web-1', 10, { 'check.process.count{check=nginx}': 0, 'check.http.up{check=home}': 1, 'check.tcp.up{check=db}': 0 });
    await run(app, src, 'web-1', 10, { 'check.process.count{check=nginx}': 1, 'check.http.up{check=home}': 0, 'check.tcp.up{check=db}': 0 });
    expect(alert(app, 'check-down', 'web-1', '{check=home}')).toBeUndefined(); // down, up, down: never twice in a row
    expect(alert(app, 'check-down', 'web-1', '{check=db}')).toMatchObject({ state: 'firing', severity: 'critical' });
    expect(alert(app, 'check-down', 'web-1', '{check=db}')!.labels.check).toBe('db');
    expect(alert(app, 'process-down', 'web-1', '{check=nginx}')).toBeUndefined();
    expect(await sent(app)).toEqual(['process-down firing critical web-1 nginx', 'process-down resolved critical web-1 nginx', 'check-down firing critical web-1 db']);
  });

  it('host down: a permanent agent silent for 2 min is critical and sent; syslog-only, ephemeral and retired hosts are not', async () => {
    const ephemeral = new Set(['spot-1']);
    const retired = new Set(['old-1']);
    const own = ownHostDirectory();
    const dir: HostDirectory = { ...own, isEphemeral: (h) => ephemeral.has(h), isRetired: (h) => retired.has(h) };
    const { src, app } = await setup(dir);
    for (const h of ['web-1', 'spot-1', 'old-1']) src.reporting(h);
    for (const h of ['web-1', 'spot-1', 'old-1', 'syslog-1']) src.seen(h, rig.clock.t);
    src.point('old-1', 'df.used_pct{mount=/}', rig.clock.t, 99);
    rig.clock.advance(120_000);
    await app.alerts.evaluator.cycle();
    expect(alert(app, 'host-down', 'web-1')).toBeUndefined(); // exactly 120 s is not more than 120 s
    rig.clock.advance(10_000);
    await app.alerts.evaluator.cycle();
    expect(app.alerts.evaluator.current(rig.clock.t).map((a) => `${a.rule} ${a.host} ${a.state} ${a.severity}`)).toEqual(['host-down web-1 firing critical']);
    expect(await sent(app)).toEqual(['host-down firing critical web-1']);
    src.seen('web-1', rig.clock.t);
    await app.alerts.evaluator.cycle();
    expect(alert(app, 'host-down', 'web-1')).toBeUndefined();
  });

  it('host down after a collector restart: no host is down for the collector\'s own downtime; silence counts from when it listens again', async () => {
    const src = memorySources();
    let app = await rig.start({ defaults: true }, src);
    for (const h of ['back-1', 'gone-1']) (src.reporting(h), src.seen(h, rig.clock.t));
    await app.alerts.evaluator.cycle();
    await rig.stopApps();
    rig.clock.advance(10 * 60_000); // the collector was down 10 minutes
    app = await rig.start({ defaults: true }, src);
    await app.alerts.evaluator.cycle();
    expect(app.alerts.evaluator.current(rig.clock.t)).toEqual([]);
    rig.clock.advance(30_000);
    src.seen('back-1', rig.clock.t); // its agent reconnects and ships what it spooled
    await app.alerts.evaluator.cycle();
    rig.clock.advance(90_000); // 120 s after the restart: not more than 120 s of listening yet
    src.seen('back-1', rig.clock.t);
    await app.alerts.evaluator.cycle();
    expect(app.alerts.evaluator.current(rig.clock.t)).toEqual([]);
    rig.clock.advance(10_000);
    src.seen('back-1', rig.clock.t);
    await app.alerts.evaluator.cycle();
    expect(app.alerts.evaluator.current(rig.clock.t).map((a) => `${a.rule} ${a.host} ${a.state}`)).toEqual(['host-down gone-1 firing']);
    expect(await sent(app)).toEqual(['host-down firing critical gone-1']);
  });

  it('host flapping: 3 down/up within 30 min is a silent warning, from host-down\'s own history', async () => {
    const { src, app } = await setup();
    src.reporting('web-1');
    const flap = async () => {
      src.seen('web-1', rig.clock.t);
      await app.alerts.evaluator.cycle();
      rig.clock.advance(130_000);
      await app.alerts.evaluator.cycle(); // down
      rig.clock.advance(60_000);
    };
    await flap();
    await flap();
    expect(alert(app, 'host-flapping', 'web-1')).toBeUndefined();
    await flap();
    src.seen('web-1', rig.clock.t);
    await app.alerts.evaluator.cycle();
    expect(alert(app, 'host-flapping', 'web-1')).toMatchObject({ state: 'firing', severity: 'warning', value: 3, notify: false });
    expect((await sent(app)).filter((s) => s.startsWith('host-flapping'))).toEqual([]);
    // a restart remembers the transitions (host-down's history is in the database)
    await rig.stopApps();
    const again = await rig.start({ defaults: true }, src);
    await again.alerts.evaluator.cycle();
    expect(alert(again, 'host-flapping', 'web-1')).toMatchObject({ state: 'firing', value: 3 });
    // 30 minutes later without a new outage it resolves
    for (let i = 0; i < 30; i++) {
      rig.clock.advance(60_000);
      src.seen('web-1', rig.clock.t);
      await again.alerts.evaluator.cycle();
    }
    expect(alert(again, 'host-flapping', 'web-1')).toBeUndefined();
  });
});

describe('overriding default rules by name', () => {
  it('a config rule without kind changes only the fields it gives; with kind it replaces the default', async () => {
    const { src, app } = await setup(undefined, {
      rules: [
        { name: 'cpu-busy', enabled: false },
        { name: 'disk-space', warning: 70, warning_clear: 60, for: '0s' },
        { kind: 'absence', name: 'host-down', seconds: 30 },
      ],
    });
    const admin = (await app.storage.tokens.create('admin', 'a', rig.clock.t)).token;
    const rules = (await app.inject({ url: '/api/v1/alerts/rules', headers: bearer(admin) })).json().items as Array<{ name: string; source: string; enabled: boolean; spec: any }>;
    const byName = Object.fromEntries(rules.map((r) => [r.name, r]));
    expect(byName['cpu-busy']).toMatchObject({ source: 'config', enabled: false, spec: { metric: 'cpu.idle', offset: 100 } });
    expect(byName['disk-space']).toMatchObject({ source: 'config', spec: { warning: 70, critical: 98, notify: 'critical' } });
    expect(byName['host-down']!.spec).toEqual({ kind: 'absence', name: 'host-down', seconds: 30 });
    await run(app, src, 'web-1', 10 * 60, { 'cpu.idle': 1, 'df.used_pct{mount=/}': 75 });
    expect(alert(app, 'cpu-busy', 'web-1')).toBeUndefined();
    expect(alert(app, 'disk-space', 'web-1', '{mount=/}')).toMatchObject({ state: 'firing', severity: 'warning' });
    // the replacing host-down has no permanent_only: any silent host
    src.seen('syslog-1', rig.clock.t);
    rig.clock.advance(31_000);
    await app.alerts.evaluator.cycle();
    expect(alert(app, 'host-down', 'syslog-1')).toMatchObject({ state: 'firing' });
  });

  it('a partial rule naming no default rule is refused, naming the field', async () => {
    await expect(setup(undefined, { rules: [{ name: 'no-such-default', enabled: false }] })).rejects.toThrow(/alerts\.rules\[0\].*kind/);
  });

  it('through the API: PUT replaces a default, DELETE of that brings the default back, PATCH switches a default off, DELETE of a default is 409; silences match series labels', async () => {
    const { src, app } = await setup();
    const admin = bearer((await app.storage.tokens.create('admin', 'a', rig.clock.t)).token);
    const put = await app.inject({
      method: 'PUT',
      url: '/api/v1/alerts/rules/disk-space',
      headers: admin,
      payload: { kind: 'metric', metric: 'df.used_pct', op: 'above', warning: 50 },
    });
    expect(put.statusCode).toBe(200);
    await run(app, src, 'web-1', 20, { 'df.used_pct{mount=/}': 60 });
    expect(alert(app, 'disk-space', 'web-1', '{mount=/}')).toMatchObject({ state: 'firing', severity: 'warning', notify: true });
    const del = await app.inject({ method: 'DELETE', url: '/api/v1/alerts/rules/disk-space', headers: admin });
    expect(del.json()).toEqual({ deleted: 'disk-space', restored: 'default' });
    await run(app, src, 'web-1', 10, { 'df.used_pct{mount=/}': 60 });
    expect(alert(app, 'disk-space', 'web-1', '{mount=/}')).toBeUndefined();
    const again = await app.inject({ method: 'DELETE', url: '/api/v1/alerts/rules/disk-space', headers: admin });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toBe('RINGTAIL_ERR_BAD_REQUEST');
    expect(again.json().message).toMatch(/default rule/);

    const patch = await app.inject({ method: 'PATCH', url: '/api/v1/alerts/rules/process-down', headers: admin, payload: { enabled: false } });
    expect(patch.statusCode).toBe(200);
    // a silence on a series' label (check=db) holds that check's notification back
    const sil = await app.inject({
      method: 'POST',
      url: '/api/v1/alerts/silences',
      headers: admin,
      payload: { matchers: [{ name: 'check', value: 'db' }], ends_at: rig.clock.t + 3_600_000, comment: 'maintenance' },
    });
    expect(sil.statusCode).toBe(201);
    const before = (await sent(app)).length;
    const down = { 'check.process.count{check=app}': 0, 'check.tcp.up{check=db}': 0, 'check.tcp.up{check=cache}': 0 };
    await run(app, src, 'web-1', 20, down);
    expect(alert(app, 'process-down', 'web-1', '{check=app}')).toBeUndefined();
    expect(alert(app, 'check-down', 'web-1', '{check=db}')).toMatchObject({ state: 'firing', silenced_by: sil.json().id });
    expect(alert(app, 'check-down', 'web-1', '{check=cache}')).toMatchObject({ state: 'firing', silenced_by: null });
    expect((await sent(app)).slice(before)).toEqual(['check-down firing critical web-1 cache']);
  });
});

describe('the alert database from before per-series alerts', () => {
  it('migrates: a firing alert of the old schema is still firing, neither forgotten nor announced again', async () => {
    const { default: Database } = await import('better-sqlite3');
    const { mkdirSync } = await import('node:fs');
    const { dbPath } = await import('../../collector/storage/sqlite/open.js');
    const { MIGRATIONS } = await import('../../collector/storage/sqlite/alerts.js');
    mkdirSync(rig.dir.path, { recursive: true });
    const db = new Database(dbPath(rig.dir.path));
    db.exec('CREATE TABLE alerts_schema (version INTEGER NOT NULL)');
    db.exec(MIGRATIONS[0]!);
    db.prepare('INSERT INTO alerts_schema (version) VALUES (1)').run();
    const t = rig.clock.t;
    db.prepare(
      `INSERT INTO alert_state (rule, host, phase, severity, active_since, firing_since, clear_since, value, notified_key, last_notified_at)
       VALUES ('host-down', 'web-1', 'firing', 'critical', ?, ?, NULL, 300, ?, ?)`,
    ).run(t - 60_000, t - 60_000, `critical@${t - 60_000}`, t - 60_000);
    db.prepare(`INSERT INTO alert_history (at, rule, host, event, severity, value) VALUES (?, 'host-down', 'web-1', 'firing', 'critical', 300)`).run(t - 60_000);
    db.close();

    const src = memorySources();
    src.reporting('web-1');
    src.seen('web-1', t - 400_000);
    const app = await rig.start({ defaults: true }, src);
    await app.alerts.evaluator.cycle();
    expect(alert(app, 'host-down', 'web-1')).toMatchObject({ state: 'firing', series: '', starts_at: t - 60_000 });
    expect(await sent(app)).toEqual([]);
    const hist = (await app.alerts.store.history({ rule: 'host-down', limit: 10 }));
    expect(hist.map((h) => [h.event, h.series])).toEqual([['firing', '']]);
    src.seen('web-1', rig.clock.t);
    await app.alerts.evaluator.cycle();
    expect(await sent(app)).toEqual(['host-down resolved critical web-1']);
  });
});
