// Probes that stop a whole collector, so they run against a real child process (a hung event loop
// cannot be observed from inside itself, and an out-of-memory crash would take the test worker).
//
// 1. New finding, found by the wire fuzz's probes (not in issue 12's text, fixed by its item 1):
// one metric sample whose time is past ~9e19 ms, sent to an existing series, makes the next
// read of that series — or the journal checkpoint, or shutdown — spin the collector's main
// thread for good. collector/rrd/consolidate.ts feedRun writes the last `rows` of `full` rows
// with `for (r = full - rows + 1; r <= full; r++)`; past 2^53, `r++` no longer changes r.
// Issue 12 #1 reports the far-future sample as freezing its series; this is worse: one agent
// token plus any viewer opening the series' chart stops the whole collector (health, ingest,
// syslog), and SIGTERM no longer ends it.
//
// 2. New finding (found by query-abuse.test.ts): GET /api/v1/series builds one row per archive
// step from start to end, and `end` is bounded only by its length (64 characters). A viewer
// asking for `end=9999999999999999` (year 318,857) makes the collector compute ~2.8e9 rows of
// the 1 h archive: the main thread is busy for minutes and the heap runs out (in the vitest
// worker: 'FATAL ERROR: invalid table size Allocation failed - JavaScript heap out of memory'
// after ~150 s). Even `end` 10 years ahead costs 4 s of main thread and a 26 MB answer.
import { afterEach, describe, expect, it } from 'vitest';
import { startCollectorProc, tempDir, type Proc } from '../helpers/proc.js';

const ADMIN = 'rt_admin_probe_metric_hang_0123456789abcdef';
let proc: Proc | null = null;
let dir: ReturnType<typeof tempDir> | null = null;
afterEach(async () => {
  await proc?.kill('SIGKILL');
  proc = null;
  dir?.cleanup();
  dir = null;
});

async function call(url: string, path: string, body?: unknown): Promise<{ status: number; text: string } | 'no answer'> {
  try {
    const res = await fetch(url + path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(3000),
    });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') return 'no answer';
    throw err;
  }
}

const sample = (ts: number) => ({ version: 1, agent_id: 'agt_probe', host: 'victim', interval_ms: 10_000, samples: [{ name: 'cpu.user', type: 'GAUGE', ts, value: 1 }] });

export const KNOWN_DEFECTS = {
  'issue12#1 (hang)': 'a metric sample at ts >= ~9e19 ms hangs the collector on the next read of its series',
} as const;
export const NEW_FINDINGS = {
  'series far-future end': 'GET /api/v1/series with a far-future end computes a row per step up to it: minutes of CPU, then out of memory',
} as const;

describe('far-future metric sample vs. a live collector', () => {
  for (const ts of [1e20, 1e300]) {
    it.fails(`issue12#1 (hang), ts ${ts}: ${KNOWN_DEFECTS['issue12#1 (hang)']}`, async () => {
      dir = tempDir('ringtail-metric-hang-');
      const started = await startCollectorProc(dir.path, ADMIN);
      proc = started.proc;
      const { url } = started;
      const t = Math.floor(Date.now() / 10_000) * 10_000;
      expect(await call(url, '/api/v1/metrics/ingest', sample(t - 10_000))).toMatchObject({ status: 200 });
      const hostile = await call(url, '/api/v1/metrics/ingest', sample(ts));
      expect(hostile).not.toBe('no answer');
      // a viewer opens the series' chart; whatever it answers, the collector must stay alive
      await call(url, '/api/v1/series?host=victim&metric=cpu.user');
      const health = await call(url, '/healthz');
      expect(health, 'GET /healthz within 3 s after the series was read').toMatchObject({ status: 200 });
    }, 30_000);
  }

  it.fails(`new: series far-future end: ${NEW_FINDINGS['series far-future end']}`, async () => {
    dir = tempDir('ringtail-series-range-');
    const started = await startCollectorProc(dir.path, ADMIN);
    proc = started.proc;
    const { url } = started;
    const t = Math.floor(Date.now() / 10_000) * 10_000;
    expect(await call(url, '/api/v1/metrics/ingest', sample(t))).toMatchObject({ status: 200 });
    const res = await call(url, '/api/v1/series?host=victim&metric=cpu.user&start=0&end=9999999999999999');
    // a 400 naming `end`, or a bounded answer: either way within the 3 s and the collector alive
    expect(res, 'GET /api/v1/series answered within 3 s').not.toBe('no answer');
    expect(await call(url, '/healthz')).toMatchObject({ status: 200 });
  }, 30_000);
});
