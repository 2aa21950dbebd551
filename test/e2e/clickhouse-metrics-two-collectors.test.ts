// Issue 16, metrics: two `ringtail collector --storage clickhouse` processes on one chdb server
// (test/fixtures/chdb-server.mjs), twenty agents posting metric batches as the agent does (one
// round of four series per request, resent whole on a failure or a 503, after Retry-After,
// through whichever collector answers: a load balancer's choice). Collector A is SIGKILLed
// mid-stream and started again on its port; its hosts' leases expire and a collector takes
// them over. In the end every series' `ringtail rrd fetch --storage clickhouse` equals the real
// rrdtool's fetch on the same updates, and both collectors answer GET /api/v1/series alike.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLayouts } from '../../collector/metrics/layout.js';
import type { MetricBatch, MetricSample, MetricType } from '../../shared/wire.js';
import { ADMIN } from '../helpers/agent-run.js';
import { runRingtail, waitFor } from '../helpers/proc.js';
import { sharedRig } from '../helpers/shared-rig.js';
import { parseFetch, sameValue } from '../helpers/rrd-gen.js';
import { ringtailRrd } from '../helpers/rrd-inprocess.js';
import { RrdtoolPipe } from '../helpers/rrdtool-pipe.js';
import { SharedCollector } from '../helpers/shared-collector.js';
import { hasTool } from '../helpers/tools.js';

const DATABASE = 'metrics_two';
const AGENTS = Number(process.env.CH_METRICS_AGENTS ?? 20);
const ROUNDS = 45;
const STEP_MS = 10_000;
/** rounds stamped in the past (the collector refuses samples an hour ahead): the last one 10 minutes ago */
const T0 = Math.floor((Date.now() - (ROUNDS * STEP_MS + 600_000)) / STEP_MS) * STEP_MS;
const METRICS: Array<{ name: string; type: MetricType }> = [
  { name: 'load.1', type: 'GAUGE' },
  { name: 'net.rx_bytes', type: 'COUNTER' },
  { name: 'disk.ops', type: 'DERIVE' },
  { name: 'req.count', type: 'ABSOLUTE' },
];

const rig = sharedRig('ringtail-chm2-');
const { dir, procs } = rig;
let pipe: RrdtoolPipe;

beforeAll(() => {
  pipe = new RrdtoolPipe();
});
afterAll(() => pipe?.close());

/** agent i's value of metric m in round r: gauges wander, counters grow (one reset), derives go both ways */
function value(i: number, m: number, r: number): number {
  switch (m) {
    case 0:
      return ((r * 37 + i * 11) % 23) / 4;
    case 1:
      return r === 30 ? 7 : r * (1000 + i * 17) + ((r * r * 13) % 700);
    case 2:
      return ((r * 13 + i) % 17) * 100 - r * 3;
    default:
      return (r * 3 + i) % 10;
  }
}

/** round r's sample time: inside its step, not on the boundary, a second apart between agents */
const stamp = (i: number, r: number) => T0 + r * STEP_MS + 1000 + ((i + r) % 8) * 1000;

function batch(i: number, r: number): MetricBatch {
  const samples: MetricSample[] = METRICS.map((m, k) => ({ name: m.name, type: m.type, ts: stamp(i, r), value: value(i, k, r) }));
  return { version: 1, agent_id: `agt_chm_${i}`, host: `chm-${i}`, interval_ms: STEP_MS, samples };
}

interface Stats {
  refused: number;
  failed: number;
  /** rounds acknowledged */
  acked: number;
}

/** An agent: each round until acknowledged, on its collector or, after a failure, the other one. */
async function runAgent(i: number, collectors: SharedCollector[], stats: Stats[]): Promise<void> {
  let at = i % collectors.length;
  for (let r = 0; r < ROUNDS; r++) {
    for (;;) {
      const c = collectors[at]!;
      try {
        const res = await fetch(`http://127.0.0.1:${c.port}/api/v1/metrics/ingest`, {
          method: 'POST',
          headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
          body: JSON.stringify(batch(i, r)),
          signal: AbortSignal.timeout(30_000),
        });
        const body = await res.text();
        if (res.status === 200) break;
        if (res.status !== 503) throw new Error(`agent ${i} round ${r}: ${res.status} ${body}`);
        stats[i]!.refused++;
        // Retry-After, as the agent honours it (at most the lease, 30 s)
        await new Promise((done) => setTimeout(done, Math.min(30, Number(res.headers.get('retry-after') ?? 1)) * 1000));
      } catch (err) {
        if ((err as Error).message.startsWith(`agent ${i}`)) throw err;
        stats[i]!.failed++;
        await new Promise((done) => setTimeout(done, 250));
      }
      at = (at + 1) % collectors.length;
    }
    stats[i]!.acked++;
  }
}

describe.skipIf(!hasTool('rrdtool'))('metrics on one ClickHouse, two collectors', () => {
  it(`${AGENTS} agents, one collector SIGKILLed mid-stream and restarted: every series' fetch equals rrdtool's`, { timeout: 900_000 }, async () => {
    const a = new SharedCollector('collector-a', dir.path, { url: rig.chdb.url, database: DATABASE }, procs);
    const b = new SharedCollector('collector-b', dir.path, { url: rig.chdb.url, database: DATABASE }, procs);
    await Promise.all([a.start(), b.start()]);
    await waitFor('the storage line', () => /storage: logs, metrics, tokens, sessions, alerts, host states in ClickHouse \(database metrics_two\)/.test(a.proc!.stdout()), 10_000);

    const stats: Stats[] = Array.from({ length: AGENTS }, () => ({ refused: 0, failed: 0, acked: 0 }));
    const agents = Array.from({ length: AGENTS }, (_, i) => runAgent(i, [a, b], stats));
    // A dies once its agents are a third of the way through, long before the last round
    await waitFor('a third of the rounds stored', () => stats.every((s) => s.acked >= ROUNDS / 3), 300_000, 100);
    await a.proc!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1_500));
    await a.start();
    await Promise.all(agents);
    // the kill was felt: requests cut off, and refused (503) while the dead A's leases ran out
    expect(stats.reduce((n, s) => n + s.failed, 0)).toBeGreaterThan(0);
    expect(stats.reduce((n, s) => n + s.refused, 0)).toBeGreaterThan(0);

    const def = (type: MetricType) => createLayouts().define('x', type, STEP_MS);
    const start = Math.floor(T0 / 1000) - 60;
    const end = Math.floor((T0 + ROUNDS * STEP_MS) / 1000) + 20;
    let rows = 0;
    for (let i = 0; i < AGENTS; i++) {
      for (const [k, m] of METRICS.entries()) {
        const d = def(m.type);
        const file = join(dir.path, `chm-${i}-${k}.rrd`);
        const ds = d.ds.map((x) => `DS:${x.name}:${x.type}:${x.heartbeat}:${Number.isNaN(x.min) ? 'U' : x.min}:${Number.isNaN(x.max) ? 'U' : x.max}`);
        const rra = d.rra.map((x) => `RRA:${x.cf}:${x.xff}:${x.pdpPerRow}:${x.rows}`);
        // the collector creates a series at its first sample's second - 1
        expect((await pipe.run(['create', file, '--start', String(Math.floor(stamp(i, 0) / 1000) - 1), '--step', String(d.step), ...ds, ...rra])).code).toBe(0);
        for (let r = 0; r < ROUNDS; r += 15) {
          const args = [];
          for (let q = r; q < Math.min(ROUNDS, r + 15); q++) args.push(`${Math.floor(stamp(i, q) / 1000)}:${value(i, k, q)}`);
          expect((await pipe.run(['update', file, ...args])).err).toBe('');
        }
        const series = `chm-${i}/${m.name}`;
        for (const cf of ['AVERAGE', 'MAX']) {
          const want = await pipe.run(['fetch', file, cf, '-s', String(start), '-e', String(end)]);
          expect(want.code).toBe(0);
          const got = await ringtailRrd(['fetch', '--storage', 'clickhouse', '--clickhouse-url', rig.chdb.url, '--clickhouse-database', DATABASE, series, cf, '-s', String(start), '-e', String(end)]);
          expect(got.err).toBe('');
          const px = parseFetch(want.out);
          const py = parseFetch(got.out);
          const what = `${series} ${cf}`;
          expect(py.header, what).toBe(px.header);
          expect(py.rows.map((x) => x.time), what).toEqual(px.rows.map((x) => x.time));
          px.rows.forEach((rx, n) => expect(sameValue(rx.values[0]!, py.rows[n]!.values[0]!), `${what} row ${rx.time}: rrdtool ${rx.values[0]}, ringtail ${py.rows[n]!.values[0]}`).toBe(true));
          rows += px.rows.filter((x) => !Number.isNaN(x.values[0])).length;
        }
      }
    }
    // not a comparison of unknowns: most rows hold values (a DERIVE's falls are unknown, its min being 0)
    expect(rows).toBeGreaterThan(AGENTS * METRICS.length * 2 * (ROUNDS / 2));

    // the binary prints the same as the in-process command
    const args = ['rrd', 'fetch', '--storage', 'clickhouse', '--clickhouse-url', rig.chdb.url, '--clickhouse-database', DATABASE, 'chm-1/load.1', 'AVERAGE', '-s', String(start), '-e', String(end)];
    const bin = await runRingtail(args);
    expect(bin.code, bin.stderr).toBe(0);
    expect(bin.stdout).toBe((await ringtailRrd(args.slice(1))).out);

    // either collector answers the series API alike, whichever consolidated the host
    for (const i of [0, 1, AGENTS - 1]) {
      const q = `/api/v1/series?host=chm-${i}&metric=net.rx_bytes&start=${T0 - 60_000}&end=${T0 + ROUNDS * STEP_MS + 20_000}`;
      const [x, y] = await Promise.all([a, b].map(async (c) => (await fetch(c.url + q, { headers: { authorization: `Bearer ${ADMIN}` } })).json()));
      expect(x).toEqual(y);
      expect((x as { values: unknown[] }).values.length).toBeGreaterThan(ROUNDS);
    }
  });
});
