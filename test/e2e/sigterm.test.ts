// SIGTERM, as systemd stops a service (`systemctl stop`, a restart, a shutdown), at seeded random
// moments while lines flow: the agent and the collector exit 0, the agent's spool reopens without
// a repair (no torn record), and in the end every line written is stored exactly once — nothing
// the collector acknowledged is lost, nothing the agent had not had acknowledged is forgotten.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rigsFor, seeded, sleep, tally, writerLines, type Rig } from '../helpers/agent-run.js';
import { waitFor } from '../helpers/proc.js';

const rig = rigsFor('sigterm');
const SEED = Number(process.env.RINGTAIL_TEST_SEED ?? 20261207);

/** The agent's "agent started" line: what it found in its spool. */
function startedWith(r: Rig): number {
  const line = r.agent!.stderr().split('\n').find((l) => l.includes('"agent started"'));
  return (JSON.parse(line!) as { spooled_records: number }).spooled_records;
}

async function sigterm(r: Rig, which: 'agent' | 'collector'): Promise<void> {
  const p = r[which]!;
  const started = Date.now();
  await p.kill('SIGTERM');
  const { code, signal } = await p.exited;
  expect({ which, code, signal }).toEqual({ which, code: 0, signal: null });
  // the agent waits at most 2 s for a request in flight; the collector drains its requests
  expect(Date.now() - started).toBeLessThan(10_000);
}

describe('SIGTERM is a clean stop', () => {
  it('agent stopped at random moments while lines flow: exits 0, spool reopens clean, every line stored once', async () => {
    const rnd = seeded(SEED);
    const r = rig('agent');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    const args = ['--watch', join(r.logs, '*.log'), '--batch-max-lines', '300'];
    await r.startAgent(args);
    const COUNT = 20_000;
    const w = r.writer(file, COUNT, 2_500, 't');
    let writing = true;
    void w.done.finally(() => (writing = false));
    await waitFor('the first lines read', () => /"lines_read":[1-9]/.test(r.agent!.stderr()), 15_000);
    let stops = 0;
    let whileWriting = 0;
    while (stops < 4) {
      await sleep(300 + rnd() * 700);
      if (writing) whileWriting++;
      await sigterm(r, 'agent');
      stops++;
      await r.startAgent(args);
      expect(r.agent!.stderr()).not.toMatch(/"spool.repaired"/);
    }
    expect(await w.done).toBe(COUNT);
    expect(whileWriting).toBeGreaterThanOrEqual(2);
    await r.agentIdle(Date.now());
    expect(tally(writerLines('t', COUNT), await r.storedAtLeast(COUNT))).toEqual({ written: COUNT, stored: COUNT, lost: 0, duplicated: 0, foreign: 0 });
  });

  it('agent stopped with a backlog in its spool (collector down): the spool is kept whole and shipped after restart', async () => {
    const rnd = seeded(SEED + 1);
    const r = rig('backlog');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    const args = ['--watch', file, '--batch-max-lines', '500'];
    await r.startAgent(args);
    await sigterm(r, 'collector');
    const COUNT = 8_000;
    const w = r.writer(file, COUNT, 8_000, 'b');
    // stopped at a random moment while reading into the spool
    await waitFor('batches in the spool', () => /"spool_records":[1-9]/.test(r.agent!.stderr()), 15_000);
    await sleep(rnd() * 600);
    await sigterm(r, 'agent');
    expect(await w.done).toBe(COUNT);
    await r.startAgent(args);
    expect(r.agent!.stderr()).not.toMatch(/"spool.repaired"/);
    expect(startedWith(r)).toBeGreaterThan(0);
    await r.startCollector();
    await r.agentIdle(Date.now());
    expect(tally(writerLines('b', COUNT), await r.storedAtLeast(COUNT))).toEqual({ written: COUNT, stored: COUNT, lost: 0, duplicated: 0, foreign: 0 });
  });

  it('collector stopped at random moments while an agent ships: exits 0, nothing it acknowledged is lost', async () => {
    const rnd = seeded(SEED + 2);
    const r = rig('collector');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    await r.startAgent(['--watch', join(r.logs, '*.log'), '--batch-max-lines', '400']);
    const COUNT = 20_000;
    const w = r.writer(file, COUNT, 5_000, 'c');
    let stops = 0;
    while (stops < 3) {
      await sleep(400 + rnd() * 600);
      await sigterm(r, 'collector');
      stops++;
      await sleep(rnd() * 500);
      await r.startCollector();
    }
    expect(await w.done).toBe(COUNT);
    await r.agentIdle(Date.now());
    const stored = await r.stored();
    expect(tally(writerLines('c', COUNT), stored)).toEqual({ written: COUNT, stored: COUNT, lost: 0, duplicated: 0, foreign: 0 });
    // the agent did see the collector go away (the stops were not all between requests)
    await waitFor('a failed ship', () => /"ship.failed"/.test(r.agent!.stderr()), 1000);
  });
});
