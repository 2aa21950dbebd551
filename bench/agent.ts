// `npm run bench -- agent [seconds=600] [runs=1]`: the ringtail agent at default settings
// (all metric families every 10 s, shipping to a local collector) and collectd 5.12 (plugins
// cpu, memory, load, df, disk, interface at 10 s, writing CSV) side by side in one run on this
// machine; each one's CPU (% of one core, from /proc/PID/stat over the steady-state window) and
// RSS (mean and peak of VmRSS sampled every second).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/ringtail', import.meta.url));
const USER_HZ = 100;
/** Start-up (module loading, first series creation) is not the steady state being compared. */
const WARMUP_MS = 15_000;

interface Usage {
  cpuPct: number;
  rssMeanMb: number;
  rssPeakMb: number;
  /** RssAnon: the process's own memory, without the executable's (shared) file pages */
  anonMeanMb: number;
}

function ticks(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}
function memKb(pid: number): { rss: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  const get = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rss: get('VmRSS'), anon: get('RssAnon') };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitForLine(child: ChildProcess, re: RegExp, what: string): Promise<string> {
  let out = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}: ${out}`)), 30_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = re.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`${what}: exited ${code}: ${out}`)));
  });
}

function collectdConf(dir: string): string {
  return `Hostname "bench"
FQDNLookup false
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
Interval 10
LoadPlugin cpu
LoadPlugin memory
LoadPlugin load
LoadPlugin df
LoadPlugin disk
LoadPlugin interface
LoadPlugin csv
<Plugin csv>
  DataDir "${dir}/csv"
  StoreRates false
</Plugin>
`;
}

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    n += statSync(p).isDirectory() ? countFiles(p) : 1;
  }
  return n;
}

async function oneRun(seconds: number): Promise<{ ringtail: Usage; collectd: Usage; ringtailSeries: number; collectdFiles: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'ringtail-bench-agent-'));
  const children: ChildProcess[] = [];
  try {
    const admin = 'rt_admin_bench_' + 'x'.repeat(20);
    const collector = spawn(process.execPath, [BIN, 'collector', '--data', join(dir, 'data'), '--listen', '127.0.0.1:0', '--admin-token', admin, '--log-level', 'warn', '--syslog-udp-port', '0', '--syslog-tcp-port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(collector);
    const url = await waitForLine(collector, /listening on (http:\/\/\S+)/, 'collector');
    mkdirSync(join(dir, 'logs'));
    // Default settings: only what has no default is given.
    const agent = spawn(process.execPath, [BIN, 'agent', '--collector', url, '--watch', join(dir, 'logs', '*.log'), '--state', join(dir, 'state')], {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, RINGTAIL_TOKEN: admin },
    });
    children.push(agent);
    writeFileSync(join(dir, 'collectd.conf'), collectdConf(dir));
    const collectd = spawn('collectd', ['-f', '-C', join(dir, 'collectd.conf')], { stdio: ['ignore', 'ignore', 'ignore'] });
    children.push(collectd);

    await sleep(WARMUP_MS);
    const pids = { ringtail: agent.pid!, collectd: collectd.pid! };
    const t0 = performance.now();
    const c0 = { ringtail: ticks(pids.ringtail), collectd: ticks(pids.collectd) };
    const rss = { ringtail: [] as number[], collectd: [] as number[] };
    const anon = { ringtail: [] as number[], collectd: [] as number[] };
    const until = t0 + seconds * 1000;
    while (performance.now() < until) {
      for (const k of ['ringtail', 'collectd'] as const) {
        const m = memKb(pids[k]);
        rss[k].push(m.rss);
        anon[k].push(m.anon);
      }
      await sleep(1000);
    }
    const wall = (performance.now() - t0) / 1000;
    const usage = (k: 'ringtail' | 'collectd'): Usage => ({
      cpuPct: ((ticks(pids[k]) - c0[k]) / USER_HZ / wall) * 100,
      rssMeanMb: rss[k].reduce((a, b) => a + b, 0) / rss[k].length / 1024,
      rssPeakMb: Math.max(...rss[k]) / 1024,
      anonMeanMb: anon[k].reduce((a, b) => a + b, 0) / anon[k].length / 1024,
    });
    const result = { ringtail: usage('ringtail'), collectd: usage('collectd') };
    const res = await fetch(`${url}/api/v1/metrics`, { headers: { authorization: `Bearer ${admin}` } });
    const ringtailSeries = ((await res.json()) as { items: unknown[] }).items.length;
    let collectdFiles = 0;
    try {
      collectdFiles = countFiles(join(dir, 'csv'));
    } catch {
      // collectd wrote nothing
    }
    return { ...result, ringtailSeries, collectdFiles };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await sleep(500);
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** collectd may use less than one 10 ms tick in a short run: no ratio then. */
function ratio(a: number, b: number): string {
  return b > 0 ? `${(a / b).toFixed(1)}×` : 'n/a';
}

export async function main(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? 600);
  const runs = Number(args[1] ?? 1);
  if (!(seconds > 0) || !(runs >= 1)) throw new Error('usage: npm run bench -- agent [seconds=600] [runs=1]');
  if (spawnSync('sh', ['-c', 'command -v collectd']).status !== 0) throw new Error('collectd not found: apt-get install collectd (5.12 on Debian 12)');
  const version = spawnSync('collectd', ['-h'], { encoding: 'utf8' }).stdout.match(/collectd (\d+\.\d+\.\d+)/)?.[1] ?? '?';
  process.stdout.write(`agent benchmark: ${runs} run(s) of ${seconds} s after ${WARMUP_MS / 1000} s warm-up; collectd ${version}; node ${process.version}\n`);
  const results: Array<Awaited<ReturnType<typeof oneRun>>> = [];
  for (let i = 0; i < runs; i++) {
    const r = await oneRun(seconds);
    results.push(r);
    process.stdout.write(
      `run ${i + 1}: ringtail ${r.ringtail.cpuPct.toFixed(3)}% CPU, RSS ${r.ringtail.rssMeanMb.toFixed(1)}/${r.ringtail.rssPeakMb.toFixed(1)} MB, anon ${r.ringtail.anonMeanMb.toFixed(1)} MB (${r.ringtailSeries} series); ` +
        `collectd ${r.collectd.cpuPct.toFixed(3)}% CPU, RSS ${r.collectd.rssMeanMb.toFixed(1)}/${r.collectd.rssPeakMb.toFixed(1)} MB, anon ${r.collectd.anonMeanMb.toFixed(1)} MB (${r.collectdFiles} CSV files)\n`,
    );
  }
  const m = (k: 'ringtail' | 'collectd', f: keyof Usage) => median(results.map((r) => r[k][f]));
  const row = (label: string, k: 'ringtail' | 'collectd') =>
    `| ${label} | ${m(k, 'cpuPct').toFixed(3)} | ${m(k, 'rssMeanMb').toFixed(1)} | ${m(k, 'rssPeakMb').toFixed(1)} | ${m(k, 'anonMeanMb').toFixed(1)} |`;
  const lines = [
    '',
    `medians of ${runs} run(s), ${seconds} s each:`,
    '| agent | CPU % of one core | RSS mean MB | RSS peak MB | private (RssAnon) mean MB |',
    '| --- | --- | --- | --- | --- |',
    row('ringtail agent (all families, 10 s, shipping)', 'ringtail'),
    row('collectd 5.12 (cpu memory load df disk interface, 10 s, csv)', 'collectd'),
    `| ratio ringtail / collectd | ${ratio(m('ringtail', 'cpuPct'), m('collectd', 'cpuPct'))} | ${ratio(m('ringtail', 'rssMeanMb'), m('collectd', 'rssMeanMb'))} | ${ratio(m('ringtail', 'rssPeakMb'), m('collectd', 'rssPeakMb'))} | ${ratio(m('ringtail', 'anonMeanMb'), m('collectd', 'anonMeanMb'))} |`,
    '',
    `targets: RSS under 64 MB: mean ${m('ringtail', 'rssMeanMb') < 64 ? 'met' : 'NOT met'}, peak ${m('ringtail', 'rssPeakMb') < 64 ? 'met' : 'NOT met'}; CPU at most 1% of one core: ${m('ringtail', 'cpuPct') <= 1 ? 'met' : 'NOT met'}`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
