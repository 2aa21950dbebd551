// The collector runs with the malloc arenas its systemd unit gives it (issue 17 item 3: RSS under
// the 1,000-agent load). glibc gives each thread that allocates an arena of its own unless
// MALLOC_ARENA_MAX says otherwise, and reads the variable only when the process starts, so the
// unit's `Environment=` is where it is set (docs/deploy.md): this test starts `bin/ringtail
// collector` with the environment the unit declares, stores a metric batch (the store thread and
// its SQLite connection allocate), and counts the arenas in the process's memory map. The same
// collector started without the variable shows more of them, so the count can fail.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { METRICS_INGEST_PATH, WIRE_VERSION, type MetricBatch } from '../../shared/wire.js';
import { BIN, createToken, listeningUrl, spawnProc, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';

const UNIT = fileURLToPath(new URL('../../deploy/systemd/ringtail-collector.service', import.meta.url));
const ADMIN = 'rt_admin_collector_memory_0123456789';
const ARENA = 64 * 1024 * 1024;

const dir = tempDir('ringtail-collector-mem-');
const procs: Proc[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  dir.cleanup();
});

/** The unit's `Environment=NAME=value` settings. */
function unitEnvironment(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(UNIT, 'utf8').split('\n')) {
    const m = /^Environment=([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/**
 * glibc's arenas of threads other than the main one: each is a 64 MiB-aligned reservation of
 * 64 MiB, mapped read-write as far as it has grown and PROT_NONE beyond (glibc's new_heap). The
 * main thread's arena is the `[heap]` segment and is not counted.
 */
function threadArenas(pid: number): number {
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [range, perms, , , inode, path] = l.split(/\s+/);
      const [lo, hi] = range!.split('-').map((h) => parseInt(h, 16));
      return { lo: lo!, hi: hi!, perms: perms!, anon: inode === '0' && !path };
    });
  let n = 0;
  maps.forEach((m, i) => {
    if (!m.anon || !m.perms.startsWith('rw') || m.lo % ARENA !== 0) return;
    const next = maps[i + 1];
    const whole = m.hi - m.lo === ARENA || (next?.anon && next.perms.startsWith('---') && next.lo === m.hi && next.hi - m.lo === ARENA);
    if (whole) n++;
  });
  return n;
}

async function startWithMetrics(name: string, env: Record<string, string | undefined>): Promise<Proc> {
  const data = join(dir.path, name);
  const token = await createToken(['--data', data]);
  const { proc, url } = await startCollectorProc(data, ADMIN, [], env);
  procs.push(proc);
  const batch: MetricBatch = {
    version: WIRE_VERSION,
    agent_id: `agt_${name}`,
    host: `${name}-host`,
    interval_ms: 10_000,
    samples: Array.from({ length: 20 }, (_, k) => ({ name: `mem.m${k}`, type: 'GAUGE' as const, ts: Date.now(), value: k })),
  };
  const res = await fetch(url + METRICS_INGEST_PATH, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(batch) });
  expect(res.status, await res.text()).toBe(200);
  return proc;
}

describe('collector memory', () => {
  it('runs with the two malloc arenas its systemd unit sets (and with more without it)', async () => {
    const env = unitEnvironment();
    expect(env.MALLOC_ARENA_MAX).toBe('2');

    const bare = await startWithMetrics('bare', { MALLOC_ARENA_MAX: undefined });
    // the threads allocate as they start: wait until more than one arena is seen
    await waitFor('the bare collector to use several arenas', () => threadArenas(bare.child.pid!) > 1, 10_000);

    const unit = await startWithMetrics('unit', env);
    // MALLOC_ARENA_MAX=2: the main arena and at most one more, whatever the threads do
    expect(threadArenas(unit.child.pid!)).toBeLessThanOrEqual(1);
    expect(readFileSync(`/proc/${unit.child.pid}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=2');
  });

  it('gets MALLOC_ARENA_MAX=2 from bin/ringtail run as a program, with no node flags of its own', async () => {
    // bin/ringtail as a program: its sh line exports the variable and execs node (the pid stays the same)
    const data = join(dir.path, 'program');
    const { MALLOC_ARENA_MAX: _, ...env } = process.env;
    const proc = spawnProc(BIN, ['collector', '--data', data, '--listen', '127.0.0.1:0', '--admin-token', ADMIN, '--log-level', 'warn', '--no-syslog-enabled'], env);
    procs.push(proc);
    await listeningUrl(proc, 'collector');
    const argv = readFileSync(`/proc/${proc.child.pid}/cmdline`, 'utf8').split('\0');
    expect(argv.slice(1, argv.indexOf(BIN))).toEqual([]);
    expect(readFileSync(`/proc/${proc.child.pid}/environ`, 'utf8').split('\0')).toContain('MALLOC_ARENA_MAX=2');
  });
});
