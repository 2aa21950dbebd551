// `npm run bench -- fleet [--seed] [--days N] [--permanent N] [--per-day N] [--life-h H] [--interval S] [--log-lines N] [--known N] [--appear N] [--past-batch N]`
//
// A fleet time-compressed (issue 14): `permanent` hosts for the whole span plus `per-day`
// ephemeral instances a day, each living `life-h` hours, every one sending the agent's default
// metric families and log lines, all stamped with simulated times ending now. A real
// `ringtail collector` process (metric store on its thread) takes it as fast as it answers.
// Then, on top of what it holds: `appear` new ephemeral hosts appear in one real minute while the
// fleet keeps sending (ingest latency, alert cycle time with the default rules), and the hosts
// API is timed with `known` hosts known (hosts of the month before the simulated span are
// seeded into the host table as retired ephemeral ones). At the end the metric store's and the
// log database's disk are measured (the store compacted) and compared with what rrdtool's
// preallocated files would take for the same series (595,320 B each, the default layout).
//
// Scaling (said in the output): samples are sent every `interval` simulated seconds (default
// 300: within the default heartbeat of 2 × interval every 10 s row between two samples is known,
// so the archives hold what 10 s sampling leaves, at 1/30 of the updates); log lines are sent at
// `log-lines` per host per interval instead of 5 per second, and the logs' disk is extrapolated
// from the measured bytes per line. The simulated past goes `past-batch` samples of a host per
// request (default 12: an ephemeral host's whole life at 600 s), as an agent's spool sends after
// a gap: the same updates in the store, 1/12 of the round trips (collector CPU per simulated day
// 146 → 73 s, same metrics disk). Every request's client and collector (Server-Timing) times
// are written to bench/out/fleet-requests.tsv.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFamilies } from '../agent/metrics/families.js';
import { FAMILY_NAMES } from '../agent/metrics/config.js';
import type { Sample } from '../agent/metrics/types.js';
import Database from 'better-sqlite3';
import { seriesChunkRange } from '../collector/rrd/chunks.js';
import { openRrdStore } from '../collector/rrd/sqlite-store.js';
import { openSqliteStorage } from '../collector/storage/sqlite/index.js';
import { INGEST_PATH, METRICS_INGEST_PATH, WIRE_VERSION, type IngestBatch } from '../shared/wire.js';
import { seedMonth } from './lib/fleet-seed.js';
import { dirtyMiB, IoWatch, syncSetup } from './lib/io-watch.js';
import { threadCpuReport, threadCpuTicks } from './lib/load.js';
import { phaseReport, prepareGet, prepareRequest, RawConnection, serverTiming, serverTimings } from './lib/rawhttp.js';
import { pct, table } from './lib/stats.js';

// RINGTAIL_BENCH_BIN: another build's bin/ringtail (A/B with the same harness, as bench/logs.ts)
const BIN = process.env.RINGTAIL_BENCH_BIN ?? fileURLToPath(new URL('../../bin/ringtail', import.meta.url));
const RRDTOOL_BYTES_PER_SERIES = 595_320;
const DAY = 86_400;

function arg(args: string[], name: string, def: number): number {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : def;
}
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const cpuOf = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const p = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(p[11]) + Number(p[12])) / 100;
};
const dirBytes = (dir: string, match: (f: string) => boolean) =>
  readdirSync(dir)
    .filter(match)
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);

/** The agent's default families sampled twice on this machine: the names, types and labels a host sends. */
async function defaultTemplate(): Promise<Sample[]> {
  const fams = createFamilies(FAMILY_NAMES, { snapshot: () => ({}) });
  for (const f of fams) await f.collect(Date.now());
  await new Promise((r) => setTimeout(r, 1100));
  const out: Sample[] = [];
  for (const f of fams) out.push(...(await f.collect(Date.now())));
  for (const f of fams) f.close?.();
  // one series per (name, labels)
  const seen = new Set<string>();
  return out.filter((s) => {
    const k = s.name + JSON.stringify(s.labels ?? {});
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** the value a host sends for template sample `k` at its `tick`-th sample (counters only grow) */
const sampleValue = (s: Sample, tick: number, k: number): number => (s.type === 'GAUGE' ? Math.round(s.value * (0.8 + (0.4 * ((tick * 7 + k * 13) % 10)) / 10) * 100) / 100 : tick * 1000 + k);

interface SimHost {
  name: string;
  ephemeral: boolean;
  /** simulated seconds */
  from: number;
  to: number;
  offset: number;
  tick: number;
  /** the agent token this host always sends with (an agent_id is bound to its token) */
  token: number;
}

export async function main(args: string[]): Promise<void> {
  const days = arg(args, 'days', 1);
  const permanent = arg(args, 'permanent', 200);
  const perDay = arg(args, 'per-day', 1000);
  const lifeS = arg(args, 'life-h', 2) * 3600;
  const interval = arg(args, 'interval', 300);
  const logLines = arg(args, 'log-lines', 1);
  const known = arg(args, 'known', 30_000);
  const appear = arg(args, 'appear', 1000);
  const conns = arg(args, 'connections', 16);
  const past = Math.max(1, arg(args, 'past-batch', 12));
  const out = fileURLToPath(new URL('../../bench/out/', import.meta.url));
  // `--seed DIR`: the store seeded there once and reused by later runs (each appearing phase
  // adds its own new hosts, named by the run); otherwise a fresh bench/out/fleet-data
  const seedAt = args.indexOf('--seed');
  const seedDir = seedAt >= 0 && args[seedAt + 1] && !args[seedAt + 1]!.startsWith('--') ? args[seedAt + 1]! : undefined;
  const data = seedDir ?? join(out, 'fleet-data');
  const reuse = seedDir !== undefined && existsSync(join(data, 'metrics.db'));
  if (!seedDir) rmSync(data, { recursive: true, force: true });
  mkdirSync(data, { recursive: true });
  process.stdout.write(`fleet benchmark, ${new Date().toISOString()}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n\n`);

  const template = await defaultTemplate();
  const nowS = Math.floor(Date.now() / 1000);
  const end = nowS - 2 * interval; // the last simulated sample, safely in the past
  const start = end - days * DAY;

  // hosts
  const hosts: SimHost[] = [];
  for (let i = 0; i < permanent; i++) hosts.push({ name: `perm-${String(i).padStart(4, '0')}`, ephemeral: false, from: start, to: end, offset: 0, tick: 0, token: i % conns });
  for (let d = 0; d < days; d++) {
    for (let j = 0; j < perDay; j++) {
      const from = start + d * DAY + Math.floor((j * DAY) / perDay);
      hosts.push({ name: `eph-d${String(d).padStart(2, '0')}-${String(j).padStart(4, '0')}`, ephemeral: true, from, to: Math.min(end, from + lifeS), offset: 0, tick: 0, token: j % conns });
    }
  }
  // the month's earlier hosts, known to the host table only (retired ephemeral instances)
  const seeded = Math.max(0, known - hosts.length);
  const admin = 'bench-admin-token-0123456789';
  const storage = openSqliteStorage(data);
  const tokens = await Promise.all(Array.from({ length: conns }, async (_, i) => (await storage.tokens.create('agent', `fleet ${i}`, Date.now())).token));
  if (seeded > 0 && storage.hostStates && !reuse) {
    const rows = Array.from({ length: seeded }, (_, i) => {
      const t = (start - (30 - days) * DAY + Math.floor((i * (30 - days) * DAY) / seeded)) * 1000;
      return { host: `eph-old-${String(i).padStart(5, '0')}`, first_seen: t, last_seen: t + lifeS * 1000, state: 'retired' as const, state_since: t + lifeS * 1000 + 3_600_000, ephemeral: true, interval_ms: 10_000, sources: ['logs', 'metrics'] as Array<'logs' | 'metrics'>, agent_id: `agt_old_${i}` };
    });
    await storage.hostStates.save(rows, [], []);
  }
  // `--seed`: the span's store and host table built directly (bench/lib/fleet-seed.ts), then
  // only the appearing phase runs
  const seed = seedAt >= 0;
  if (seed && reuse) {
    // the ticks the seed left (counters keep growing)
    for (const h of hosts) for (let t = h.from; t < h.to; t += interval) h.tick++;
    process.stderr.write(`  reusing the seeded store in ${data}\n`);
  } else if (seed) {
    const r = seedMonth({ path: join(data, 'metrics.db'), hostStates: storage.hostStates, hosts, template, interval, value: sampleValue, ephemeralChunks: !args.includes('--seed-no-ephemeral-chunks'), log: (l) => process.stderr.write(`${l}\n`) });
    process.stderr.write(`  seeded ${r.series} series in ${r.seconds.toFixed(0)} s\n`);
    for (const f of ['metrics.db', 'metrics.db-wal']) process.stderr.write(`  ${f}: ${(statSync(join(data, f), { throwIfNoEntry: false })?.size ?? 0) / 2 ** 20} MiB\n`);
  }
  storage.close();

  const config = join(out, 'fleet-config.json');
  // compressed time: a host silent for a few real seconds is one whose instance ended
  writeFileSync(config, JSON.stringify({ hosts: { down_after: '2m', retire_after: '20s', sweep_interval: '1s' } }));
  // `--cpu-prof DIR`: the collector's threads write V8 CPU profiles there when it exits
  const profDir = args.includes('--cpu-prof') ? args[args.indexOf('--cpu-prof') + 1]! : undefined;
  const proc = spawn(process.execPath, [...(profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []), BIN, 'collector', '--config', config, '--data', data, '--listen', '127.0.0.1:0', '--admin-token', admin, '--log-level', 'warn', '--retention-max-age-days', '0', '--no-syslog-enabled'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  const url = await new Promise<string>((resolve, reject) => {
    let s = '';
    proc.stdout!.on('data', (d) => {
      s += d;
      const m = /listening on (http:\/\/\S+)/.exec(s);
      if (m) resolve(m[1]!);
    });
    proc.on('exit', (code) => reject(new Error(`collector exited ${code}`)));
  });
  const pid = proc.pid!;
  const port = Number(new URL(url).port);
  // the disk beside the latencies (bench/out/fleet-io.tsv): dirty/writeback, I/O pressure, threads in D
  const io = new IoWatch(pid);
  let rssMax = 0;
  const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssOf(pid))), 500);

  // A host's first request declares the simulated interval: the collector sizes its series'
  // heartbeat from it (2 × interval), so the rows between two samples are filled as 10 s
  // sampling fills them. Later requests declare 10 s, the real time between them during the
  // appearance phase, so that the lifecycle (stale after 3 intervals) runs on the real clock.
  // Each template sample's JSON up to its time is built once instead of JSON.stringify of 83
  // sample objects per request; the body is what it was, key for key.
  const samplePrefix = template.map((s) => `{"name":${JSON.stringify(s.name)},"type":${JSON.stringify(s.type)}${s.labels ? `,"labels":${JSON.stringify(s.labels)}` : ''},"ts":`);
  /** one request carrying the samples of `stamps` (simulated seconds, ascending): an agent's spool after a gap looks the same */
  const metricBody = (h: SimHost, stamps: number[], realInterval = false): string => {
    const head = `{"version":${WIRE_VERSION},"agent_id":${JSON.stringify(`agt_${h.name}`)},"host":${JSON.stringify(h.name)},"interval_ms":${h.tick === 0 && !realInterval ? interval * 1000 : 10_000}${h.ephemeral ? ',"ephemeral":true' : ''},"samples":[`;
    const parts: string[] = [];
    for (const ts of stamps) {
      h.tick++;
      for (let k = 0; k < template.length; k++) {
        parts.push(`${samplePrefix[k]}${ts * 1000},"value":${JSON.stringify(sampleValue(template[k]!, h.tick, k))}}`);
      }
    }
    return `${head}${parts.join(',')}]}`;
  };
  let logBytesSent = 0;
  /** `n` lines per stamp, one segment (the file read on from the host's offset) */
  const logBody = (h: SimHost, stamps: number[], n: number): string => {
    const lines = [];
    let o = h.offset;
    for (const ts of stamps) {
      for (let i = 0; i < n; i++) {
        const message = `${h.name} worker ${i}: request completed in ${(h.tick * 37 + i * 11) % 900} ms status=200 path=/api/v1/items/${(h.tick * 131 + i) % 10_000}`;
        lines.push({ offset: o, ts: ts * 1000 + i, program: 'app', pid: 1000 + (i % 7), severity: 6, message });
        o += Buffer.byteLength(message) + 1;
        logBytesSent += Buffer.byteLength(message) + 1;
      }
    }
    const batch: IngestBatch = { version: WIRE_VERSION, agent_id: `agt_${h.name}`, host: h.name, ...(h.ephemeral ? { ephemeral: true } : {}), segments: [{ stream: `${h.name}-app`, source: '/var/log/app.log', start: h.offset, end: o, lines }] };
    h.offset = o;
    return JSON.stringify(batch);
  };

  // ---- the simulated span, as fast as the collector answers (closed loop, `conns` sockets)
  const pool = Array.from({ length: conns }, () => new RawConnection(port));
  let failures = 0;
  let values = 0;
  let lines = 0;
  // Every request's time at both ends, written to fleet-requests.tsv: the client's (request
  // written → answer read) and the collector's (its Server-Timing `ack`, the value its ack
  // histogram observes for that request).
  const trace: string[] = ['phase\tkind\thost\tvalues_or_lines\tclient_ms\tcollector_ms'];
  const simMs = { metric: [] as number[], metricServer: [] as number[], log: [] as number[], logServer: [] as number[] };
  interface Job {
    kind: 'metric' | 'log';
    host: string;
    n: number;
    build(): Buffer;
  }
  const run = async (jobs: Job[]): Promise<void> => {
    let next = 0;
    await Promise.all(
      pool.map(async (c) => {
        while (next < jobs.length) {
          const job = jobs[next++]!;
          const req = job.build();
          const s = performance.now();
          const a = await c.send(req);
          const ms = performance.now() - s;
          const server = serverTiming(a, 'ack');
          simMs[job.kind].push(ms);
          simMs[job.kind === 'metric' ? 'metricServer' : 'logServer'].push(server);
          trace.push(`past\t${job.kind}\t${job.host}\t${job.n}\t${ms.toFixed(2)}\t${server}`);
          if (a.status !== 200) {
            failures++;
            if (failures < 5) process.stderr.write(`failed: ${a.status} ${a.body.slice(0, 200)}\n`);
          }
        }
      }),
    );
  };
  const simStarted = Date.now();
  const genCpu0 = process.cpuUsage();
  const cpu0 = cpuOf(pid);
  const thr0 = threadCpuTicks(pid);
  // `past` simulated intervals of a host per request (its samples and log lines of those
  // intervals, in time order): the store holds the same updates, in ~1/past of the round trips.
  const chunk = past * interval;
  let reported = -1;
  for (let c = seed ? Infinity : start; c <= end; c += chunk) {
    const stamps: number[] = [];
    for (let t = c; t < c + chunk && t <= end; t += interval) stamps.push(t);
    const jobs: Job[] = [];
    let liveMax = 0;
    for (const h of hosts) {
      if (h.to <= c || h.from >= c + chunk) continue;
      const mine = stamps.filter((t) => h.from <= t && t < h.to);
      if (mine.length === 0) continue;
      liveMax++;
      const token = tokens[h.token]!;
      jobs.push({
        kind: 'metric',
        host: h.name,
        n: template.length * mine.length,
        build: () => {
          values += template.length * mine.length;
          return prepareRequest(METRICS_INGEST_PATH, token, metricBody(h, mine));
        },
      });
      if (logLines > 0) {
        jobs.push({
          kind: 'log',
          host: h.name,
          n: logLines * mine.length,
          build: () => {
            lines += logLines * mine.length;
            return prepareRequest(INGEST_PATH, token, logBody(h, mine, logLines));
          },
        });
      }
    }
    await run(jobs);
    const hour = Math.floor((stamps.at(-1)! - start) / (6 * 3600));
    if (hour !== reported) {
      reported = hour;
      process.stderr.write(`  simulated ${((stamps.at(-1)! - start) / 3600).toFixed(0)} h of ${days * 24}, ${((Date.now() - simStarted) / 1000).toFixed(0)} s, ${liveMax} hosts in the last ${chunk / 3600} h\n`);
    }
  }
  const simS = (Date.now() - simStarted) / 1000;
  const simCpu = cpuOf(pid) - cpu0;
  const genCpu = process.cpuUsage(genCpu0);
  const simGenCpu = (genCpu.user + genCpu.system) / 1e6;
  const simThreads = threadCpuReport(thr0, threadCpuTicks(pid));

  // ---- `appear` new ephemeral hosts in one real minute, the permanent fleet sending meanwhile
  // Bench hygiene: the setup (seeding, the simulated span, the collector's start) may leave GBs
  // of dirty page cache whose writeback would land in the phase and stall every fsync of the
  // collector's (both storage threads at once); they are written out first (`--no-sync`: not).
  // The phase itself still writes and fsyncs everything the collector does.
  const setupDirty = dirtyMiB();
  const synced = args.includes('--no-sync') ? `not synced (${setupDirty.toFixed(0)} MiB dirty at the phase's start)` : syncSetup(data);
  process.stderr.write(`  ${synced}\n`);
  const appearMs = 60_000;
  const t0 = Date.now() + 1000;
  const realHosts: SimHost[] = Array.from({ length: appear }, (_, j) => ({ name: `new-${reuse ? `${Date.now().toString(36)}-` : ''}${String(j).padStart(4, '0')}`, ephemeral: true, from: 0, to: 0, offset: 0, tick: 0, token: j % conns }));
  const steady = hosts.filter((h) => !h.ephemeral);
  const metricMs: number[] = [];
  const metricServerMs: number[] = [];
  const firstMs: number[] = [];
  const phaseRowsOf: Array<{ at: number; first: boolean; client: number; t: Record<string, number> }> = [];
  const logMs: number[] = [];
  const logServerMs: number[] = [];
  let cycleMax = 0;
  const scrape = async () => (await (await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${admin}` } })).text());
  // Also the self-metric histograms as the simulated span left them: they count every request
  // since the collector started, and the span's requests (16 sockets closed-loop, each waiting
  // for a group commit of up to 20,000 values) would otherwise be most of what the phase reads.
  const before = await scrape(); // also resets the event-loop delay histogram
  const cycleSampler = setInterval(() => {
    // a scrape that times out on a loaded machine is a missed sample, not the end of the run
    void scrape().then(
      (m) => (cycleMax = Math.max(cycleMax, Number(/^ringtail_alerts_cycle_seconds ([0-9.e+-]+)$/m.exec(m)?.[1] ?? 0))),
      () => {},
    );
  }, 2000);
  const until = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
  const phaseEnd = t0 + appearMs + 10_000;
  const cpu1 = cpuOf(pid);
  const thr1 = threadCpuTicks(pid);
  const agentLoop = async (h: SimHost, at: number) => {
    const c = new RawConnection(port);
    const token = tokens[h.token]!;
    let first = true;
    for (let next = at; next < phaseEnd; next += 10_000) {
      await until(next);
      const ts = Math.floor(Date.now() / 1000);
      const req = prepareRequest(METRICS_INGEST_PATH, token, metricBody(h, [ts], true));
      let s = performance.now();
      const a = await c.send(req);
      const ms = performance.now() - s;
      if (a.status !== 200) failures++;
      metricMs.push(ms);
      metricServerMs.push(serverTiming(a, 'ack'));
      phaseRowsOf.push({ at: (Date.now() - t0) / 1000, first, client: ms, t: serverTimings(a) });
      trace.push(`appear\tmetric${first ? '-first' : ''}\t${h.name}\t${template.length}\t${ms.toFixed(2)}\t${serverTiming(a, 'ack')}`);
      if (first) firstMs.push(ms);
      first = false;
      const logReq = prepareRequest(INGEST_PATH, token, logBody(h, [ts], 10));
      s = performance.now();
      const b = await c.send(logReq);
      if (b.status !== 200) failures++;
      const logClient = performance.now() - s;
      logMs.push(logClient);
      logServerMs.push(serverTiming(b, 'ack'));
      trace.push(`appear\tlog\t${h.name}\t10\t${logClient.toFixed(2)}\t${serverTiming(b, 'ack')}`);
    }
    c.close();
  };
  await Promise.all([
    ...realHosts.map((h, j) => agentLoop(h, t0 + Math.floor((j * appearMs) / appear))),
    ...steady.map((h, j) => agentLoop(h, t0 + Math.floor((j * 10_000) / steady.length))),
  ]);
  clearInterval(cycleSampler);
  const phaseS = (Date.now() - t0) / 1000;
  const ioAt0 = io.now() - (Date.now() - t0);
  const ioSummary = io.summary(ioAt0, io.now());
  io.stop();
  writeFileSync(join(out, 'fleet-io.tsv'), io.tsv(ioAt0));
  const phaseCpu = cpuOf(pid) - cpu1;
  const phaseThreads = threadCpuReport(thr1, threadCpuTicks(pid));
  const metrics = await scrape();
  /** a histogram's cumulative buckets in a scrape: [upper bound in ms, count ≤ it] */
  const buckets = (text: string, name: string) =>
    [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, 'gm'))].map((m) => [m[1] === '+Inf' ? Infinity : Number(m[1]) * 1000, Number(m[2])] as const);
  /** quantiles of the requests observed between two scrapes (or since the start): bucket bounds */
  const hist = (name: string, from?: string) => {
    const base = from ? buckets(from, name) : [];
    const b = buckets(metrics, name).map(([le, n], i) => [le, n - (base[i]?.[1] ?? 0)] as const);
    const count = b.at(-1)?.[1] ?? 0;
    return { count, q: (q: number) => b.find(([, n]) => n >= q * count)?.[0] ?? NaN };
  };
  const metricQ = hist('ringtail_metric_batch_seconds', before);
  const metricAllQ = hist('ringtail_metric_batch_seconds');
  const logQ = hist('ringtail_ingest_batch_seconds', before);
  const logAllQ = hist('ringtail_ingest_batch_seconds');
  writeFileSync(join(out, 'fleet-requests.tsv'), trace.join('\n') + '\n');
  const phases = phaseReport(phaseRowsOf);
  writeFileSync(join(out, 'fleet-metric-timing.tsv'), phases.tsv);
  const over = (client: number[], server: number[]) => server.filter((v, i) => v > client[i]!).length;
  const lagP99 = Number(/^ringtail_nodejs_eventloop_lag_p99_seconds ([0-9.e+-]+)$/m.exec(metrics)?.[1] ?? NaN) * 1000;

  // ---- the hosts API with everything known
  const timeGet = async (path: string, n: number) => {
    const c = new RawConnection(port);
    const ms: number[] = [];
    let count = 0;
    for (let i = 0; i < n; i++) {
      const s = performance.now();
      const a = await c.send(prepareGet(path, admin));
      ms.push(performance.now() - s);
      count = (JSON.parse(a.body) as { items: unknown[] }).items.length;
    }
    c.close();
    return { ms, count };
  };
  const live = await timeGet('/api/v1/hosts', 100);
  const all = await timeGet('/api/v1/hosts?include_retired=true', 20);
  const counts = (JSON.parse((await new RawConnection(port).send(prepareGet('/api/v1/hosts', admin))).body) as { counts: Record<string, number> }).counts;
  clearInterval(sampler);
  for (const c of pool) c.close();
  process.off('exit', kill);
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));

  const f1 = (n: number) => n.toFixed(1);
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  const phaseRows = (): string[][] => [
    ['known hosts (seeded retired before the span)', `${hosts.length + appear + seeded} (${seeded}); counts ${JSON.stringify(counts)}`],
    ['GET /api/v1/hosts (default view) p50 / p99', `${f1(pct(live.ms, 50))} / ${f1(pct(live.ms, 99))} ms, ${live.count} items (target p99 < 100 ms)`],
    ['GET /api/v1/hosts?include_retired=true p50 / p99', `${f1(pct(all.ms, 50))} / ${f1(pct(all.ms, 99))} ms, ${all.count} items`],
    [`${appear} hosts appear in one minute (+ ${steady.length} permanent every 10 s), ${f1(phaseS)} s`, `collector ${f1(phaseCpu)} CPU s (${phaseThreads}); event-loop lag p99 ${f1(lagP99)} ms`],
    ['  metric ingest p50 / p99 (collector self-metric, parsed → ack, bucket bound; this phase)', `≤ ${metricQ.q(0.5)} / ≤ ${metricQ.q(0.99)} ms over ${metricQ.count} requests (target p99 < 100 ms)`],
    ['  metric ingest p50 / p99 / max (client, request written → answer read); first request of a new host p99', `${f1(pct(metricMs, 50))} / ${f1(pct(metricMs, 99))} / ${f1(pct(metricMs, 100))} ms over ${metricMs.length} requests; ${f1(pct(firstMs, 99))} ms`],
    ['  per request, both ends (bench/out/fleet-requests.tsv): metric collector p50 / p99 (Server-Timing); requests where the collector took longer than the client saw', `${f1(pct(metricServerMs, 50))} / ${f1(pct(metricServerMs, 99))} ms; ${over(metricMs, metricServerMs)} of ${metricMs.length}`],
    ['  metric request phases (Server-Timing), median of all / of the ack p99 tail, ms (per request: bench/out/fleet-metric-timing.tsv)', phases.summary],
    ['  the simulated span, metric requests: client p50 / p99, collector p50 / p99', `${f1(pct(simMs.metric, 50))} / ${f1(pct(simMs.metric, 99))} ms, ${f1(pct(simMs.metricServer, 50))} / ${f1(pct(simMs.metricServer, 99))} ms over ${simMs.metric.length} (${conns} sockets closed-loop: throughput, not the target's latency)`],
    ['  (the self-metric since the collector started, simulated span included)', `metric ≤ ${metricAllQ.q(0.5)} / ≤ ${metricAllQ.q(0.99)} ms over ${metricAllQ.count}; log ≤ ${logAllQ.q(0.5)} / ≤ ${logAllQ.q(0.99)} ms over ${logAllQ.count}`],
    ['  log ingest p50 / p99 (collector, bucket bound; this phase) / client p50 / p99', `≤ ${logQ.q(0.5)} / ≤ ${logQ.q(0.99)} ms over ${logQ.count} (per request ${f1(pct(logServerMs, 50))} / ${f1(pct(logServerMs, 99))}) / ${f1(pct(logMs, 50))} / ${f1(pct(logMs, 99))} ms over ${logMs.length}`],
    ['  the disk during the phase (every 100 ms: bench/out/fleet-io.tsv); before it', `${ioSummary}; ${synced}`],
    ['alert cycle time with the default rules (max of samples every 2 s)', `${f1(cycleMax * 1000)} ms (target < 1 s)`],
    ['collector RSS (max)', mib(rssMax)],
    ['machine load average at the end', readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')],
  ];
  // ---- disk (`--no-disk`: not measured; the per-series payload is minutes at month scale)
  if (args.includes('--no-disk')) return void process.stdout.write(table(['fleet', 'value'], phaseRows()) + '\n');
  const store = openRrdStore(join(data, 'metrics.db'));
  const series = store.list().length;
  const metricsBytes = store.compactSize();
  store.close();
  // payload per kind of host (chunks + definition + state), to share the compacted size out
  const db = new Database(join(data, 'metrics.db'), { readonly: true });
  const chunkBytes = db.prepare('SELECT coalesce(sum(length(data)), 0) FROM rrd_chunk WHERE id BETWEEN ? AND ?').pluck();
  const kinds = new Map<string, { series: number; payload: number }>();
  let payloadTotal = 0;
  for (const r of db.prepare('SELECT id, name, length(def) + length(state) AS meta FROM rrd_series').all() as Array<{ id: number; name: string; meta: number }>) {
    const [lo, hi] = seriesChunkRange(r.id);
    const bytes = r.meta + (chunkBytes.get(lo, hi) as number);
    const kind = r.name.startsWith('perm-') ? 'permanent' : r.name.startsWith('new-') ? 'appeared' : 'ephemeral';
    const k = kinds.get(kind) ?? { series: 0, payload: 0 };
    k.series++;
    k.payload += bytes;
    kinds.set(kind, k);
    payloadTotal += bytes;
  }
  db.close();
  const perSeries = (kind: string) => {
    const k = kinds.get(kind);
    return k ? (metricsBytes * k.payload) / payloadTotal / k.series : 0;
  };
  // The month (30 days): permanent series bounded by their preallocated size (they fill over the
  // month), every ephemeral instance as measured (a 2 h life costs the same whatever the day).
  const monthEph = 30 * perDay * template.length;
  const monthPerm = permanent * template.length;
  const monthBytes = monthPerm * RRDTOOL_BYTES_PER_SERIES + monthEph * perSeries('ephemeral');
  const monthPre = (monthPerm + monthEph) * RRDTOOL_BYTES_PER_SERIES;
  const logsBytes = dirBytes(data, (f) => f.startsWith('ringtail.db'));
  const bytesPerLine = logsBytes / Math.max(1, lines);
  const fullRateLines = (permanent * days * DAY + perDay * days * lifeS) * 5;
  const pre = series * RRDTOOL_BYTES_PER_SERIES;
  process.stdout.write(
    table(
      ['fleet', 'value'],
      [
        ['simulated span', `${days} day(s) ending now: ${permanent} permanent + ${perDay}/day ephemeral × ${lifeS / 3600} h = ${hosts.length} hosts; ${template.length} default series per host (this machine's agent families)`],
        ['scaling', `samples every ${interval} simulated s (heartbeat 2× interval: the 10 s rows between are filled), up to ${past} of a host per request in the simulated past; ${logLines} log line(s) per host per sample instead of 5/s (logs disk extrapolated)`],
        ['simulation', `${f1(simS)} s real, ${values} values + ${lines} lines sent, failures ${failures}; collector ${f1(simCpu)} CPU s (${simThreads}); generator (this process) ${f1(simGenCpu)} CPU s`],
        ['metric series / metrics disk (compacted)', `${series} / ${mib(metricsBytes)}`],
        ['rrdtool preallocated equivalent (595,320 B per series)', `${mib(pre)}; ringtail ${((metricsBytes / pre) * 100).toFixed(2)} % of it (target ≤ 5 %)`],
        ['bytes per series, by host kind (compacted size shared by payload)', [...kinds.keys()].map((k) => `${k} ${perSeries(k).toFixed(0)} B (${kinds.get(k)!.series} series)`).join(', ')],
        ['the month, bounded: permanent series at their full 595,320 B + 30 × per-day ephemeral as measured', `${mib(monthBytes)} of ${mib(monthPre)} preallocated: ${((monthBytes / monthPre) * 100).toFixed(2)} % (target ≤ 5 %)`],
        ['logs disk / per line / extrapolated to 5 lines/s per host', `${mib(logsBytes)} / ${f1(bytesPerLine)} B / ${mib(bytesPerLine * fullRateLines)} for ${fullRateLines} lines`],
        ...phaseRows(),
      ],
    ) + '\n',
  );
}
