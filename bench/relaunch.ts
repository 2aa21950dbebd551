// `npm run bench -- relaunch [--kills 20]`
//
// The relaunch loop with default settings (agent rounds and rule evaluation every 10 s, the
// default process-down rule): a real collector, a real agent with a pidfile process check, a
// real `ringtail relaunch` whose command starts the app again. The app is killed `--kills` times;
// each hop is timed from the kill: the collector's evaluation that fired the alert (its history
// row's time), the relaunch command's start (it records the moment), the new app alive (its
// pidfile), and the evaluation that resolved the alert. p50/p99 per hop.
//
// The same loop runs twice in one run, side by side: with the fast path (the defaults: checks
// report a change at once, rules evaluated on arrival) and with the periodic path only (agent
// `checks.report_changes: false`, collector `alerts.evaluate_on_arrival: false`: every change
// waits for the agent's next 10 s round and the collector's next 10 s cycle, as before issue 18).
// `--kills N` per path (default 20); `--only fast|periodic` runs one.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSecret } from '../shared/webhook-signature.js';
import { pct, table } from './lib/stats.js';

const BIN = new URL('../../bin/ringtail', import.meta.url).pathname;
const ADMIN = 'rt_admin_bench_relaunch_token_0123456789';

interface Run {
  child: ChildProcess;
  out: () => string;
}
function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}
async function until<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 60_000, every = 20): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
const listening = (r: Run, what: string) =>
  until(what, () => {
    if (r.child.exitCode !== null) throw new Error(`${what}: exited: ${r.out()}`);
    return /listening on (https?:\/\/\S+)/.exec(r.out())?.[1];
  });
async function api<T>(url: string, path: string): Promise<T> {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${ADMIN}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as T;
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

type Path = 'fast' | 'periodic';
interface Hops {
  firing: number[];
  command: number[];
  relaunched: number[];
  resolved: number[];
}

/** The whole loop (relaunch, collector, agent, app) on one path, killed `kills` times. */
async function loop(path: Path, kills: number): Promise<Hops> {
  const fast = path === 'fast';
  const dir = mkdtempSync(join(tmpdir(), `ringtail-bench-relaunch-${path}-`));
  const procs: Run[] = [];
  const appDir = join(dir, 'app');
  mkdirSync(appDir);
  const pidfile = join(appDir, 'app.pid');
  const record = join(dir, 'starts.jsonl');
  writeFileSync(join(appDir, 'app.mjs'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(process.argv[2], String(process.pid));\nsetInterval(() => {}, 1000);\n`);
  writeFileSync(
    join(appDir, 'start.mjs'),
    `import { spawn } from 'node:child_process';\nimport { appendFileSync } from 'node:fs';\nconst [app, pidfile, record] = process.argv.slice(2);\nappendFileSync(record, JSON.stringify({ at: Date.now() }) + '\\n');\nspawn(process.execPath, [app, pidfile], { detached: true, stdio: 'ignore' }).unref();\n`,
  );
  const startArgv = [process.execPath, join(appDir, 'start.mjs'), join(appDir, 'app.mjs'), pidfile, record];
  const pids: number[] = [];
  try {
    const secret = generateSecret();
    writeFileSync(join(dir, 'relaunch.json'), JSON.stringify({ listen: '127.0.0.1:0', state: join(dir, 'relaunch-state'), actions: [{ name: 'restart', match: { alertname: 'process-down', host: 'bench-host' }, command: startArgv, max_runs: kills + 5, within_s: 3600 }] }));
    const relaunch = run(['relaunch', '--config', join(dir, 'relaunch.json')], { RINGTAIL_SECRET: secret });
    procs.push(relaunch);
    const relaunchUrl = await listening(relaunch, 'relaunch');
    const data = join(dir, 'data');
    writeFileSync(join(dir, 'collector.json'), JSON.stringify({ alerts: { evaluate_on_arrival: fast, webhooks: [{ name: 'relaunch', url: relaunchUrl + '/hook', secret }] } }));
    const tok = run(['token', 'create', '--data', data, '--role', 'agent']);
    await new Promise((r) => tok.child.once('exit', r));
    const token = tok.out().trim().split('\n').pop()!;
    const collector = run(['collector', '--data', data, '--listen', '127.0.0.1:0', '--admin-token', ADMIN, '--log-level', 'warn', '--config', join(dir, 'collector.json')]);
    procs.push(collector);
    const url = await listening(collector, 'collector');
    spawn(startArgv[0]!, startArgv.slice(1), { stdio: 'ignore' });
    let pid = await until('the app', () => (existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8')) || undefined : undefined));
    pids.push(pid);
    writeFileSync(
      join(dir, 'agent.json'),
      JSON.stringify({ collector: url, watch: [join(appDir, 'app.log')], state: join(dir, 'agent-state'), host: 'bench-host', metrics: { families: ['load'] }, checks: { report_changes: fast, processes: [{ name: 'app', pidfile }] } }),
    );
    writeFileSync(join(appDir, 'app.log'), '');
    const agent = run(['agent', '--config', join(dir, 'agent.json')], { RINGTAIL_TOKEN: token });
    procs.push(agent);
    await until('the check at the collector', async () => {
      if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.out()}`);
      return (await api<{ items: Array<{ metric: string }> }>(url, '/api/v1/metrics?host=bench-host')).items.some((i) => i.metric === 'check.process.count{check=app}');
    });

    type Hist = { items: Array<{ event: string; at: number }> };
    const hops: Hops = { firing: [], command: [], relaunched: [], resolved: [] };
    for (let k = 0; k < kills; k++) {
      const seen = (await api<Hist>(url, '/api/v1/alerts/history?rule=process-down')).items.length;
      const starts = readFileSync(record, 'utf8').trim().split('\n').length;
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      const next = await until('the relaunch', () => {
        // a pidfile caught mid-write reads as 0, and kill(0) means the whole process group
        const p = existsSync(pidfile) ? Number(readFileSync(pidfile, 'utf8')) : NaN;
        return Number.isInteger(p) && p > 0 && p !== pid && alive(p) ? p : undefined;
      });
      hops.relaunched.push(Date.now() - killedAt);
      pid = next;
      pids.push(pid);
      const h = await until('resolved', async () => {
        const items = (await api<Hist>(url, '/api/v1/alerts/history?rule=process-down')).items;
        return items.length >= seen + 2 && items[0]!.event === 'resolved' ? items : undefined;
      });
      hops.resolved.push(h[0]!.at - killedAt);
      hops.firing.push(h.find((x) => x.event === 'firing')!.at - killedAt);
      const at = readFileSync(record, 'utf8').trim().split('\n').slice(starts).map((l) => (JSON.parse(l) as { at: number }).at);
      hops.command.push(at[0]! - killedAt);
      process.stdout.write(`${path} kill ${k + 1}/${kills}: firing ${hops.firing[k]} ms, command ${hops.command[k]} ms, relaunched ${hops.relaunched[k]} ms, resolved ${hops.resolved[k]} ms\n`);
      // a fresh second for the next kill's samples, and the agent's watch settled on the new pid
      await new Promise((r) => setTimeout(r, 1_500));
    }
    return hops;
  } finally {
    for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
    for (const p of procs.reverse()) p.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(args: string[]): Promise<void> {
  const kills = Number(args[args.indexOf('--kills') + 1] ?? 20) || 20;
  const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] as Path) : null;
  const paths: Path[] = only ? [only] : ['fast', 'periodic'];
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  const results = new Map<Path, { hops: Hops; load: string }>();
  for (const path of paths) {
    const before = load();
    const hops = await loop(path, kills);
    results.set(path, { hops, load: `${before} → ${load()}` });
  }
  const cells = (v: number[] | undefined) => (v ? [String(pct(v, 50)), String(pct(v, 99)), String(Math.max(...v))] : ['–', '–', '–']);
  const hop = (name: string, key: keyof Hops) => [name, ...paths.flatMap((p) => cells(results.get(p)?.hops[key]))];
  process.stdout.write(
    `\nrelaunch loop, default intervals (agent rounds and rule cycles every 10 s), ${kills} kills per path (ms after the kill)\n` +
      paths.map((p) => `${p}: load average ${results.get(p)!.load}\n`).join('') +
      '\n' +
      table(
        ['hop', ...paths.flatMap((p) => [`${p} p50`, `${p} p99`, `${p} max`])],
        [
          hop('alert firing (collector evaluation)', 'firing'),
          hop('relaunch command started', 'command'),
          hop('app alive again (pidfile)', 'relaunched'),
          hop('alert resolved (collector evaluation)', 'resolved'),
        ],
      ),
  );
}
