// Inline writer vs writer thread, side by side in one process and run: the same ingest rate
// through buildApp + inject (no network, so only the commit path differs), while a reader
// searches. Measures event-loop delay (what every other request waits for), ingest and query
// latency. This is the measurement behind the server's choice of the writer thread.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from '../../collector/app.js';
import { genBatch, hostName, rng } from './loglines.js';
import { pct, table } from './stats.js';

export async function writerBench(dir: string, seconds: number, batchesPerSecond: number, linesPerBatch: number): Promise<void> {
  const rows: string[][] = [];
  for (const writer of ['inline', 'worker'] as const) {
    const data = join(dir, `writer-${writer}`);
    rmSync(data, { recursive: true, force: true });
    const app = await buildApp({ dataDir: data, writer });
    await app.ready();
    const agentToken = (await app.storage.tokens.create('agent', 'bench', Date.now())).token;
    const viewer = (await app.storage.tokens.create('viewer', 'bench', Date.now())).token;
    const r = rng(3);
    const offsets = new Map<number, number>();
    const ingestMs: number[] = [];
    const queryMs: number[] = [];
    const pending: Array<Promise<unknown>> = [];
    const h = monitorEventLoopDelay({ resolution: 5 });
    h.enable();
    const deadline = Date.now() + seconds * 1000;
    const tickMs = 10;
    const perTick = (batchesPerSecond * tickMs) / 1000;
    let carry = 0;
    let sent = 0;
    const timer = setInterval(() => {
      carry += perTick;
      for (; carry >= 1; carry--) {
        const a = sent++ % 1000;
        const { batch, end } = genBatch(r, hostName(a), `w-${a}`, offsets.get(a) ?? 0, linesPerBatch, Date.now(), 1);
        batch.agent_id = `agt_w_${a}`;
        offsets.set(a, end);
        const t = performance.now();
        pending.push(
          app
            .inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${agentToken}`, 'content-type': 'application/json' }, payload: JSON.stringify(batch) })
            .then((res) => {
              if (res.statusCode !== 200) throw new Error(res.body);
              ingestMs.push(performance.now() - t);
            }),
        );
      }
    }, tickMs);
    const words = ['deadlock', 'timeout', 'publickey', 'snapshot'];
    let k = 0;
    while (Date.now() < deadline) {
      const t = performance.now();
      const res = await app.inject({ method: 'GET', url: `/api/v1/logs?limit=100&q=${words[k++ % words.length]}`, headers: { authorization: `Bearer ${viewer}` } });
      if (res.statusCode === 200) queryMs.push(performance.now() - t);
      await new Promise((res) => setTimeout(res, 50));
    }
    clearInterval(timer);
    await Promise.all(pending);
    h.disable();
    await app.close();
    rows.push([
      writer,
      `${((sent * linesPerBatch) / seconds).toFixed(0)}`,
      `${pct(ingestMs, 50).toFixed(1)} / ${pct(ingestMs, 99).toFixed(1)}`,
      `${pct(queryMs, 50).toFixed(1)} / ${pct(queryMs, 99).toFixed(1)}`,
      `${(h.percentile(50) / 1e6).toFixed(1)} / ${(h.percentile(99) / 1e6).toFixed(1)} / ${(h.max / 1e6).toFixed(1)}`,
    ]);
  }
  process.stdout.write(table(['writer', 'lines/s offered', 'ingest p50 / p99 ms', 'search during ingest p50 / p99 ms', 'event-loop delay p50 / p99 / max ms'], rows) + '\n');
}
