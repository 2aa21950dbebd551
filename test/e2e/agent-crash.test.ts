// SIGKILL of the agent, and separately of the collector, at seeded random moments while lines
// flow (and logrotate rotates); then the collector down for a stretch while rotation happens,
// with a spool too small for the backlog. Each ends in a count: lost 0, duplicated 0.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logrotateConf, seeded, sleep, tally, writerLines, rigsFor, type AgentStatsLine } from '../helpers/agent-run.js';
import { waitFor } from '../helpers/proc.js';
import { hasTool } from '../helpers/tools.js';

const rig = rigsFor('crash');

const SEED = Number(process.env.RINGTAIL_TEST_SEED ?? 20261123);

// Correctness, not speed: each test restarts processes several times, which on a loaded 2-core
// machine (the full suite beside other work) took longer than the default 60 s once.
describe.skipIf(!hasTool('logrotate'))('crashes and outages while lines flow', { timeout: 180_000 }, () => {
  it('agent SIGKILLed at random moments during rotations: every line stored once', async () => {
    const rnd = seeded(SEED);
    const r = rig('agent');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    const lr = logrotateConf(r.dir, file, 'create');
    const args = ['--watch', join(r.logs, '*.log')];
    await r.startAgent(args);
    const COUNT = 20_000;
    const w = r.writer(file, COUNT, 5_000, 'k');
    let writing = true;
    void w.done.finally(() => (writing = false));
    const rotating = (async () => {
      while (writing) {
        await sleep(300 + rnd() * 400);
        await lr.run();
      }
    })();
    let kills = 0;
    while (writing && kills < 4) {
      await sleep(300 + rnd() * 700);
      await r.agent!.kill('SIGKILL');
      kills++;
      await sleep(rnd() * 400);
      r.spawnAgent(args);
    }
    expect(await w.done).toBe(COUNT);
    await rotating;
    expect(kills).toBeGreaterThanOrEqual(3);
    await r.agentIdle(Date.now());
    const t = tally(writerLines('k', COUNT), await r.storedAtLeast(COUNT));
    expect(t).toEqual({ written: COUNT, stored: COUNT, lost: 0, duplicated: 0, foreign: 0 });
  });

  it('collector SIGKILLed at random moments: the agent retries, every line stored once', async () => {
    const rnd = seeded(SEED + 1);
    const r = rig('collector');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    await r.startAgent(['--watch', join(r.logs, '*.log'), '--batch-max-lines', '500']);
    const COUNT = 30_000;
    const w = r.writer(file, COUNT, 5_000, 'x');
    let writing = true;
    void w.done.finally(() => (writing = false));
    let kills = 0;
    while (kills < 3) {
      await sleep(400 + rnd() * 600);
      await r.collector!.kill('SIGKILL');
      kills++;
      await sleep(200 + rnd() * 800);
      await r.startCollector();
    }
    expect(await w.done).toBe(COUNT);
    expect(kills).toBe(3);
    await r.agentIdle(Date.now());
    const t = tally(writerLines('x', COUNT), await r.storedAtLeast(COUNT));
    expect(t).toEqual({ written: COUNT, stored: COUNT, lost: 0, duplicated: 0, foreign: 0 });
    expect(r.agent!.stderr()).toMatch(/"ship.failed"/);
  });

  it('collector down while files rotate and the spool fills: reading stops, resumes, nothing lost', async () => {
    const r = rig('outage');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    const lr = logrotateConf(r.dir, file, 'create', ['compress', 'delaycompress']);
    // A 1 MiB spool of uncompressed batches holds about 12,000 of these lines: less than the outage brings.
    // Each file generation lives about 1 s as app.log and 1 s as app.log.1 before it is
    // compressed, five scan intervals: the agent must find every generation while it is still a
    // plain file, even on a loaded machine (a generation gzipped before any scan saw it is out of
    // any agent's reach; real rotations are hours apart).
    await r.startAgent(['--watch', join(r.logs, '*.log'), '--spool-max-bytes', String(1024 * 1024), '--transport-gzip-level', '0', '--batch-max-lines', '1000', '--scan-interval-ms', '200']);
    const COUNT = 30_000;
    await r.collector!.kill('SIGTERM');
    const w = r.writer(file, COUNT, 5_000, 'o');
    let rotations = 0;
    let writing = true;
    void w.done.finally(() => (writing = false));
    while (writing) {
      await sleep(1000);
      await lr.run();
      rotations++;
    }
    expect(await w.done).toBe(COUNT);
    expect(rotations).toBeGreaterThanOrEqual(5);
    await r.startCollector();
    await r.agentIdle(Date.now(), 45_000);
    const t = tally(writerLines('o', COUNT), await r.storedAtLeast(COUNT));
    expect(t).toEqual({ written: COUNT, stored: COUNT, lost: 0, duplicated: 0, foreign: 0 });
    const log = r.agent!.stderr();
    expect(log).toMatch(/"spool.full"/);
    expect(log).toMatch(/"spool.resumed"/);
    expect(log).not.toMatch(/"spool.dropped"/);
  });

  it('agent SIGKILLed with a full spool while the collector is down: after restart nothing lost or duplicated', async () => {
    const r = rig('spoolkill');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    const args = ['--watch', file, '--batch-max-lines', '700'];
    await r.startAgent(args);
    await r.collector!.kill('SIGKILL');
    const first = r.writer(file, 12_000, 20_000, 's');
    expect(await first.done).toBe(12_000);
    const spooled = await waitFor('everything read into the spool', () => {
      const stats = r.agent!.stderr().split('\n').filter((l) => l.includes('"agent.stats"')).map((l) => JSON.parse(l) as AgentStatsLine);
      const last = stats[stats.length - 1];
      return last && last.lines_read === 12_000 && last.spool_records > 1 ? last : undefined;
    }, 15_000);
    expect(spooled.lines_shipped).toBe(0);
    // Every line read is not yet every line spooled: the last, partial batch is sealed after the
    // linger time (200 ms). The next stats line (1 s later) comes after it.
    const statsLines = () => r.agent!.stderr().split('\n').filter((l) => l.includes('"agent.stats"')).length;
    const seen = statsLines();
    await waitFor('the next stats line', () => statsLines() > seen, 5_000);
    await r.agent!.kill('SIGKILL');
    appendFileSync(file, writerLines('s', 15_000).slice(12_000).join('\n') + '\n');
    r.spawnAgent(args);
    await r.startCollector();
    await r.agentIdle(Date.now());
    const t = tally(writerLines('s', 15_000), await r.storedAtLeast(15_000));
    expect(t).toEqual({ written: 15_000, stored: 15_000, lost: 0, duplicated: 0, foreign: 0 });
    // The restarted agent resumed after what its spool held: it read the new lines, plus at most
    // the one batch (700 lines) that was read but not yet appended to the spool when it was
    // killed, and shipped the spooled ones as they were.
    const after = r.agent!.stderr().split('\n').filter((l) => l.includes('"agent.stats"')).map((l) => JSON.parse(l) as AgentStatsLine);
    const last = after[after.length - 1]!;
    expect(last.lines_read).toBeGreaterThanOrEqual(3_000);
    expect(last.lines_read).toBeLessThanOrEqual(3_000 + 700);
    expect(last.lines_shipped).toBe(15_000);
  });
});
