// `npm run bench -- alerts [--runs 3] [--rules 10000] [--hosts 1000] [--interval-ms 10000] [--crossings 4] [--rrd-runs 1] [--defaults-hosts 1000]`
//
// 10,000 metric rules over 1,000 hosts (10 per host, each bound to its host), evaluated by the
// real evaluator on a real SQLite database, notifications signed and delivered over loopback:
//  1. ms per evaluation cycle: quiet (few crossings) and stormy (10% of the rules change state);
//  2. delay from a threshold crossing to the webhook's arrival, with the real timers at the
//     configured evaluation interval (expect about interval/2 + cycle + delivery).
// Parts 1 and 2 take values from an in-memory source (the evaluator's, state store's and
// outbox's cost); part 3 (`--rrd-runs`, default 1) runs the same rules over the real metric path:
// samples through MetricService.ingest into the round-robin store, read back by the alerts'
// recent-sample cache, plus the first cycle after a restart (reads from the store, bounded).
// No peer runs side by side: neither Prometheus nor Alertmanager is installed here.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../collector/app.js';
import { compileDefaultRules } from '../collector/alerts/defaults.js';
import { Evaluator } from '../collector/alerts/evaluator.js';
import { metricServiceSources } from '../collector/alerts/metric-sources.js';
import { wantedSeries } from '../collector/alerts/plugin.js';
import { RecentSamples } from '../collector/alerts/recent-samples.js';
import { logStoreSources, memorySources } from '../collector/alerts/sources.js';
import { openSqliteAlertStore } from '../collector/storage/sqlite/alerts.js';
import type { MetricService } from '../collector/metrics/service.js';
import type { Storage } from '../collector/storage/types.js';
import type { EventSink } from '../shared/events.js';
import type { MetricBatch } from '../shared/wire.js';
import { generateSecret, verify } from '../shared/webhook-signature.js';

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

interface RunResult {
  quietMs: number;
  quietP95: number;
  stormMs: number;
  stormMax: number;
  stormTransitions: number;
  delays: number[];
  pipeline: number[];
  firstCycleMs: number;
}

async function oneRun(nRules: number, nHosts: number, intervalMs: number, crossings: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-alerts-'));
  const secret = generateSecret();
  const arrivals: Array<{ at: number; id: string; hosts: string[] }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks);
      verify([secret], req.headers, body, at);
      const json = JSON.parse(body.toString('utf8')) as { alerts: Array<{ status: string; labels: { host: string } }> };
      arrivals.push({ at, id: String(req.headers['webhook-id']), hosts: json.alerts.filter((a) => a.status === 'firing').map((a) => a.labels.host) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const perHost = Math.ceil(nRules / nHosts);
  const hosts = Array.from({ length: nHosts }, (_, i) => `h${String(i).padStart(4, '0')}`);
  const src = memorySources();
  const rules: object[] = [];
  for (let r = 0; r < nRules; r++) {
    const host = hosts[r % nHosts]!;
    const metric = `m${Math.floor(r / nHosts)}`;
    rules.push({ kind: 'metric', name: `r${r}`, host, metric, op: 'above', warning: 80, critical: 95, warning_clear: 75, critical_clear: 90, for: '20s', annotations: { summary: '{{ $labels.host }} {{ $value }}' } });
    src.set(host, metric, 50);
  }
  void perHost;
  let now = Date.now();
  const clock = { t: now };
  const app = await buildApp({
    dataDir: dir,
    clock: () => clock.t,
    alerts: { config: { evaluation_interval_ms: intervalMs, rules, webhooks: [{ name: 'bench', url, secret }], defaults: false }, run: false, sources: src },
  });
  await app.ready();
  const ev = app.alerts.evaluator;

  // 1. cycles, 10 s apart on the injected clock
  const firstCycleMs = (await ev.cycle()).ms;
  const quiet: number[] = [];
  for (let i = 0; i < 10; i++) {
    clock.t += 10_000;
    // about 0.1% of the rules cross each cycle
    for (let k = 0; k < nRules / 1000; k++) {
      const r = Math.floor(Math.random() * nRules);
      src.set(hosts[r % nHosts]!, `m${Math.floor(r / nHosts)}`, Math.random() < 0.5 ? 97 : 50);
    }
    quiet.push((await ev.cycle()).ms);
  }
  // 10% of the rules: pending, pending, firing (1,000 alerts announced), resolved, pending again
  const storm: number[] = [];
  const stormNotes: number[] = [];
  for (const v of [97, 97, 97, 50, 97]) {
    clock.t += 10_000;
    for (let r = 0; r < nRules; r += 10) src.set(hosts[r % nHosts]!, `m${Math.floor(r / nHosts)}`, v);
    const st = await ev.cycle();
    storm.push(st.ms);
    stormNotes.push(st.transitions);
  }
  await app.alerts.outbox.drain();
  await app.close();

  // 2. crossing → webhook, with real timers and the real clock
  for (let r = 0; r < nRules; r++) src.set(hosts[r % nHosts]!, `m${Math.floor(r / nHosts)}`, 50);
  rmSync(dir, { recursive: true, force: true });
  const dir2 = mkdtempSync(join(tmpdir(), 'ringtail-bench-alerts-'));
  const immediate = rules.map((r) => ({ ...r, for: 0 }));
  const live = await buildApp({
    dataDir: dir2,
    alerts: { config: { evaluation_interval_ms: intervalMs, rules: immediate, webhooks: [{ name: 'bench', url, secret }], defaults: false }, run: true, sources: src },
  });
  await live.ready();
  const delays: number[] = [];
  const pipeline: number[] = [];
  for (let c = 0; c < crossings; c++) {
    // cross at a random phase of the evaluation interval
    await new Promise((r) => setTimeout(r, Math.random() * intervalMs));
    const r = Math.floor(Math.random() * nRules);
    const host = hosts[r % nHosts]!;
    now = Date.now();
    src.set(host, `m${Math.floor(r / nHosts)}`, 99);
    const seen = arrivals.length;
    for (;;) {
      const hit = arrivals.slice(seen).find((a) => a.hosts.includes(host));
      if (hit) {
        delays.push(hit.at - now);
        // from the start of the cycle that saw the crossing (the outbox row's time) to arrival
        const row = (await live.alerts.store.outbox(50)).find((o) => o.id === hit.id);
        if (row) pipeline.push(hit.at - row.created_at);
        break;
      }
      await new Promise((res) => setTimeout(res, 5));
    }
    src.set(host, `m${Math.floor(r / nHosts)}`, 50);
  }
  await live.close();
  server.close();
  rmSync(dir2, { recursive: true, force: true });
  return { quietMs: median(quiet), quietP95: pct(quiet, 95), stormMs: median(storm), stormMax: Math.max(...storm), stormTransitions: Math.max(...stormNotes), delays, pipeline, firstCycleMs };
}

interface RrdResult {
  setupS: number;
  quietMs: number;
  stormMs: number;
  restartCycleMs: number;
}

/** The same rules reading the real metric path: samples through MetricService.ingest into the round-robin store. */
async function rrdRun(nRules: number, nHosts: number): Promise<RrdResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-alerts-rrd-'));
  const hosts = Array.from({ length: nHosts }, (_, i) => `h${String(i).padStart(4, '0')}`);
  const perHost = Math.ceil(nRules / nHosts);
  const rules: object[] = [];
  for (let r = 0; r < nRules; r++) {
    rules.push({ kind: 'metric', name: `r${r}`, host: hosts[r % nHosts]!, metric: `m${Math.floor(r / nHosts)}`, op: 'above', warning: 80, critical: 95, warning_clear: 75, critical_clear: 90, for: '20s', window: '30s' });
  }
  const values = new Map<string, number>();
  for (const h of hosts) for (let m = 0; m < perHost; m++) values.set(`${h} m${m}`, 50);
  const clock = { t: Math.floor(Date.now() / 10_000) * 10_000 - 3_600_000 };
  const open = async () => {
    const app = await buildApp({ dataDir: dir, clock: () => clock.t, alerts: { config: { rules, defaults: false }, run: false } });
    await app.ready();
    return app;
  };
  let app = await open();
  const flush = () => {
    for (const h of hosts) {
      const samples = [];
      for (let m = 0; m < perHost; m++) samples.push({ name: `m${m}`, type: 'GAUGE' as const, ts: clock.t, value: values.get(`${h} m${m}`)! });
      app.hostMetrics.ingest({ version: 1, agent_id: `agt_${h}`, host: h, interval_ms: 10_000, samples }, clock.t);
    }
  };
  const setup = performance.now();
  for (let i = 0; i < 3; i++) {
    clock.t += 10_000;
    flush();
  }
  const setupS = (performance.now() - setup) / 1000;
  await app.alerts.evaluator.cycle();
  const quiet: number[] = [];
  for (let i = 0; i < 6; i++) {
    clock.t += 10_000;
    for (let k = 0; k < nRules / 1000; k++) {
      const r = Math.floor(Math.random() * nRules);
      values.set(`${hosts[r % nHosts]} m${Math.floor(r / nHosts)}`, Math.random() < 0.5 ? 97 : 50);
    }
    flush();
    quiet.push((await app.alerts.evaluator.cycle()).ms);
  }
  const storm: number[] = [];
  for (const v of [97, 97, 97, 50, 97]) {
    clock.t += 10_000;
    for (let r = 0; r < nRules; r += 10) values.set(`${hosts[r % nHosts]} m${Math.floor(r / nHosts)}`, v);
    flush();
    storm.push((await app.alerts.evaluator.cycle()).ms);
  }
  await app.close();
  // A collector restart: every watched series is read once from the store.
  clock.t += 5000;
  app = await open();
  const restartCycleMs = (await app.alerts.evaluator.cycle()).ms;
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  return { setupS, quietMs: median(quiet), stormMs: median(storm), restartCycleMs };
}

/**
 * The default rules (collector/alerts/defaults.ts) over `nHosts` agents, each sending the series
 * they read (two mounts) every 10 s for an hour, fed to the alerts' recent-sample cache as the
 * ingest does; store reads (only after a restart) are left out. Wall and CPU ms per cycle.
 */
async function defaultsRun(nHosts: number): Promise<{ instances: number; wallMs: number; cpuMs: number; feedUsPerSample: number }> {
  const rules = compileDefaultRules();
  const wanted = wantedSeries(rules);
  const recent = new RecentSamples(() => wanted);
  let now = Math.floor(Date.now() / 10_000) * 10_000 - 3_600_000;
  const hosts = Array.from({ length: nHosts }, (_, i) => `h${String(i).padStart(4, '0')}`);
  const svc = { hosts: () => hosts.map((h) => ({ host: h, last_sample: now, last_seen: now })) } as unknown as MetricService;
  const sources = logStoreSources({ logs: { hosts: () => [] } } as unknown as Storage, metricServiceSources(svc, recent), () => now);
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-alerts-defaults-'));
  const store = openSqliteAlertStore(dir);
  const events = { emit() {}, add() {} } as unknown as EventSink;
  const ev = await Evaluator.open({ store, sources, notifiers: [], clock: () => now, events, configRules: [], defaultRules: rules, repeatIntervalMs: 4 * 3_600_000 });
  let fed = 0;
  const feed = () => {
    for (const h of hosts) {
      const g = (name: string, value: number, labels?: Record<string, string>) => ({ name, type: 'GAUGE' as const, ts: now, value, ...(labels ? { labels } : {}) });
      const samples = [
        g('df.used_pct', 40, { mount: '/' }), g('df.used_pct', 20, { mount: '/data' }), g('df.inodes_used_pct', 5, { mount: '/' }), g('df.inodes_used_pct', 3, { mount: '/data' }),
        g('memory.available', 5e9), g('memory.total', 8e9), g('memory.swap_used', 0), g('memory.swap_total', 0),
        g('cpu.idle', 80), g('cpu.iowait', 1), g('cpu.steal', 0), g('load.cores', 2), g('load.15', 0.5), g('fds.open', 1000), g('fds.max', 100_000),
        g('agent.spool_bytes', 0), g('agent.spool_max_bytes', 268_435_456), g('agent.lag_ms', 100), g('agent.lines_dropped', 0),
      ];
      fed += samples.length;
      recent.record({ version: 1, agent_id: `agt_${h}`, host: h, interval_ms: 10_000, samples } as MetricBatch);
    }
  };
  const feedStart = performance.now();
  for (let i = 0; i < 360; i++) {
    now += 10_000;
    feed();
  }
  const feedUsPerSample = ((performance.now() - feedStart) * 1000) / fed;
  await ev.cycle();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 6; i++) {
    now += 10_000;
    feed();
    const c0 = process.cpuUsage();
    wall.push((await ev.cycle()).ms);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { instances: ev.lastCycle!.instances, wallMs: median(wall), cpuMs: median(cpu), feedUsPerSample };
}

export async function main(args: string[]): Promise<void> {
  const runs = arg(args, 'runs', 3);
  const nRules = arg(args, 'rules', 10_000);
  const nHosts = arg(args, 'hosts', 1000);
  const intervalMs = arg(args, 'interval-ms', 10_000);
  const crossings = arg(args, 'crossings', 4);
  const rrdRuns = arg(args, 'rrd-runs', 1);
  const defaultsHosts = arg(args, 'defaults-hosts', nHosts);
  const defaults = defaultsHosts > 0 ? await defaultsRun(defaultsHosts) : null;
  if (defaults) {
    process.stdout.write(
      `default rules over ${defaultsHosts} hosts (${defaults.instances} instances): cycle ${defaults.wallMs.toFixed(1)} ms wall, ${defaults.cpuMs.toFixed(1)} ms CPU; feeding the cache ${defaults.feedUsPerSample.toFixed(2)} µs per sample\n`,
    );
  }
  const results: RunResult[] = [];
  const rrd: RrdResult[] = [];
  for (let i = 0; i < rrdRuns; i++) {
    const r = await rrdRun(nRules, nHosts);
    rrd.push(r);
    process.stdout.write(`rrd run ${i + 1}: ${nRules} series created and fed 3 rounds in ${r.setupS.toFixed(1)} s; cycle quiet ${r.quietMs.toFixed(1)} ms, storm ${r.stormMs.toFixed(1)} ms, first cycle after restart ${r.restartCycleMs.toFixed(0)} ms\n`);
  }
  for (let i = 0; i < runs; i++) {
    const r = await oneRun(nRules, nHosts, intervalMs, crossings);
    results.push(r);
    process.stdout.write(
      `run ${i + 1}: cycle quiet ${r.quietMs.toFixed(1)} ms (p95 ${r.quietP95.toFixed(1)}), storm ${r.stormMs.toFixed(1)} ms (max ${r.stormMax.toFixed(1)}, ${r.stormTransitions} transitions), first ${r.firstCycleMs.toFixed(1)} ms; ` +
        `crossing→webhook ${r.delays.map((d) => d.toFixed(0)).join(', ')} ms; cycle start→webhook ${r.pipeline.map((d) => d.toFixed(0)).join(', ')} ms\n`,
    );
  }
  const allDelays = results.flatMap((r) => r.delays);
  const rows: Array<[string, string]> = [];
  if (results.length > 0) rows.push(
    [`evaluation cycle, ${nRules} rules / ${nHosts} hosts, ~0.1% crossing (median of run medians)`, `${median(results.map((r) => r.quietMs)).toFixed(1)} ms`],
    ['evaluation cycle p95 (median of runs)', `${median(results.map((r) => r.quietP95)).toFixed(1)} ms`],
    ['evaluation cycle, 10% of rules changing state (median / max of 5)', `${median(results.map((r) => r.stormMs)).toFixed(1)} / ${median(results.map((r) => r.stormMax)).toFixed(1)} ms`],
    ['first cycle (cold)', `${median(results.map((r) => r.firstCycleMs)).toFixed(1)} ms`],
    [`crossing → signed webhook received, interval ${intervalMs / 1000} s (median of ${allDelays.length})`, `${median(allDelays).toFixed(0)} ms`],
    ['crossing → webhook, max', `${Math.max(...allDelays).toFixed(0)} ms`],
    ['start of the detecting cycle → webhook received (median)', `${median(results.flatMap((r) => r.pipeline)).toFixed(0)} ms`],
  );
  rows.push(
    ...(rrd.length
      ? ([
          [`real metric path (round-robin store), cycle ~0.1% crossing (median of ${rrd.length})`, `${median(rrd.map((r) => r.quietMs)).toFixed(1)} ms`],
          ['real metric path, cycle with 10% changing state', `${median(rrd.map((r) => r.stormMs)).toFixed(1)} ms`],
          ['real metric path, first cycle after a restart (windows seeded from the store)', `${median(rrd.map((r) => r.restartCycleMs)).toFixed(0)} ms`],
        ] as Array<[string, string]>)
      : []),
    ...(defaults
      ? ([[`default rules over ${defaultsHosts} hosts (${defaults.instances} instances), cycle wall / CPU (median of 6)`, `${defaults.wallMs.toFixed(1)} / ${defaults.cpuMs.toFixed(1)} ms`]] as Array<[string, string]>)
      : []),
    ['target', 'cycle < 500 ms'],
  );
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\n| measure${' '.repeat(w - 7)} | ringtail |\n| ${'-'.repeat(w)} | --- |\n`);
  for (const [k, v] of rows) process.stdout.write(`| ${k.padEnd(w)} | ${v} |\n`);
}
