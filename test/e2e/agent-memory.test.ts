// The agent's memory while it reads a large file at full speed, shipping to a real collector.
// The target is 64 MB RSS (issues 4 and 6); on Node 20 about 42 MB of it is the node executable's
// own file pages, so the margin is a few MB and moves with the machine. For `bin/ringtail agent`
// run through node (`node bin/ringtail agent`, no MALLOC_ARENA_MAX) this test is a regression guard
// with a looser bound that fails on the old behaviour (~114 MB peak for this file: a promoted Buffer
// per pull and per batch, a young generation grown to 32 MB, ~290 ES modules); run as a program
// (`bin/ringtail agent`, as a clone and `npm run bench -- logs` run it) it is held to 64 MB.
// The one-file agent (dist/ringtail-agent) is held to 64 MB itself, with its executable read into
// the page cache first (as a download or a checksum leaves it): the case where the kernel mapped
// its read-only data 2 MB at a time (75 MB peak) until the build moved it off that alignment
// (scripts/elf-unalign.mjs).
import { spawnSync } from 'node:child_process';
import { closeSync, createWriteStream, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { Rig } from '../helpers/agent-run.js';
import { BIN, tempDir, waitFor } from '../helpers/proc.js';

const LINES = 200_000;
/** MB of peak RSS (VmHWM). Measured 64–67 MB for this run on a loaded 2-core machine, ~61 MB since
 * the agent collects garbage itself (agent/gc.ts). */
const GUARD_MB = 68;
/** The promise, for the one-file agent: measured 62.5–62.9 MB with its file in the page cache at
 * full speed (`SEA=dist/ringtail-agent node bench/agent-read.mjs 1000000`, load ~20). */
const SEA_MB = 64;
const SEA = fileURLToPath(new URL('../../dist/ringtail-agent', import.meta.url));
/** The promise, for `bin/ringtail agent` run as a program (its sh line sets MALLOC_ARENA_MAX=2):
 * measured 61.1 MB here at load 18–25, 61.9–62.3 MB at full speed over 1 M lines (`node
 * bench/agent-read.mjs 1000000`, load 17–26) against 64.1–65.5 MB as `node bin/ringtail agent`.
 * The environment is asserted too: without the sh line this run peaked at 62.7 MB, under the bound. */
const BIN_MB = 64;

const dir = tempDir('ringtail-mem-');
const rig = new Rig(join(dir.path, 'bin'), 'mem-host');
const seaRig = new Rig(join(dir.path, 'sea'), 'mem-sea');
const progRig = new Rig(join(dir.path, 'prog'), 'mem-prog');

afterAll(async () => {
  await rig.killAll();
  await seaRig.killAll();
  await progRig.killAll();
  dir.cleanup();
});

async function writeFile(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  let chunk = '';
  for (let i = 0; i < n; i++) {
    chunk += `Nov 23 18:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')} mem-host app[${1000 + (i % 50)}]: request ${i} served in ${i % 997} ms lorem ipsum dolor sit amet\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  out.end(chunk);
  await new Promise<void>((r) => out.once('finish', () => r()));
}

function status(pid: number): { hwmMb: number; anonMb: number; pmdMb: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1]);
  // file pages mapped 2 MB at a time, over all mappings
  const pmdKb = [...readFileSync(`/proc/${pid}/smaps`, 'utf8').matchAll(/^FilePmdMapped:\s+(\d+) kB/gm)].reduce((a, m) => a + Number(m[1]), 0);
  return { hwmMb: kb('VmHWM') / 1024, anonMb: kb('RssAnon') / 1024, pmdMb: pmdKb / 1024 };
}

/** Drops a file from the page cache (dd's fadvise), then reads it through once with read(), as cat
 * or a checksum does: readahead then fills the cache with large folios where the kernel and file
 * system use them (a file just written, by the build or cp, is cached in small ones). */
function readThrough(path: string): void {
  const dd = spawnSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
  if (dd.status !== 0) throw new Error(`dd: ${dd.stderr}`);
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

/** Starts `r`'s collector and agent on a fresh file of LINES lines; the agent's memory once every
 * line is acknowledged. */
async function readAll(r: Rig, exe?: string): Promise<{ hwmMb: number; anonMb: number; pmdMb: number; shipped: number; env: string[] }> {
  const file = join(r.logs, 'big.log');
  await writeFile(file, LINES);
  await r.startCollector();
  const agent = await r.startAgent(['--watch', file], exe);
  const shipped = () =>
    agent
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"agent.stats"'))
      .map((l) => (JSON.parse(l) as { lines_shipped: number }).lines_shipped)
      .pop() ?? 0;
  await waitFor('every line acknowledged by the collector', () => shipped() >= LINES, 150_000, 200);
  const env = readFileSync(`/proc/${agent.child.pid!}/environ`, 'utf8').split('\0');
  return { ...status(agent.child.pid!), shipped: shipped(), env };
}

describe.skipIf(!existsSync('/proc/self/status'))('agent memory', () => {
  it(`reads and ships ${LINES.toLocaleString('en-US')} lines with a bounded peak RSS`, async () => {
    const { hwmMb, anonMb, shipped } = await readAll(rig);
    console.log(`agent over ${LINES} lines: peak RSS ${hwmMb.toFixed(1)} MB, private ${anonMb.toFixed(1)} MB`);
    expect(shipped).toBe(LINES);
    // Over the bound: is dist/agent.bundle.js stale (tsc without `npm run build`)?
    expect(hwmMb).toBeLessThan(GUARD_MB);
  }, 200_000);

  it(`bin/ringtail agent run as a program: MALLOC_ARENA_MAX=2, ${LINES.toLocaleString('en-US')} lines under ${BIN_MB} MB peak RSS`, async () => {
    // what its sh line adds, not what this process happens to have
    delete process.env.MALLOC_ARENA_MAX;
    const { hwmMb, anonMb, shipped, env } = await readAll(progRig, BIN);
    console.log(`bin/ringtail agent (as a program) over ${LINES} lines: peak RSS ${hwmMb.toFixed(1)} MB, private ${anonMb.toFixed(1)} MB`);
    expect(env.filter((v) => v.startsWith('MALLOC_ARENA_MAX='))).toEqual(['MALLOC_ARENA_MAX=2']);
    expect(shipped).toBe(LINES);
    expect(hwmMb).toBeLessThan(BIN_MB);
  }, 200_000);

  // agent-sea.test.ts says why the one-file agent may be missing (and fails under CI then)
  it.skipIf(!existsSync(SEA))(`one-file agent, its executable in the page cache: ${LINES.toLocaleString('en-US')} lines under ${SEA_MB} MB peak RSS`, async () => {
    readThrough(SEA);
    const { hwmMb, anonMb, pmdMb, shipped } = await readAll(seaRig, SEA);
    console.log(`one-file agent over ${LINES} lines, executable cached: peak RSS ${hwmMb.toFixed(1)} MB, private ${anonMb.toFixed(1)} MB, file pages mapped 2 MB at a time ${pmdMb.toFixed(1)} MB`);
    expect(shipped).toBe(LINES);
    expect(pmdMb).toBe(0);
    expect(hwmMb).toBeLessThan(SEA_MB);
  }, 200_000);
});
