// Load benchmark: N simulated agents over loopback against a real `ringtail collector` process,
// each sending 20 log lines per second (as batches every `intervalMs`, like the agent's linger)
// and 60 metric values every 10 s (one request, like the agent's metrics runner), while a
// reader queries. Reports ingest latency, the collector's CPU and RSS (from /proc), the
// group-commit shape and event-loop lag (from its /metrics), query latency under load, and checks
// that every line and every metric value sent was stored exactly once.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { INGEST_PATH, METRICS_INGEST_PATH, WIRE_VERSION, type IngestAck, type MetricAck, type MetricBatch } from '../../shared/wire.js';
import { genBatch, hostName, rng } from './loglines.js';
import { pct, table } from './stats.js';

const BIN = fileURLToPath(new URL('../../../bin/ringtail', import.meta.url));
const CLK = 100; // USER_HZ on Linux

function procCpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(parts[11]) + Number(parts[12]);
}
function procRssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export interface LoadOptions {
  agents: number;
  seconds: number;
  dir: string;
  linesPerSecond?: number;
  intervalMs?: number;
  writer?: 'inline' | 'worker';
  /** metric values per agent per metricIntervalMs; 0 leaves the metric half out */
  metrics?: number;
  metricIntervalMs?: number;
}

export async function loadBench(o: LoadOptions): Promise<void> {
  const lps = o.linesPerSecond ?? 20;
  const intervalMs = o.intervalMs ?? 500;
  const perBatch = Math.round((lps * intervalMs) / 1000);
  const data = join(o.dir, 'load-data');
  rmSync(data, { recursive: true, force: true });
  const admin = 'bench-admin-token-0123456789';
  const storage = openSqliteStorage(data);
  const tokens: string[] = [];
  for (let i = 0; i < o.agents; i++) tokens.push((await storage.tokens.create('agent', `bench ${i}`, Date.now())).token);
  storage.close();

  // The bench's metrics get the default host layout (8 archives, a year of rows at most): chunks
  // are allocated with the rows written, so 1,000 agents × 60 metrics take what their samples
  // take, not the 35 GB rrdtool's preallocated files would (before lazy chunks the bench used
  // one archive of 500 rows to fit this machine's disk).
  const config = join(o.dir, 'load-config.json');
  mkdirSync(o.dir, { recursive: true });
  writeFileSync(config, JSON.stringify({}));
  // RINGTAIL_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the collector's threads
  const nodeArgs = process.env.RINGTAIL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const proc = spawn(process.execPath, [...nodeArgs, BIN, 'collector', '--config', config, '--data', data, '--listen', '127.0.0.1:0', '--admin-token', admin, '--log-level', 'warn', '--retention-max-age-days', '0', '--no-syslog-enabled'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RINGTAIL_BENCH_WRITER: o.writer ?? 'worker' },
  });
  // a failed run must not leave the collector behind
  const killChild = () => proc.kill('SIGKILL');
  process.once('exit', killChild);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`collector exited ${code}`)));
  });
  const pid = proc.pid!;
  /** POSTs a JSON body as agent `token`; the parsed answer, or an Error naming a non-200 one */
  const postJson = async <T>(path: string, token: string, payload: unknown): Promise<T> => {
    const res = await fetch(url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(payload),
    });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${res.status} ${body}`);
    return JSON.parse(body) as T;
  };

  const metricsPer = o.metrics ?? 60;
  const metricIntervalMs = o.metricIntervalMs ?? 10_000;
  const m = { sent: 0, accepted: 0, duplicates: 0, failures: 0, created: 0, latencies: [] as number[] };
  const latencies: number[] = [];
  const queryMs: number[] = [];
  let sent = 0;
  let acked = 0;
  let failures = 0;
  let inflightMax = 0;
  let inflight = 0;
  const r = rng(1);
  const offsets = new Array<number>(o.agents).fill(0);
  let deadline = Number.POSITIVE_INFINITY;
  const metricTicks = new Array<number>(o.agents).fill(0);
  // Series are created on first sight; creating 60 k of them is a one-off that would swamp a
  // 30 s window, so every agent's first metric batch is sent (and timed) before the measurement.
  const warm = { ms: 0, created: 0, cpu: 0 };
  if (metricsPer > 0) {
    const cpuW = procCpuTicks(pid);
    const t = Date.now();
    let nextAgent = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (nextAgent < o.agents) await sendMetrics(nextAgent++, true);
      }),
    );
    warm.ms = Date.now() - t;
    warm.cpu = (procCpuTicks(pid) - cpuW) / CLK;
  }
  // prom-client resets its event-loop delay histogram on each scrape: one now, so that the lag
  // reported at the end is that of the measurement, not of the series creation before it
  await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
  deadline = Date.now() + o.seconds * 1000;
  const cpu0 = procCpuTicks(pid);
  const self0 = process.cpuUsage();
  const t0 = Date.now();
  let rssMax = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, procRssBytes(pid))), 500);

  const agent = async (i: number) => {
    // spread the agents' phases over one interval
    await new Promise((res) => setTimeout(res, (i * intervalMs) / o.agents));
    let next = Date.now();
    while (Date.now() < deadline) {
      const host = hostName(i);
      const { batch, end } = genBatch(r, host, `bench-${i}`, offsets[i]!, perBatch, Date.now(), 1);
      batch.agent_id = `agt_bench_${i}`;
      offsets[i] = end;
      const started = performance.now();
      inflight++;
      inflightMax = Math.max(inflightMax, inflight);
      try {
        // (not `acked += await …`: that reads `acked` before the await and loses concurrent adds)
        const ack = await postJson<IngestAck>(INGEST_PATH, tokens[i]!, batch);
        acked += ack.accepted;
        latencies.push(performance.now() - started);
      } catch (err) {
        failures++;
        if (failures < 5) process.stderr.write(`ingest failed: ${(err as Error).message}\n`);
      } finally {
        inflight--;
      }
      sent += perBatch;
      next += intervalMs;
      const wait = Math.min(next, deadline) - Date.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
  };
  async function sendMetrics(i: number, warmup = false): Promise<void> {
    const ts = Date.now();
    const tick = ++metricTicks[i]!;
    const batch: MetricBatch = {
      version: WIRE_VERSION,
      agent_id: `agt_bench_${i}`,
      host: hostName(i),
      interval_ms: metricIntervalMs,
      samples: Array.from({ length: metricsPer }, (_, k) => ({
        name: `bench.m${String(k).padStart(2, '0')}`,
        type: k % 4 === 3 ? ('COUNTER' as const) : ('GAUGE' as const),
        ts,
        value: k % 4 === 3 ? tick * 1000 + k : Math.round(r() * 10_000) / 100,
      })),
    };
    const started = performance.now();
    try {
      const ack = await postJson<MetricAck>(METRICS_INGEST_PATH, tokens[i]!, batch);
      if (warmup) {
        warm.created += ack.created;
        if (ack.accepted !== metricsPer) throw new Error(`warm-up: ${ack.accepted} of ${metricsPer} accepted`);
        return;
      }
      m.accepted += ack.accepted;
      m.duplicates += ack.duplicates;
      m.created += ack.created;
      m.latencies.push(performance.now() - started);
    } catch (err) {
      if (warmup) throw err;
      m.failures++;
      if (m.failures < 5) process.stderr.write(`metric ingest failed: ${(err as Error).message}\n`);
    }
    m.sent += metricsPer;
  }
  const metricAgent = async (i: number) => {
    // the warm-up sent one batch just now; the next is one interval later, phases spread
    // (+1 s: the store keeps whole seconds, a sample in the warm-up's second would be a duplicate)
    await new Promise((res) => setTimeout(res, 1000 + (i * metricIntervalMs) / o.agents));
    let next = Date.now();
    while (Date.now() < deadline) {
      await sendMetrics(i);
      next += metricIntervalMs;
      const wait = Math.min(next, deadline) - Date.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
  };
  // The reader runs in a process of its own: timed in the generator's process, a search would
  // also wait behind that process's event loop (2,000 simulated connections, most of a core),
  // which measures the generator, not the collector.
  const reader = async () => {
    const script = `
      const words = ['deadlock', 'timeout', 'publickey', 'snapshot'];
      const { URL: url, TOKEN: token, DEADLINE: deadline } = process.env;
      const ms = [];
      for (let k = 0; Date.now() < Number(deadline); k++) {
        const t = performance.now();
        const res = await fetch(url + '/api/v1/logs?limit=100&q=' + words[k % words.length], { headers: { authorization: 'Bearer ' + token } });
        await res.text();
        if (res.status === 200) ms.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 250));
      }
      process.stdout.write(JSON.stringify(ms));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, URL: url, TOKEN: admin, DEADLINE: String(deadline) },
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    await new Promise((res) => child.once('exit', res));
    queryMs.push(...(JSON.parse(out || '[]') as number[]));
  };
  const metricAgents = metricsPer > 0 ? Array.from({ length: o.agents }, (_, i) => metricAgent(i)) : [];
  await Promise.all([...Array.from({ length: o.agents }, (_, i) => agent(i)), ...metricAgents, reader()]);
  const elapsed = (Date.now() - t0) / 1000;
  clearInterval(sampler);
  const cpuPct = ((procCpuTicks(pid) - cpu0) / CLK / elapsed) * 100;
  const self = process.cpuUsage(self0);
  const genPct = ((self.user + self.system) / 1e6 / elapsed) * 100;

  const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
  const val = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const committed = val('ringtail_ingest_lines_total');
  const commits = val('ringtail_commit_seconds_count');
  const commitMean = (val('ringtail_commit_seconds_sum') / commits) * 1000;
  const lagP99 = val('ringtail_nodejs_eventloop_lag_p99_seconds') * 1000;
  // server-side latency (body parsed → acknowledged) from the collector's histogram: the
  // upper bound of the bucket holding the quantile
  const buckets = [...metrics.matchAll(/^ringtail_ingest_batch_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => [Number(m[1]), Number(m[2])] as const);
  const total = buckets.at(-1)?.[1] ?? 0;
  const quantile = (q: number) => (buckets.find(([, n]) => n >= q * total)?.[0] ?? NaN) * 1000;
  process.off('exit', killChild);
  proc.kill('SIGTERM');
  await new Promise((res) => proc.once('exit', res));

  const expected = sent - failures * perBatch;
  process.stdout.write(
    table(
      ['load', 'value'],
      [
        ['agents × lines/s (batch every)', `${o.agents} × ${lps} (${intervalMs} ms, ${perBatch} lines)`],
        ['writer', o.writer ?? 'worker'],
        ['duration', `${elapsed.toFixed(1)} s`],
        ['lines sent / committed (metric) / acked', `${sent} / ${committed} / ${acked}`],
        ['failed requests', String(failures)],
        ['nothing lost', committed === expected && acked === expected && failures === 0 ? 'yes' : 'NO'],
        ['ingest rate', `${(acked / elapsed).toFixed(0)} lines/s, ${(latencies.length / elapsed).toFixed(0)} req/s`],
        ['ingest latency p50 / p99 (client, includes generator lag)', `${pct(latencies, 50).toFixed(1)} / ${pct(latencies, 99).toFixed(1)} ms`],
        ['ingest latency p50 / p99 (collector, parsed → ack, bucket bound)', `≤ ${quantile(0.5)} / ≤ ${quantile(0.99)} ms`],
        ['collector CPU (avg, 100% = 1 core)', `${cpuPct.toFixed(0)} %`],
        ['collector RSS (max)', `${(rssMax / 2 ** 20).toFixed(0)} MiB`],
        ['group commits: count, batches per commit, mean ms', `${commits}, ${(latencies.length / commits).toFixed(1)}, ${commitMean.toFixed(2)}`],
        ['collector event-loop lag p99 (measurement only)', `${lagP99.toFixed(1)} ms`],
        ['search (q=word, limit 100) during load p50 / p99 (reader process of its own)', `${pct(queryMs, 50).toFixed(1)} / ${pct(queryMs, 99).toFixed(1)} ms (${queryMs.length} queries)`],
        ['load generator CPU (same machine)', `${genPct.toFixed(0)} %`],
        [`metric values (${metricsPer} per agent per ${metricIntervalMs / 1000} s) sent / accepted / duplicates`, `${m.sent} / ${m.accepted} / ${m.duplicates} (${m.created} series created)`],
        ['metric series creation (warm-up, before the measurement)', `${warm.created} series in ${(warm.ms / 1000).toFixed(1)} s, collector ${warm.cpu.toFixed(1)} CPU s (default host layout)`],
        ['metric values: failed requests, nothing lost', `${m.failures}, ${m.accepted === m.sent && m.duplicates === 0 && m.failures === 0 ? 'yes' : 'NO'}`],
        ['metric ingest rate, latency p50 / p99 (client)', `${(m.accepted / elapsed).toFixed(0)} values/s, ${pct(m.latencies, 50).toFixed(1)} / ${pct(m.latencies, 99).toFixed(1)} ms`],
      ],
    ) + '\n',
  );
}
