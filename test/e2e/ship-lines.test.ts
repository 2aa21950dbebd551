// A real collector and a real agent, each a child process, on loopback: every appended line
// arrives exactly once, including across an agent SIGKILL and restart.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allLogs, createToken, ringtail, runRingtail, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';

const ADMIN = 'rt_admin_e2e_test_token_0123456789';
const dir = tempDir('ringtail-e2e-');
const data = join(dir.path, 'data');
const logs = join(dir.path, 'logs');
let collector: { proc: Proc; url: string };
let agentToken: string;
const procs: Proc[] = [];

function startAgent(): Proc {
  const p = ringtail(['agent', '--collector', collector.url, '--watch', join(logs, '*.log'), '--state', join(dir.path, 'state'), '--host', 'e2e-host', '--batch-linger-ms', '100'], {
    RINGTAIL_TOKEN: agentToken,
  });
  procs.push(p);
  return p;
}

beforeAll(async () => {
  agentToken = await createToken(['--data', data]);
  expect(agentToken).toMatch(/^rt_agent_\S+$/);
  collector = await startCollectorProc(data, ADMIN);
  procs.push(collector.proc);
  await import('node:fs').then((fs) => fs.mkdirSync(logs, { recursive: true }));
});

afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  if (!process.env.KEEP) dir.cleanup(); else console.log('kept', dir.path);
});

describe('agent → collector over loopback', () => {
  it('delivers every appended line exactly once, also across an agent SIGKILL', async () => {
    const file = join(logs, 'app.log');
    writeFileSync(file, '');
    let agent = startAgent();
    const written: string[] = [];
    const write = (n: number, tag: string) => {
      let chunk = '';
      for (let i = 0; i < n; i++) {
        const line = `${tag} line ${written.length} ${'x'.repeat(i % 50)}`;
        written.push(line);
        chunk += line + '\n';
      }
      appendFileSync(file, chunk);
    };

    // A line written in two pieces arrives once, whole.
    appendFileSync(file, 'split li');
    await new Promise((r) => setTimeout(r, 150));
    appendFileSync(file, 'ne arrives whole\n');
    written.push('split line arrives whole');

    write(500, 'first');
    await waitFor('first lines', async () => (await allLogs(collector.url, ADMIN, '&host=e2e-host')).length >= written.length, 15_000);

    // Kill the agent while lines keep coming; the restarted agent resumes from its checkpoint.
    write(300, 'before-kill');
    await agent.kill('SIGKILL');
    write(300, 'while-dead');
    agent = startAgent();
    write(300, 'after-restart');

    const stored = await waitFor(
      'all lines',
      async () => {
        const got = await allLogs(collector.url, ADMIN, '&host=e2e-host');
        return got.length >= written.length ? got : undefined;
      },
      20_000,
    );
    // Give a duplicate the chance to show up before counting.
    await waitFor('agent idle', async () => (await allLogs(collector.url, ADMIN, '&host=e2e-host')).length === stored.length, 2000);
    const final = await allLogs(collector.url, ADMIN, '&host=e2e-host');
    const counts = new Map<string, number>();
    for (const l of final) counts.set(l.message, (counts.get(l.message) ?? 0) + 1);
    const lost = written.filter((l) => !counts.has(l));
    const duplicated = [...counts].filter(([, n]) => n > 1);
    expect(lost).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(final.length).toBe(written.length);
    expect(new Set(final.map((l) => l.source))).toEqual(new Set([file]));
  });

  it('shows a new line in /api/v1/logs within 2 s of the append', async () => {
    const file = join(logs, 'latency.log');
    writeFileSync(file, '');
    await waitFor('agent to pick up the new file', async () => true);
    const marker = `latency-probe ${Date.now()}`;
    const t0 = Date.now();
    appendFileSync(file, marker + '\n');
    await waitFor('probe line', async () => (await allLogs(collector.url, ADMIN, `&q=${encodeURIComponent('"' + marker + '"')}`)).length === 1, 2000);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('collector command line', () => {
  it('exits 2 with one line naming the bad key', async () => {
    const r = await runRingtail(['collector', '--listen', '127.0.0.1:99999', '--data', data]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/RINGTAIL_ERR_CONFIG --listen: port 99999/);
    const u = await runRingtail(['agent', '--whatever']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/--whatever: unknown flag/);
    const f = await runRingtail(['token', 'create', '--role', 'root', '--data', data]);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/--role/);
  });

  it('has --help on every subcommand', async () => {
    for (const cmd of [['up'], ['collector'], ['agent'], ['version'], ['token', 'create'], ['token', 'list'], ['token', 'revoke']]) {
      const r = await runRingtail([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/^Usage: ringtail /);
    }
  });
});
