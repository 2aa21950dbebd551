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
//
// Fixed: the wire bounds sample times (shared/wire.ts MAX_WIRE_TS, metrics.max_future_ms), feedRun
// counts the rows it writes (at most the archive's), and time parameters past 9999 are a 400.
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

// Both were probed as defects (it.fails) before their fixes; they stay as checks of the fixed
// behaviour, still against a live child process so a regression shows as a hang, not a red line.
describe('far-future metric sample vs. a live collector', () => {
  for (const ts of [1e20, 1e300]) {
    it(`issue12#1 (hang), ts ${ts}: the sample is refused with a 400 naming samples/0/ts and the collector stays alive`, async () => {
      dir = tempDir('ringtail-metric-hang-');
      const started = await startCollectorProc(dir.path, ADMIN);
      proc = started.proc;
      const { url } = started;
      const t = Math.floor(Date.now() / 10_000) * 10_000;
      expect(await call(url, '/api/v1/metrics/ingest', sample(t - 10_000))).toMatchObject({ status: 200 });
      const hostile = await call(url, '/api/v1/metrics/ingest', sample(ts));
      expect(hostile).not.toBe('no answer');
      const refused = hostile as { status: number; text: string };
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.text)).toMatchObject({ error: 'RINGTAIL_ERR_BAD_REQUEST', message: expect.stringMatching(/^body\/samples\/0\/ts: /) });
      // a viewer opens the series' chart: it answers, with the real sample and nothing after it
      const series = await call(url, `/api/v1/series?host=victim&metric=cpu.user&start=${t - 60_000}&end=${t + 60_000}`);
      expect(series).toMatchObject({ status: 200 });
      expect(await call(url, '/healthz'), 'GET /healthz within 3 s after the series was read').toMatchObject({ status: 200 });
      // (the consolidation loop that hung on such a time is bounded by itself too: test/unit/rrd-feedrun.test.ts)
    }, 30_000);
  }

  it('series far-future end: GET /api/v1/series with end in the year 318,857 is a 400 naming end, answered at once', async () => {
    dir = tempDir('ringtail-series-range-');
    const started = await startCollectorProc(dir.path, ADMIN);
    proc = started.proc;
    const { url } = started;
    const t = Math.floor(Date.now() / 10_000) * 10_000;
    expect(await call(url, '/api/v1/metrics/ingest', sample(t))).toMatchObject({ status: 200 });
    const res = await call(url, '/api/v1/series?host=victim&metric=cpu.user&start=0&end=9999999999999999');
    expect(res, 'GET /api/v1/series answered within 3 s').not.toBe('no answer');
    const refused = res as { status: number; text: string };
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text)).toMatchObject({ error: 'RINGTAIL_ERR_BAD_QUERY', parameter: 'end', message: expect.stringMatching(/^end: time out of range/) });
    expect(await call(url, '/healthz')).toMatchObject({ status: 200 });
  }, 30_000);
});
