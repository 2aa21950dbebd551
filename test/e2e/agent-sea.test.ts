// The one-file agent (dist/ringtail-agent, `npm run build:agent`) as an instance without Node
// runs it: its environment is empty but for a PATH where no node can be found. It must answer
// --help, ship lines to a real collector exactly once, and load node:https (the one module it
// loads lazily) for an https collector.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, tally } from '../helpers/agent-run.js';
import { allLogs, createToken, spawnProc, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';

const AGENT = fileURLToPath(new URL('../../dist/ringtail-agent', import.meta.url));
const ADMIN = 'rt_admin_sea_e2e_0123456789abcdef';
const dir = tempDir('ringtail-sea-');
const procs: Proc[] = [];
let collector: { proc: Proc; url: string };
let token: string;

/** No node anywhere: an empty environment but for a PATH that holds nothing. */
function bare(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: join(dir.path, 'empty-bin'), ...extra };
}

function agent(args: string[]): Proc {
  const p = spawnProc(AGENT, args, bare({ RINGTAIL_TOKEN: token }));
  procs.push(p);
  return p;
}

/** The build skips the one-file agent with a node that cannot make one, and says why. */
function built(): boolean {
  if (existsSync(AGENT)) return true;
  const skipped = AGENT + '.skipped';
  const why = existsSync(skipped) ? readFileSync(skipped, 'utf8').trim() : 'run npm run build';
  if (process.env.CI === 'true' || !existsSync(skipped)) throw new Error(`${AGENT} is missing: ${why}`);
  console.warn(`skipping: dist/ringtail-agent was not built: ${why}`);
  return false;
}
const BUILT = built();

beforeAll(async () => {
  if (!BUILT) return;
  mkdirSync(join(dir.path, 'empty-bin'));
  mkdirSync(join(dir.path, 'logs'));
  token = await createToken(['--data', join(dir.path, 'data')]);
  collector = await startCollectorProc(join(dir.path, 'data'), ADMIN);
  procs.push(collector.proc);
});

afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  if (!process.env.KEEP) dir.cleanup();
});

describe.skipIf(!BUILT)('dist/ringtail-agent, a single executable', () => {
  it('is a file of its own: no node on PATH, --help answers', async () => {
    // the stripped PATH really has no node in it
    const which = spawnProc('/bin/sh', ['-c', 'command -v node || echo none'], bare());
    await which.exited;
    expect(which.stdout().trim()).toBe('none');
    const started = performance.now();
    const help = spawnProc(AGENT, ['--help'], bare());
    const { code } = await help.exited;
    const ms = performance.now() - started;
    expect(help.stderr()).toBe('');
    expect(code).toBe(0);
    expect(help.stdout()).toMatch(/--collector/);
    expect(help.stdout()).toMatch(/--watch/);
    console.log(`ringtail-agent --help: ${ms.toFixed(0)} ms`);
    // a bad flag is refused as `ringtail agent` refuses it
    const bad = spawnProc(AGENT, ['--no-such-flag'], bare());
    expect((await bad.exited).code).toBe(2);
    expect(bad.stderr()).toMatch(/RINGTAIL_ERR_CONFIG/);
  });

  it('ships every line once to a real collector, and stops cleanly on SIGTERM', async () => {
    const file = join(dir.path, 'logs', 'app.log');
    const written = Array.from({ length: 3000 }, (_, i) => `sea line ${i}`);
    writeFileSync(file, written.slice(0, 1).join('\n') + '\n');
    const started = performance.now();
    const p = agent(['--collector', collector.url, '--watch', join(dir.path, 'logs', '*.log'), '--state', join(dir.path, 'state'), '--host', 'sea-host', '--batch-linger-ms', '100']);
    await waitFor('the first line stored', async () => {
      if (p.child.exitCode !== null) throw new Error(`agent exited: ${p.stderr()}`);
      return (await allLogs(collector.url, ADMIN, '&host=sea-host')).length > 0;
    }, 30_000, 20);
    const firstMs = performance.now() - started;
    appendFileSync(file, written.slice(1).join('\n') + '\n');
    const stored = await waitFor('every line stored', async () => {
      const got = (await allLogs(collector.url, ADMIN, '&host=sea-host')).map((l) => l.message);
      return got.length >= written.length ? got : undefined;
    }, 30_000, 100);
    expect(tally(written, stored)).toEqual({ written: 3000, stored: 3000, lost: 0, duplicated: 0, foreign: 0 });
    const status = readFileSync(`/proc/${p.child.pid}/status`, 'utf8');
    const peakMb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) / 1024;
    console.log(`ringtail-agent: first line stored ${firstMs.toFixed(0)} ms after start; peak RSS ${peakMb.toFixed(1)} MB`);
    await p.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
    expect(p.stderr()).not.toMatch(/RINGTAIL_ERR_INTERNAL|ExperimentalWarning|single-executable/);
  });

  it('loads node:https for an https collector (the module it loads lazily)', async () => {
    const port = await freePort(); // nothing listens there: each attempt fails to connect
    const p = agent(['--collector', `https://127.0.0.1:${port}`, '--watch', join(dir.path, 'logs', '*.log'), '--state', join(dir.path, 'state-https'), '--host', 'sea-https', '--batch-linger-ms', '50']);
    const failed = await waitFor('a failed https attempt', () => {
      if (p.child.exitCode !== null) throw new Error(`agent exited: ${p.stderr()}`);
      return p.stderr().split('\n').find((l) => l.includes('"ship.failed"'));
    }, 30_000);
    expect(failed).toMatch(/ECONNREFUSED/);
    expect(p.stderr()).not.toMatch(/RINGTAIL_ERR_INTERNAL|Cannot find module/);
  });
});
