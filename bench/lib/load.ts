// Load benchmark: N simulated agents over loopback against a real `ringtail collector` process,
// each sending 20 log lines per second (as batches every `intervalMs`, like the agent's linger)
// and 60 metric values every 10 s (one request, like the agent's metrics runner), while a
// reader queries. Reports ingest latency, the collector's CPU and RSS (from /proc), the
// group-commit shape and event-loop lag (from its /metrics), query latency under load, and checks
// that every line and every metric value sent was stored exactly once.
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { INGEST_PATH, METRICS_INGEST_PATH, WIRE_VERSION, type IngestAck, type MetricAck, type MetricBatch } from '../../shared/wire.js';
import { genBatch, hostName, rng } from './loglines.js';
import { phaseReport, prepareRequest, RawConnection, serverTiming, serverTimings } from './rawhttp.js';
import { pct, table } from './stats.js';

// RINGTAIL_BENCH_BIN: another build's bin/ringtail (A/B with the same harness, as bench/logs.ts)
const BIN = process.env.RINGTAIL_BENCH_BIN ?? fileURLToPath(new URL('../../../bin/ringtail', import.meta.url));
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

/** CPU ticks per thread of a process: the event loop (tid = pid) and each other thread by name */
export function threadCpuTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'event loop' : f.slice(f.indexOf('(') + 1, f.lastIndexOf(')'));
      const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
      out.set(name, (out.get(name) ?? 0) + Number(parts[11]) + Number(parts[12]));
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** The busiest threads' CPU seconds between two samples, as `name s` pairs. */
export function threadCpuReport(before: Map<string, number>, after: Map<string, number>): string {
  return [...after]
    .map(([name, t]) => [name, (t - (before.get(name) ?? 0)) / CLK] as const)
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${s.toFixed(1)}`)
    .join(', ');
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
  /** agents appear (first log and metric request, series created) over this many seconds of the measurement */
  appearSeconds?: number;
  /** the metric store on the event loop (as before its thread), for comparison */
  metricsInline?: boolean;
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
    // as deploy/systemd/ringtail-collector.service starts it (MALLOC_ARENA_MAX=0 in the bench's
    // environment: glibc's own number of arenas, for comparison)
    env: { MALLOC_ARENA_MAX: '2', ...process.env, RINGTAIL_BENCH_WRITER: o.writer ?? 'worker', RINGTAIL_BENCH_METRICS: o.metricsInline ? 'inline' : 'thread' },
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
  const port = Number(new URL(url).port);

  const metricsPer = o.metrics ?? 60;
  const metricIntervalMs = o.metricIntervalMs ?? 10_000;
  const appearMs = (o.appearSeconds ?? 10) * 1000;
  const m = { sent: 0, accepted: 0, duplicates: 0, failures: 0, created: 0, latencies: [] as number[], firstLatencies: [] as number[], server: [] as number[], phases: [] as Array<{ at: number; first: boolean; client: number; t: Record<string, number> }> };
  const latencies: number[] = [];
  const queryMs: number[] = [];
  let sent = 0;
  let acked = 0;
  let failures = 0;
  const r = rng(1);

  // Every request is built before the measurement, stamped with the time it is planned for
  // (agent i appears at i/agents of the appearance window, then sends every interval): the
  // generator's work during the run is writing prepared bytes and reading short answers.
  const prepStarted = Date.now();
  const t0 = Date.now() + 2000;
  const deadline = t0 + o.seconds * 1000;
  const appearAt = (i: number) => t0 + Math.floor((i * appearMs) / o.agents);
  const logPlans: Buffer[][] = [];
  const metricPlans: Buffer[][] = [];
  for (let i = 0; i < o.agents; i++) {
    const host = hostName(i);
    const logs: Buffer[] = [];
    let offset = 0;
    for (let t = appearAt(i); t < deadline; t += intervalMs) {
      const { batch, end } = genBatch(r, host, `bench-${i}`, offset, perBatch, t, 1);
      batch.agent_id = `agt_bench_${i}`;
      offset = end;
      logs.push(prepareRequest(INGEST_PATH, tokens[i]!, JSON.stringify(batch)));
    }
    logPlans.push(logs);
    const metrics: Buffer[] = [];
    if (metricsPer > 0) {
      let tick = 0;
      for (let t = appearAt(i); t < deadline; t += metricIntervalMs) {
        tick++;
        const batch: MetricBatch = {
          version: WIRE_VERSION,
          agent_id: `agt_bench_${i}`,
          host,
          interval_ms: metricIntervalMs,
          samples: Array.from({ length: metricsPer }, (_, k) => ({
            name: `bench.m${String(k).padStart(2, '0')}`,
            type: k % 4 === 3 ? ('COUNTER' as const) : ('GAUGE' as const),
            ts: t,
            value: k % 4 === 3 ? tick * 1000 + k : Math.round(r() * 10_000) / 100,
          })),
        };
        metrics.push(prepareRequest(METRICS_INGEST_PATH, tokens[i]!, JSON.stringify(batch)));
      }
    }
    metricPlans.push(metrics);
  }
  const prepMs = Date.now() - prepStarted;

  // prom-client resets its event-loop delay histogram on each scrape: one now, so that the lag
  // reported at the end is that of the measurement
  await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
  while (Date.now() < t0 - 200) await new Promise((res) => setTimeout(res, 50));
  const cpu0 = procCpuTicks(pid);
  const threads0 = threadCpuTicks(pid);
  const self0 = process.cpuUsage();
  let rssMax = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, procRssBytes(pid))), 500);

  const until = (t: number) => new Promise((res) => setTimeout(res, Math.max(0, t - Date.now())));
  const agent = async (i: number) => {
    const conn = new RawConnection(port);
    let next = appearAt(i);
    for (const req of logPlans[i]!) {
      await until(next);
      const started = performance.now();
      try {
        const a = await conn.send(req);
        if (a.status !== 200) throw new Error(`${a.status} ${a.body}`);
        acked += (JSON.parse(a.body) as IngestAck).accepted;
        latencies.push(performance.now() - started);
      } catch (err) {
        failures++;
        if (failures < 5) process.stderr.write(`ingest failed: ${(err as Error).message}\n`);
      }
      sent += perBatch;
      next += intervalMs;
    }
    conn.close();
  };
  const metricAgent = async (i: number) => {
    const conn = new RawConnection(port);
    let next = appearAt(i);
    let first = true;
    for (const req of metricPlans[i]!) {
      await until(next);
      const started = performance.now();
      try {
        const a = await conn.send(req);
        if (a.status !== 200) throw new Error(`${a.status} ${a.body}`);
        const ack = JSON.parse(a.body) as MetricAck;
        m.accepted += ack.accepted;
        m.duplicates += ack.duplicates;
        m.created += ack.created;
        m.latencies.push(performance.now() - started);
        const st = serverTiming(a, 'ack');
        if (Number.isFinite(st)) m.server.push(st);
        m.phases.push({ at: (Date.now() - t0) / 1000, first, client: performance.now() - started, t: serverTimings(a) });
        if (first) m.firstLatencies.push(performance.now() - started);
      } catch (err) {
        m.failures++;
        if (m.failures < 5) process.stderr.write(`metric ingest failed: ${(err as Error).message}\n`);
      }
      first = false;
      m.sent += metricsPer;
      next += metricIntervalMs;
    }
    conn.close();
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
  const genCpuS = (() => {
    const c = process.cpuUsage(self0);
    return (c.user + c.system) / 1e6;
  })();
  clearInterval(sampler);
  const cpuPct = ((procCpuTicks(pid) - cpu0) / CLK / elapsed) * 100;
  const genPct = (genCpuS / elapsed) * 100;
  const collectorCpuS = (procCpuTicks(pid) - cpu0) / CLK;
  const threads = threadCpuReport(threads0, threadCpuTicks(pid));

  const metrics = await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text();
  const val = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metrics)?.[1] ?? NaN);
  const committed = val('ringtail_ingest_lines_total');
  const commits = val('ringtail_commit_seconds_count');
  const commitMean = (val('ringtail_commit_seconds_sum') / commits) * 1000;
  const lagP99 = val('ringtail_nodejs_eventloop_lag_p99_seconds') * 1000;
  // server-side latency (body parsed → acknowledged) from the collector's histogram: the
  // upper bound of the bucket holding the quantile
  const histogram = (name: string) => {
    const buckets = [...metrics.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))].map((m) => [Number(m[1]), Number(m[2])] as const);
    const total = buckets.at(-1)?.[1] ?? 0;
    return (q: number) => (buckets.find(([, n]) => n >= q * total)?.[0] ?? NaN) * 1000;
  };
  const quantile = histogram('ringtail_ingest_batch_seconds');
  const metricQuantile = histogram('ringtail_metric_batch_seconds');
  process.off('exit', killChild);
  proc.kill('SIGTERM');
  await new Promise((res) => proc.once('exit', res));

  const phases = phaseReport(m.phases);
  writeFileSync(join(o.dir, 'load-metric-timing.tsv'), phases.tsv);
  const expected = sent - failures * perBatch;
  const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  process.stdout.write(
    table(
      ['load', 'value'],
      [
        ['agents × lines/s (batch every)', `${o.agents} × ${lps} (${intervalMs} ms, ${perBatch} lines)`],
        ['log writer, metric store, MALLOC_ARENA_MAX; machine load average at the end', `${o.writer ?? 'worker'}, ${o.metricsInline ? 'event loop' : 'thread'}, ${process.env.MALLOC_ARENA_MAX ?? '2'}; ${loadavg}`],
        ['duration', `${elapsed.toFixed(1)} s`],
        ['lines sent / committed (metric) / acked', `${sent} / ${committed} / ${acked}`],
        ['failed requests', String(failures)],
        ['nothing lost', committed === expected && acked === expected && failures === 0 ? 'yes' : 'NO'],
        ['ingest rate', `${(acked / elapsed).toFixed(0)} lines/s, ${(latencies.length / elapsed).toFixed(0)} req/s`],
        ['ingest latency p50 / p99 (client, includes generator lag)', `${pct(latencies, 50).toFixed(1)} / ${pct(latencies, 99).toFixed(1)} ms`],
        ['ingest latency p50 / p99 (collector, parsed → ack, bucket bound)', `≤ ${quantile(0.5)} / ≤ ${quantile(0.99)} ms`],
        ['collector CPU (avg, 100% = 1 core), CPU s per 1 M lines', `${cpuPct.toFixed(0)} %, ${((collectorCpuS / Math.max(1, acked)) * 1e6).toFixed(1)} s`],
        ['collector CPU s by thread (event loop = tid pid)', threads],
        ['collector RSS (max)', `${(rssMax / 2 ** 20).toFixed(0)} MiB`],
        ['group commits: count, batches per commit, mean ms', `${commits}, ${(latencies.length / commits).toFixed(1)}, ${commitMean.toFixed(2)}`],
        ['collector event-loop lag p99 (measurement only)', `${lagP99.toFixed(1)} ms`],
        ['search (q=word, limit 100) during load p50 / p99 (reader process of its own)', `${pct(queryMs, 50).toFixed(1)} / ${pct(queryMs, 99).toFixed(1)} ms (${queryMs.length} queries)`],
        ['load generator CPU (same machine; requests prepared beforehand in ' + (prepMs / 1000).toFixed(1) + ' s)', `${genPct.toFixed(0)} % (${genCpuS.toFixed(1)} CPU s)`],
        [`metric values (${metricsPer} per agent per ${metricIntervalMs / 1000} s) sent / accepted / duplicates`, `${m.sent} / ${m.accepted} / ${m.duplicates}`],
        [`metric series created during the measurement (default 8-archive host layout), agents appearing over`, `${m.created} series, ${appearMs / 1000} s`],
        ['metric ingest latency p50 / p99 (collector, parsed → ack, bucket bound)', `≤ ${metricQuantile(0.5)} / ≤ ${metricQuantile(0.99)} ms`],
        ['metric ingest latency p50 / p99 / max (collector, each request\'s Server-Timing)', `${pct(m.server, 50).toFixed(1)} / ${pct(m.server, 99).toFixed(1)} / ${pct(m.server, 100).toFixed(1)} ms over ${m.server.length}`],
        ['metric request phases (Server-Timing), median of all / of the ack p99 tail, ms (per request: bench/out/load-metric-timing.tsv)', phases.summary],
        ["an agent's first metric request (creates its series) p50 / p99 / max (client)", `${pct(m.firstLatencies, 50).toFixed(1)} / ${pct(m.firstLatencies, 99).toFixed(1)} / ${pct(m.firstLatencies, 100).toFixed(1)} ms`],
        ['metric values: failed requests, nothing lost', `${m.failures}, ${m.accepted === m.sent && m.duplicates === 0 && m.failures === 0 ? 'yes' : 'NO'}`],
        ['metric ingest rate, latency p50 / p99 (client)', `${(m.accepted / elapsed).toFixed(0)} values/s, ${pct(m.latencies, 50).toFixed(1)} / ${pct(m.latencies, 99).toFixed(1)} ms`],
      ],
    ) + '\n',
  );
}
