// `npm run bench -- dashboard [--runs N] [--hosts N]`: the dashboard in Debian's chromium
// against a real collector child process on loopback.
//   1. first load with N hosts (default 500): navigation start → the hosts list painted and
//      interactive (performance mark `rt:hosts-ready`), cold cache, signed-in session;
//   2. a one-year chart: the host page at range=1y, CPU family (2 series): the AVERAGE lines
//      fetched from the series API and drawn by Chart.js, then with the MIN/MAX band added; side by side with `rrdtool graph`
//      drawing the same year (AVERAGE line and MIN/MAX band) from an rrd file of the same data.
// Targets (issue 8): first load under 1 s, one-year chart under 200 ms. Medians of --runs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { table } from './lib/stats.js';

const BIN = fileURLToPath(new URL('../../bin/ringtail', import.meta.url));
const ADMIN = 'rt_admin_bench_dashboard_0123456789abcdef';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function startCollector(data: string): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, [BIN, 'collector', '--data', data, '--listen', '127.0.0.1:0', '--admin-token', ADMIN, '--log-level', 'warn', '--syslog-udp-port', '0', '--syslog-tcp-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) return { url: m[1]!, stop: () => child.kill('SIGKILL') };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`collector did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function post(url: string, path: string, body: unknown): Promise<Response> {
  const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** One value per hour over a year for the chart host, the same numbers fed to rrdtool. */
function yearOfCpu(now: number): Array<{ ts: number; user: number; system: number }> {
  const out = [];
  const first = now - 366 * 86_400_000;
  for (let ts = first; ts <= now - 1000; ts += 3_600_000) {
    const h = (ts - first) / 3_600_000;
    out.push({ ts, user: +(40 + 30 * Math.sin(h / 5) + (h % 7)).toFixed(3), system: +(10 + 5 * Math.cos(h / 3)).toFixed(3) });
  }
  return out;
}

export async function main(args: string[]): Promise<void> {
  const runs = arg(args, 'runs', 5);
  const hosts = arg(args, 'hosts', 500);
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-dash-'));
  const collector = await startCollector(join(dir, 'data'));
  const { url } = collector;
  process.stdout.write(`dashboard benchmark, ${new Date().toISOString()}, ${runs} runs, ${hosts} hosts\n\n`);
  try {
    const now = Date.now();
    // N hosts, each with a few log lines and an hour of CPU, memory and disk for the sparklines.
    for (let i = 0; i < hosts; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, hosts - i) }, async (_, k) => {
          const host = `host-${String(i + k).padStart(4, '0')}`;
          const lines = [0, 1, 2].map((j) => ({ offset: j * 100, ts: now - j * 1000, severity: 6, message: `${host} line ${j}` }));
          await post(url, '/api/v1/ingest', { version: 1, agent_id: 'agt_' + host, host, segments: [{ stream: 's', source: '/var/log/app.log', start: 0, end: 300, lines }] });
          const samples = [];
          for (let t = now - 3_600_000; t < now; t += 600_000) {
            samples.push({ name: 'cpu.user', type: 'GAUGE', ts: t, value: (i + k + t / 1e6) % 100 });
            samples.push({ name: 'memory.used', type: 'GAUGE', ts: t, value: 1e9 + (t % 1e8) });
            samples.push({ name: 'df.used_pct', type: 'GAUGE', ts: t, value: 40 + ((i + k) % 50), labels: { mount: '/' } });
          }
          await fetch(url + '/api/v1/metrics/ingest', {
            method: 'POST',
            headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
            body: JSON.stringify({ version: 1, agent_id: 'agt_' + host, host, interval_ms: 3_600_000, samples }),
          });
        }),
      );
    }
    const year = yearOfCpu(now);
    const metricsRes = await fetch(url + '/api/v1/metrics/ingest', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        version: 1,
        agent_id: 'agt_year',
        host: 'year-host',
        interval_ms: 3_600_000,
        samples: year.flatMap((p) => [
          { name: 'cpu.user', type: 'GAUGE', ts: p.ts, value: p.user },
          { name: 'cpu.system', type: 'GAUGE', ts: p.ts, value: p.system },
        ]),
      }),
    });
    const haveSeries = metricsRes.ok;
    if (!haveSeries) process.stdout.write(`(no metrics API on this collector: ${metricsRes.status}; sparklines and the chart are not measured)\n`);

    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'],
    });
    const load: number[] = [];
    const chart: number[] = [];
    const chartBand: number[] = [];
    let points = 0;
    try {
      for (let r = 0; r < runs; r++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const login = await context.request.post(url + '/api/v1/session', { data: { token: ADMIN }, headers: { origin: url } });
        if (!login.ok()) throw new Error(`login: ${login.status()}`);
        const page = await context.newPage();
        await page.goto(url + '/#/hosts');
        await page.waitForSelector('#hosts[data-ready]');
        const rows = Number(await page.evaluate('document.querySelectorAll("#hosts tbody tr").length'));
        if (rows < hosts) throw new Error(`only ${rows} hosts listed`);
        load.push(Number(await page.evaluate('performance.getEntriesByName("rt:hosts-ready")[0].startTime')));
        if (haveSeries) {
          await page.goto(url + '/#/host/year-host?range=1y');
          await page.waitForSelector('#charts[data-ready]');
          chart.push(Number(await page.getAttribute('#charts figure[data-family="cpu"]', 'data-ms')));
          chartBand.push(Number(await page.getAttribute('#charts figure[data-family="cpu"]', 'data-band-ms')));
          points = Number(await page.getAttribute('#charts figure[data-family="cpu"]', 'data-points'));
        }
        await context.close();
      }
    } finally {
      await browser.close();
    }

    // The peer: rrdtool graph of the same year (AVERAGE lines plus a MIN/MAX band).
    let rrdMs: number[] = [];
    try {
      const rrd = join(dir, 'cpu.rrd');
      const start = Math.floor(year[0]!.ts / 1000) - 10;
      execFileSync('rrdtool', ['create', rrd, '--start', String(start), '--step', '10', 'DS:user:GAUGE:7200:U:U', 'DS:system:GAUGE:7200:U:U',
        'RRA:AVERAGE:0.5:1:8640', 'RRA:AVERAGE:0.5:6:10080', 'RRA:AVERAGE:0.5:30:8928', 'RRA:AVERAGE:0.5:360:8784',
        'RRA:MIN:0.5:6:10080', 'RRA:MAX:0.5:6:10080', 'RRA:MIN:0.5:360:8784', 'RRA:MAX:0.5:360:8784']);
      for (let i = 0; i < year.length; i += 500) {
        execFileSync('rrdtool', ['update', rrd, ...year.slice(i, i + 500).map((p) => `${Math.floor(p.ts / 1000)}:${p.user}:${p.system}`)]);
      }
      const end = Math.floor(now / 1000);
      for (let r = 0; r < runs; r++) {
        const t = performance.now();
        execFileSync('rrdtool', ['graph', join(dir, 'year.png'), '--start', String(end - 366 * 86400), '--end', String(end), '--width', '600', '--height', '200',
          `DEF:u=${rrd}:user:AVERAGE`, `DEF:umin=${rrd}:user:MIN`, `DEF:umax=${rrd}:user:MAX`, `DEF:s=${rrd}:system:AVERAGE`,
          'CDEF:band=umax,umin,-', 'LINE0:umin', 'AREA:band#4f9cf033::STACK', 'LINE1:u#4f9cf0:user', 'LINE1:s#3fb950:system'], { stdio: 'ignore' });
        rrdMs.push(performance.now() - t);
      }
    } catch (err) {
      process.stdout.write(`(rrdtool peer not measured: ${(err as Error).message.split('\n')[0]})\n`);
      rrdMs = [];
    }

    const fmt = (xs: number[]) => (xs.length ? median(xs).toFixed(0) : 'n/a');
    process.stdout.write(
      table(['measure', 'ringtail (median ms)', 'runs (ms)', 'target', 'peer: rrdtool graph, same year with band (median ms)', 'ratio rrdtool/ringtail'], [
        [`first load, ${hosts} hosts → interactive list`, fmt(load), load.map((x) => x.toFixed(0)).join(' '), '< 1000', '–', '–'],
        [`one-year chart, lines fetched + drawn (2 series, ${points} points)`, fmt(chart), chart.map((x) => x.toFixed(0)).join(' '), '< 200', '–', '–'],
        [`… plus the MIN/MAX band (4 more fetches)`, fmt(chartBand), chartBand.map((x) => x.toFixed(0)).join(' '), '–', fmt(rrdMs),
          chartBand.length && rrdMs.length ? (median(rrdMs) / median(chartBand)).toFixed(2) + '×' : '–'],
      ]),
    );
  } finally {
    collector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
