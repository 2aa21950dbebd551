// Real child processes of bin/ringtail for end-to-end tests, and polling with a deadline
// (never a bare sleep standing in for a condition).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/ringtail', import.meta.url));

export function tempDir(prefix = 'ringtail-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Temporary directories made one by one during a test, removed together (call cleanup in afterEach). */
export function tempDirs(): { make(prefix?: string): string; cleanup(): void } {
  const dirs: Array<{ path: string; cleanup(): void }> = [];
  return {
    make(prefix) {
      const d = tempDir(prefix);
      dirs.push(d);
      return d.path;
    },
    cleanup() {
      for (const d of dirs.splice(0)) d.cleanup();
    },
  };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** True while a process with this pid exists (signal 0 checks without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface Proc {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function ringtail(args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Proc {
  return spawnProc(process.execPath, [BIN, ...args], { ...process.env, ...env }, cwd);
}

/** Any executable as a Proc; `env` is its whole environment (e.g. one without node on PATH). */
export function spawnProc(file: string, args: string[], env: NodeJS.ProcessEnv, cwd?: string): Proc {
  const child = spawn(file, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export async function runRingtail(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = ringtail(args, env);
  const { code } = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/**
 * `ringtail token create --role ROLE` on the store `where` names (`['--data', dir]`, or the
 * `--storage clickhouse …` flags: tokens are shared there): the new secret, or a throw with stderr.
 */
export async function createToken(where: string[], role = 'agent', extra: string[] = []): Promise<string> {
  const created = await runRingtail(['token', 'create', ...where, '--role', role, ...extra]);
  if (created.code !== 0) throw new Error(`ringtail token create: ${created.stderr}`);
  return created.stdout.trim();
}

/**
 * The URL a `ringtail collector` or `ringtail relaunch` prints once it listens (`scheme`: a
 * pattern, `https?` for a collector that may serve TLS); throws with its stderr if it exits first.
 */
export function listeningUrl(proc: Proc, name: string, scheme = 'http', timeoutMs = 30_000): Promise<string> {
  const line = new RegExp(`listening on (${scheme}:\\/\\/\\S+)`);
  return waitFor(`${name} to listen`, () => {
    if (proc.child.exitCode !== null) throw new Error(`${name} exited: ${proc.stderr()}`);
    return line.exec(proc.stdout())?.[1];
  }, timeoutMs);
}

/** Starts `ringtail collector` on an ephemeral loopback port and returns its URL. */
export async function startCollectorProc(data: string, adminToken: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{ proc: Proc; url: string }> {
  const proc = ringtail(['collector', '--data', data, '--listen', '127.0.0.1:0', '--admin-token', adminToken, '--log-level', 'warn', ...extra], env);
  return { proc, url: await listeningUrl(proc, 'collector', 'https?') };
}

export async function api<T = unknown>(url: string, token: string, path: string): Promise<T> {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Every line the API holds for a query, following the cursor to the end. */
export async function allLogs(url: string, token: string, query = ''): Promise<Array<{ message: string; source: string; host: string }>> {
  const out: Array<{ message: string; source: string; host: string }> = [];
  let cursor: string | null = null;
  do {
    const page: { items: Array<{ message: string; source: string; host: string }>; next_cursor: string | null } = await api(
      url,
      token,
      `/api/v1/logs?limit=1000${query}${cursor ? `&cursor=${cursor}` : ''}`,
    );
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return out;
}
