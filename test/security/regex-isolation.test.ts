// One viewer's runaway `re` must fail only that viewer's request (issue 12, item 5): a pattern
// that overruns its deadline costs its own worker, never the queries queued or running beside it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { parsePattern, RegexRunner } from '../../collector/query/regex.js';
import { batchOf, testCollector, type TestCollector } from '../helpers/collector.js';
import { waitFor } from '../helpers/proc.js';

// (a+)+$ against a's followed by a non-a backtracks exponentially: 2^40 steps never finish.
const RUNAWAY = encodeURIComponent('(a+)+$');
const A_LINE = `${'a'.repeat(40)}!`;

async function seeded(workers: number): Promise<{ c: TestCollector; attacker: string; victim: string }> {
  const c = await testCollector(undefined, { regex: { workers } });
  const ingest = await c.app.inject({
    method: 'POST',
    url: '/api/v1/ingest',
    headers: { authorization: `Bearer ${c.token('agent')}` },
    payload: batchOf([A_LINE, 'seed one', A_LINE, 'seed two', A_LINE, 'unrelated'], { host: 'rx' }),
  });
  expect(ingest.statusCode).toBe(200);
  const attacker = (await c.app.storage.tokens.create('viewer', 'attacker', Date.now())).token;
  const victim = (await c.app.storage.tokens.create('viewer', 'victim', Date.now())).token;
  return { c, attacker, victim };
}

function get(c: TestCollector, token: string, re: string) {
  return c.app.inject({ method: 'GET', url: `/api/v1/logs?host=rx&re=${re}`, headers: { authorization: `Bearer ${token}` } });
}

describe.each([1, 2])('re isolation with %i regex worker(s)', (workers) => {
  let s: Awaited<ReturnType<typeof seeded>>;
  beforeAll(async () => {
    s = await seeded(workers);
  });
  afterAll(async () => s.c.close());

  it('a harmless re next to a runaway one answers 200 with its rows; only the runaway fails', async () => {
    // Twice over: the second round runs on the workers that replaced the killed ones.
    for (let round = 0; round < 2; round++) {
      const runaway = get(s.c, s.attacker, RUNAWAY);
      const harmless = get(s.c, s.victim, 'seed');
      const [bad, good] = await Promise.all([runaway, harmless]);
      expect(good.statusCode).toBe(200);
      expect(good.json().items.map((i: { message: string }) => i.message)).toEqual(['seed two', 'seed one']);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error).toBe('RINGTAIL_ERR_BAD_QUERY');
      expect(bad.json().message).toMatch(/^re: matching took longer than 1000 ms/);
    }
    expect(s.c.app.regex.killed).toBeGreaterThanOrEqual(2);
  });

  it('limits concurrent re queries per token (429 naming the option) without touching other tokens', async () => {
    const flood = [0, 1, 2].map(() => get(s.c, s.attacker, RUNAWAY));
    const harmless = get(s.c, s.victim, 'seed');
    const results = await Promise.all(flood);
    const statuses = results.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([400, 400, 429]);
    const refused = results.find((r) => r.statusCode === 429)!.json();
    expect(refused.error).toBe('RINGTAIL_ERR_RATE_LIMITED');
    expect(refused.message).toMatch(/regex\.max_concurrent_per_token = 2/);
    expect((await harmless).statusCode).toBe(200);
    // the slots are released when the queries end
    const after = await get(s.c, s.attacker, 'seed');
    expect(after.statusCode).toBe(200);
    expect(after.json().items).toHaveLength(2);
  });
});

describe('RegexRunner', () => {
  it('runs a chunk again on a fresh worker when its worker dies under it for another reason', async () => {
    const runner = new RegexRunner({ workers: 1 });
    try {
      const lines = Array.from({ length: 50 }, (_, i) => `line ${i}`);
      const slow = runner.test(parsePattern('(a+)+$'), [A_LINE], 2_000);
      const worker = () => (runner as unknown as { slots: Array<{ worker: Worker | null }> }).slots[0]!.worker;
      const first = await waitFor('the worker to start', () => worker() ?? undefined);
      await first.terminate(); // (not a deadline: the chunk was not at fault)
      await waitFor('a fresh worker', () => worker() !== null && worker() !== first);
      // the runaway chunk now runs on the new worker, and the harmless one queued behind it waits
      const harmless = runner.test(parsePattern('line [13]$'), lines, 5_000);
      await expect(slow).rejects.toThrow(/re: matching took longer than 2000 ms/);
      expect(await harmless).toEqual([1, 3]);
      expect(runner.killed).toBe(1);
    } finally {
      await runner.close();
    }
  });
});
