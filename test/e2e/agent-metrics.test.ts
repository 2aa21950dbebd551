// `ringtail agent` and `ringtail collector` as real processes: host metrics and checks arrive as
// series; a checked process that dies reads 0 in the next sample; the agent stops promptly.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { api, createToken, ringtail, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';

const ADMIN = 'rt_admin_e2e_metrics_0123456789';
const dir = tempDir('ringtail-e2e-metrics-');
const procs: Proc[] = [];
let child: ChildProcess | null = null;

afterAll(async () => {
  child?.kill('SIGKILL');
  for (const p of procs) await p.kill('SIGKILL');
  dir.cleanup();
});

interface Series {
  step: number;
  start: number;
  values: Array<number | null>;
}

describe('agent metrics → collector, real processes', () => {
  it('ships host metrics and checks; a killed process reads 0 at the next sample', async () => {
    const data = join(dir.path, 'data');
    mkdirSync(join(dir.path, 'logs'), { recursive: true });
    // Checks at one-second resolution on the collector, so the test sees each sample.
    const collectorConfig = join(dir.path, 'collector.json');
    writeFileSync(collectorConfig, JSON.stringify({ metrics: { layouts: [{ match: 'check.*', step: 1, rra: ['AVERAGE:0.5:1:600'] }] } }));
    const agentToken = await createToken(['--data', data]);
        const collector = await startCollectorProc(data, ADMIN, ['--config', collectorConfig]);
    procs.push(collector.proc);

    const name = 'rte' + randomBytes(4).toString('hex');
    const bin = join(dir.path, name);
    copyFileSync('/bin/sleep', bin);
    execFileSync('chmod', ['+x', bin]);
    child = spawn(bin, ['1000'], { stdio: 'ignore' });

    const agentConfig = join(dir.path, 'agent.json');
    writeFileSync(
      agentConfig,
      JSON.stringify({
        collector: collector.url,
        watch: [join(dir.path, 'logs', '*.log')],
        state: join(dir.path, 'state'),
        host: 'e2e-metrics',
        metrics: { interval_ms: 1000 },
        checks: {
          processes: [{ name: 'app', process: name }],
          http: [{ name: 'collector', url: `${collector.url}/healthz` }],
          tcp: [{ name: 'collector', address: new URL(collector.url).host }],
        },
      }),
    );
    const agent = ringtail(['agent', '--config', agentConfig], { RINGTAIL_TOKEN: agentToken });
    procs.push(agent);

    const metrics = await waitFor(
      'the agent\'s series',
      async () => {
        const items = (await api<{ items: Array<{ metric: string }> }>(collector.url, ADMIN, '/api/v1/metrics?host=e2e-metrics')).items.map((i) => i.metric);
        return ['cpu.user', 'memory.used', 'check.process.count{check=app}', 'check.http.up{check=collector}', 'check.tcp.up{check=collector}'].every((m) => items.includes(m)) && items;
      },
      30_000,
      250,
    );
    expect(metrics).toContain('net.rx_bytes{interface=lo}');
    const fetch = (metric: string) => api<Series>(collector.url, ADMIN, `/api/v1/series?host=e2e-metrics&metric=${encodeURIComponent(metric)}&start=${Date.now() - 60_000}&end=${Date.now()}`);
    const latest = (s: Series) => [...s.values].reverse().find((v) => v !== null);

    await waitFor('count 1', async () => latest(await fetch('check.process.count{check=app}')) === 1, 15_000, 250);
    expect(latest(await fetch('check.http.up{check=collector}'))).toBe(1);
    expect(latest(await fetch('check.tcp.up{check=collector}'))).toBe(1);
    expect((await fetch('check.process.count{check=app}')).step).toBe(1000);

    const killedAt = Date.now();
    child.kill('SIGKILL');
    await waitFor('count 0', async () => latest(await fetch('check.process.count{check=app}')) === 0, 15_000, 250);
    // one interval of sampling plus the next step closing on the collector
    expect(Date.now() - killedAt).toBeLessThan(5_000);

    const stopAt = Date.now();
    await agent.kill('SIGTERM');
    expect(agent.child.exitCode).toBe(0);
    expect(Date.now() - stopAt).toBeLessThan(5_000);
  });
});
