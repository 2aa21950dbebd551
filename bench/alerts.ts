// `npm run bench -- alerts [--runs 3] [--rules 10000] [--hosts 1000] [--interval-ms 10000] [--crossings 4]`
//
// 10,000 metric rules over 1,000 hosts (10 per host, each bound to its host), evaluated by the
// real evaluator on a real SQLite database, notifications signed and delivered over loopback:
//  1. ms per evaluation cycle: quiet (few crossings) and stormy (10% of the rules change state);
//  2. delay from a threshold crossing to the webhook's arrival, with the real timers at the
//     configured evaluation interval (expect about interval/2 + cycle + delivery).
// Values come from an in-memory source, so the figures are the evaluator's, state store's and
// outbox's cost, not a metric store's. No peer runs side by side: neither Prometheus nor
// Alertmanager is installed here (see BENCHMARKS.md).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../collector/app.js';
import { memorySources } from '../collector/alerts/sources.js';
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
  delays: number[];
  firstCycleMs: number;
}

async function oneRun(nRules: number, nHosts: number, intervalMs: number, crossings: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-alerts-'));
  const secret = generateSecret();
  const arrivals: Array<{ at: number; hosts: string[] }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = Date.now();
      const body = Buffer.concat(chunks);
      verify([secret], req.headers, body, at);
      const json = JSON.parse(body.toString('utf8')) as { alerts: Array<{ status: string; labels: { host: string } }> };
      arrivals.push({ at, hosts: json.alerts.filter((a) => a.status === 'firing').map((a) => a.labels.host) });
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
    alerts: { config: { evaluation_interval_ms: intervalMs, rules, webhooks: [{ name: 'bench', url, secret }] }, run: false, sources: src },
  });
  await app.ready();
  const ev = app.alerts.evaluator;

  // 1. cycles, 10 s apart on the injected clock
  const firstCycleMs = ev.cycle().ms;
  const quiet: number[] = [];
  for (let i = 0; i < 10; i++) {
    clock.t += 10_000;
    // about 0.1% of the rules cross each cycle
    for (let k = 0; k < nRules / 1000; k++) {
      const r = Math.floor(Math.random() * nRules);
      src.set(hosts[r % nHosts]!, `m${Math.floor(r / nHosts)}`, Math.random() < 0.5 ? 97 : 50);
    }
    quiet.push(ev.cycle().ms);
  }
  const storm: number[] = [];
  for (let i = 0; i < 5; i++) {
    clock.t += 10_000;
    for (let r = 0; r < nRules; r += 10) src.set(hosts[r % nHosts]!, `m${Math.floor(r / nHosts)}`, i % 2 ? 50 : 97);
    storm.push(ev.cycle().ms);
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
    alerts: { config: { evaluation_interval_ms: intervalMs, rules: immediate, webhooks: [{ name: 'bench', url, secret }] }, run: true, sources: src },
  });
  await live.ready();
  const delays: number[] = [];
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
        break;
      }
      await new Promise((res) => setTimeout(res, 5));
    }
    src.set(host, `m${Math.floor(r / nHosts)}`, 50);
  }
  await live.close();
  server.close();
  rmSync(dir2, { recursive: true, force: true });
  return { quietMs: median(quiet), quietP95: pct(quiet, 95), stormMs: median(storm), delays, firstCycleMs };
}

export async function main(args: string[]): Promise<void> {
  const runs = arg(args, 'runs', 3);
  const nRules = arg(args, 'rules', 10_000);
  const nHosts = arg(args, 'hosts', 1000);
  const intervalMs = arg(args, 'interval-ms', 10_000);
  const crossings = arg(args, 'crossings', 4);
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await oneRun(nRules, nHosts, intervalMs, crossings);
    results.push(r);
    process.stdout.write(
      `run ${i + 1}: cycle quiet ${r.quietMs.toFixed(1)} ms (p95 ${r.quietP95.toFixed(1)}), storm ${r.stormMs.toFixed(1)} ms, first ${r.firstCycleMs.toFixed(1)} ms; ` +
        `crossing→webhook ${r.delays.map((d) => d.toFixed(0)).join(', ')} ms\n`,
    );
  }
  const allDelays = results.flatMap((r) => r.delays);
  const rows: Array<[string, string]> = [
    [`evaluation cycle, ${nRules} rules / ${nHosts} hosts, ~0.1% crossing (median of run medians)`, `${median(results.map((r) => r.quietMs)).toFixed(1)} ms`],
    ['evaluation cycle p95 (median of runs)', `${median(results.map((r) => r.quietP95)).toFixed(1)} ms`],
    ['evaluation cycle, 10% of rules changing state, with outbox rows', `${median(results.map((r) => r.stormMs)).toFixed(1)} ms`],
    ['first cycle (cold)', `${median(results.map((r) => r.firstCycleMs)).toFixed(1)} ms`],
    [`crossing → signed webhook received, interval ${intervalMs / 1000} s (median of ${allDelays.length})`, `${median(allDelays).toFixed(0)} ms`],
    ['crossing → webhook, max', `${Math.max(...allDelays).toFixed(0)} ms`],
    ['target', 'cycle < 500 ms'],
  ];
  const w = Math.max(...rows.map((r) => r[0].length));
  process.stdout.write(`\n| measure${' '.repeat(w - 7)} | ringtail |\n| ${'-'.repeat(w)} | --- |\n`);
  for (const [k, v] of rows) process.stdout.write(`| ${k.padEnd(w)} | ${v} |\n`);
}
