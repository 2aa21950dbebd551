// Building blocks for the agent's end-to-end tests: a collector on a fixed loopback port (so it
// can be killed and restarted), an agent process, a log-writing child, logrotate runs, and the
// final count of lines written, stored, lost and duplicated.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { allLogs, BIN, createToken, ringtail, spawnProc, startCollectorProc, tempDir, waitFor, type Proc } from './proc.js';
import { rng } from './rng.js';

export const ADMIN = 'rt_admin_agent_e2e_0123456789abcdef';
const WRITER = fileURLToPath(new URL('../fixtures/log-writer.mjs', import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export class Rig {
  readonly data: string;
  readonly logs: string;
  readonly state: string;
  port = 0;
  url = '';
  token = '';
  collector: Proc | null = null;
  agent: Proc | null = null;
  private readonly procs: Proc[] = [];

  constructor(readonly dir: string, readonly host: string) {
    this.data = join(dir, 'data');
    this.logs = join(dir, 'logs');
    this.state = join(dir, 'state');
    mkdirSync(this.logs, { recursive: true });
  }

  async startCollector(): Promise<void> {
    if (!this.token) {
      this.token = await createToken(['--data', this.data]);
      this.port = await freePort();
    }
    const c = await startCollectorProc(this.data, ADMIN, ['--listen', `127.0.0.1:${this.port}`]);
    this.collector = c.proc;
    this.url = c.url;
    this.procs.push(c.proc);
  }

  /** Starts an agent and waits until it has made its first scan. `exe`: a one-file agent
   * (dist/ringtail-agent) run in place of `node bin/ringtail agent`, or BIN: bin/ringtail run as a
   * program (`bin/ringtail agent`, through its sh line). */
  async startAgent(extra: string[] = [], exe?: string): Promise<Proc> {
    const p = this.spawnAgent(extra, exe);
    await waitFor('agent to start', () => {
      if (p.child.exitCode !== null) throw new Error(`agent exited: ${p.stderr()}`);
      return p.stderr().includes('"agent started"');
    }, 15_000);
    return p;
  }

  spawnAgent(extra: string[] = [], exe?: string): Proc {
    const args = [
      'agent', '--collector', `http://127.0.0.1:${this.port}`, '--state', this.state, '--host', this.host,
      '--batch-linger-ms', '200', '--scan-interval-ms', '250', '--stats-interval-ms', '1000',
      '--transport-backoff-max-ms', '1000', ...extra,
    ];
    const p = exe ? spawnProc(exe, exe === BIN ? args : args.slice(1), { ...process.env, RINGTAIL_TOKEN: this.token }) : ringtail(args, { RINGTAIL_TOKEN: this.token });
    this.agent = p;
    this.procs.push(p);
    return p;
  }

  writer(file: string, count: number, rate: number, tag = 'w'): { done: Promise<number> } {
    const child = spawn(process.execPath, [WRITER, file, String(count), String(rate), tag], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const done = new Promise<number>((resolve, reject) =>
      child.on('exit', (code) => (code === 0 ? resolve(Number(/written (\d+)/.exec(out)?.[1])) : reject(new Error(`writer exited ${code}`)))),
    );
    return { done };
  }

  /** Every message the collector stores for this rig's host. */
  async stored(): Promise<string[]> {
    return (await allLogs(this.url, ADMIN, `&host=${this.host}`)).map((l) => l.message);
  }

  /**
   * The stored lines once at least `n` are there, or after `timeoutMs` whatever is there (the
   * caller's tally then says what is missing). "Idle" in the agent's stats can be seen while the
   * last lines read still wait in its batcher (read, not yet spooled): one read of the store
   * right then misses them.
   */
  async storedAtLeast(n: number, timeoutMs = 30_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await this.stored();
      if (got.length >= n || Date.now() > deadline) return got;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** The agent has read everything and the collector acknowledged it (its self-metrics say so). */
  async agentIdle(after: number, timeoutMs = 30_000): Promise<void> {
    await waitFor('agent idle (nothing unread, spool empty)', () => agentIdleIn(this.agent?.stderr() ?? '', after), timeoutMs, 100);
  }

  async killAll(): Promise<void> {
    for (const p of this.procs) await p.kill('SIGKILL');
    if (process.env.KEEP) {
      writeFileSync(join(this.dir, 'agents.log'), this.procs.map((p) => p.stderr()).join('\n'));
    }
  }
}

export function logrotateConf(dir: string, file: string, mode: 'create' | 'copytruncate', extra: string[] = []): { run(): Promise<void> } {
  const conf = join(dir, 'logrotate.conf');
  const state = join(dir, 'logrotate.state');
  writeFileSync(conf, [`${file} {`, '  rotate 1000', `  ${mode}`, '  missingok', '  nomail', ...extra.map((e) => '  ' + e), '}', ''].join('\n'), { mode: 0o644 });
  return {
    run: () =>
      new Promise<void>((resolve, reject) =>
        execFile('logrotate', ['-f', '-s', state, conf], (err, _out, stderr) => (err ? reject(new Error(`logrotate: ${stderr}`)) : resolve())),
      ),
  };
}

/** Every line in every file of a directory, gzipped ones decompressed. */
export function linesOnDisk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const raw = readFileSync(join(dir, name));
    const text = (name.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    for (const l of text.split('\n')) if (l !== '') out.push(l);
  }
  return out;
}

export interface Tally {
  written: number;
  stored: number;
  lost: number;
  duplicated: number;
  foreign: number;
}

/** lost: written but not stored; duplicated: stored more than once; foreign: stored but never written. */
export function tally(written: Iterable<string>, stored: readonly string[], valid: (line: string) => boolean = () => true): Tally {
  const w = new Set(written);
  const seen = new Map<string, number>();
  for (const s of stored) seen.set(s, (seen.get(s) ?? 0) + 1);
  let lost = 0;
  for (const l of w) if (!seen.has(l)) lost++;
  let duplicated = 0;
  for (const n of seen.values()) if (n > 1) duplicated += n - 1;
  let foreign = 0;
  for (const s of seen.keys()) if (!valid(s)) foreign++;
  return { written: w.size, stored: stored.length, lost, duplicated, foreign };
}

/** Lines the writer fixture produces: `${tag} ${n} ${pad}`. */
export function writerLines(tag: string, count: number): string[] {
  const pad = 'p'.repeat(60);
  return Array.from({ length: count }, (_, n) => `${tag} ${n} ${pad}`);
}

/** Seeded so that "random moments" are reproducible. */
export const seeded = rng;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `rig(name)` for one test file: each rig gets its own temporary directory; after the file,
 * every rig's processes are killed and the directories removed (kept with KEEP=1).
 */
export function rigsFor(prefix: string): (name: string) => Rig {
  const dirs: Array<{ cleanup(): void }> = [];
  const rigs: Rig[] = [];
  afterAll(async () => {
    for (const r of rigs) await r.killAll();
    if (!process.env.KEEP) dirs.forEach((d) => d.cleanup());
  });
  return (name) => {
    const d = tempDir(`ringtail-${prefix}-${name}-`);
    dirs.push(d);
    const r = new Rig(d.path, `${prefix}-${name}`);
    rigs.push(r);
    return r;
  };
}

/**
 * One "agent.stats" event as the agent writes it to stderr: the counters Agent.stats() always
 * has, the event's time, and the counters of each source kind, prefixed with it (file_*, ...).
 */
export interface AgentStatsLine {
  time: number;
  lines_read: number;
  lines_shipped: number;
  lines_filtered: number;
  lines_truncated: number;
  lines_dropped: number;
  lines_rejected: number;
  spool_bytes: number;
  spool_records: number;
  lag_ms: number;
  last_ack_age_ms: number;
  [sourceCounter: string]: number;
}

/** An agent's stderr says it is idle: its last `agent.stats` after `after` shows nothing unread and an empty spool. */
export function agentIdleIn(stderr: string, after: number): boolean {
  const stats = stderr
    .split('\n')
    .filter((l) => l.includes('"agent.stats"'))
    .map((l) => JSON.parse(l) as AgentStatsLine)
    .filter((s) => s.time > after);
  const last = stats[stats.length - 1];
  return last !== undefined && last.spool_records === 0 && last.file_unread_bytes === 0;
}
