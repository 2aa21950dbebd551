// The agent's retries against a collector that refuses (503, 429) or is not there, while a
// writer keeps appending lines (issue 12, item 3). Every sealed batch used to wake the shipper,
// and the wake ended the backoff sleep: 108 attempts in 30 s, some 205 ms apart. The real Agent
// runs in this process against a stand-in collector on 127.0.0.1 that records when each attempt
// arrives; the backoff's jitter is injected (`random`) so that the expected waits are exact.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { AgentConfig } from '../../agent/config.js';
import { createMetricsRunner } from '../../agent/metrics/index.js';
import { createLogger } from '../../shared/logger.js';
import { INGEST_MULTI_TYPE, INGEST_PATH, METRICS_INGEST_PATH, type IngestBatch } from '../../shared/wire.js';
import { freePort } from '../helpers/agent-run.js';
import { tempDir, waitFor } from '../helpers/proc.js';

const quiet = createLogger({ write: () => true } as unknown as NodeJS.WritableStream, 'error');

type Answer = (res: ServerResponse) => void;
const refuse =
  (status: number, headers: Record<string, string> | (() => Record<string, string>) = {}): Answer =>
  (res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...(typeof headers === 'function' ? headers() : headers) });
    res.end(JSON.stringify({ error: { code: 'RINGTAIL_ERR_UNAVAILABLE', message: 'disk full' } }));
  };

/** A collector stand-in: every ingest attempt is timed; `answer` decides the reply, `accept` stores the lines. */
class StandIn {
  readonly attempts: number[] = [];
  readonly metricAttempts: number[] = [];
  readonly stored: string[] = [];
  answer: Answer | 'accept' = refuse(503);
  private server: Server | null = null;
  url = '';

  async listen(port = 0): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    const addr = this.server.address();
    this.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url === METRICS_INGEST_PATH) {
        this.metricAttempts.push(performance.now());
        if (this.answer !== 'accept') return this.answer(res);
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ accepted: 1, duplicates: 0, created: 0 }));
      }
      if (req.url !== INGEST_PATH) return refuse(404)(res);
      this.attempts.push(performance.now());
      if (this.answer !== 'accept') return this.answer(res);
      const raw = Buffer.concat(chunks);
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString();
      const batches = text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as IngestBatch);
      const acks = batches.map((b) => {
        const lines = b.segments.flatMap((s) => s.lines.map((l) => l.message));
        this.stored.push(...lines);
        return { accepted: lines.length, duplicates: 0, committed: Object.fromEntries(b.segments.map((s) => [s.stream, s.end])) };
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(req.headers['content-type'] === INGEST_MULTI_TYPE ? acks : acks[0]));
    });
  }

  async close(): Promise<void> {
    const closed = new Promise((r) => this.server?.close(r));
    this.server?.closeAllConnections();
    await closed;
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real Agent following one file that a writer appends to every 20 ms (each line a batch of its own). */
async function agentWithWriter(collector: string, backoffMaxMs: number, random: () => number) {
  const dir = tempDir('ringtail-backoff-');
  const file = join(dir.path, 'app.log');
  writeFileSync(file, '');
  const config = Value.Default(AgentConfig, {
    collector,
    token: 'rt_agent_backoff_token',
    watch: [file],
    state: join(dir.path, 'state'),
    host: 'backoff-1',
    scan_interval_ms: 100,
    batch: { linger_ms: 0 },
    transport: { backoff_max_ms: backoffMaxMs, timeout_ms: 5000 },
  }) as AgentConfig;
  const agent = new Agent(config, { log: quiet, random });
  await agent.start();
  const written: string[] = [];
  const writer = setInterval(() => {
    const line = `line ${written.length}`;
    appendFileSync(file, line + '\n');
    written.push(line);
  }, 20);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    clearInterval(writer);
    await agent.stop();
  };
  cleanups.push(() => dir.cleanup(), stop);
  return { agent, file, written, stopWriter: () => clearInterval(writer), stop };
}

/** Waits out `windowMs` of attempts after the first (the measuring window), then gives their gaps. */
async function window(times: number[], windowMs: number): Promise<number[]> {
  await waitFor('a first attempt', () => times.length > 0, 10_000);
  await waitFor(`the ${windowMs} ms window`, () => performance.now() - times[0]! >= windowMs, windowMs + 5_000, 50);
  const inWindow = times.filter((t) => t - times[0]! <= windowMs);
  return inWindow.slice(1).map((t, i) => t - inWindow[i]!);
}

/** Timers may fire a millisecond early; a request's own latency only adds to a gap. */
const atLeast = (gap: number, ms: number, slack = 5) => expect(gap, `gap of ${Math.round(gap)} ms, wanted ${ms}`).toBeGreaterThanOrEqual(ms - slack);

describe('agent retry backoff while lines keep arriving', () => {
  it.each([503, 429])('a collector answering %i without Retry-After: attempts follow the exponential backoff, not the writer', async (status) => {
    const col = new StandIn();
    col.answer = refuse(status);
    await col.listen();
    cleanups.push(() => col.close());
    // random = 1: the full wait of each step, 500 ms then the 1,000 ms cap
    const run = await agentWithWriter(col.url, 1000, () => 1);
    const gaps = await window(col.attempts, 3000);
    // ~150 batches were sealed in the window; attempts at 0, 0.5, 1.5, 2.5 s
    expect(run.written.length).toBeGreaterThan(50);
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    expect(gaps.length).toBeLessThanOrEqual(3);
    gaps.forEach((g, i) => atLeast(g, Math.min(1000, 500 * 2 ** i)));

    // The collector recovers: delivery resumes within one backoff and nothing written is lost.
    run.stopWriter();
    col.answer = 'accept';
    await waitFor('every written line stored', () => run.written.every((l) => col.stored.includes(l)), 10_000, 50);
    expect(new Set(col.stored).size).toBe(run.written.length);
    expect(run.agent.events.count('ship.recovered')).toBe(1);
  });

  it('Retry-After in seconds lengthens the short waits and never shortens the long ones', async () => {
    const col = new StandIn();
    col.answer = refuse(503, { 'retry-after': '1' });
    await col.listen();
    cleanups.push(() => col.close());
    // random = 0: the drawn waits are 250, 500, 1000, 2000, 2500 ms; Retry-After: 1 makes them
    // 1000, 1000, 1000, 2000, 2500: attempts at 0, 1, 2, 3, 5 and 7.5 s
    await agentWithWriter(col.url, 5000, () => 0);
    const gaps = await window(col.attempts, 6000);
    expect(gaps.length).toBeGreaterThanOrEqual(4);
    expect(gaps.length).toBeLessThanOrEqual(5);
    gaps.forEach((g, i) => atLeast(g, Math.max(1000, 250 * 2 ** i)));
  });

  it('Retry-After as an HTTP date is honoured', async () => {
    const col = new StandIn();
    // three seconds ahead, at the header's one-second resolution: a wait of 2 to 3 s
    col.answer = refuse(503, () => ({ 'retry-after': new Date(Date.now() + 3000).toUTCString() }));
    await col.listen();
    cleanups.push(() => col.close());
    await agentWithWriter(col.url, 10_000, () => 0);
    const gaps = await window(col.attempts, 4500);
    expect(gaps.length).toBeGreaterThanOrEqual(1);
    expect(gaps.length).toBeLessThanOrEqual(2);
    for (const g of gaps) atLeast(g, 2000, 15);
  });

  it('a Retry-After beyond transport.backoff_max_ms waits the cap, not an hour', async () => {
    const col = new StandIn();
    col.answer = refuse(503, { 'retry-after': '3600' });
    await col.listen();
    cleanups.push(() => col.close());
    // attempts at 0, 1.5, 3 and 4.5 s
    await agentWithWriter(col.url, 1500, () => 0);
    const gaps = await window(col.attempts, 3900);
    expect(gaps).toHaveLength(2);
    for (const g of gaps) {
      atLeast(g, 1500);
      expect(g).toBeLessThan(3000);
    }
  });

  it('an unreachable collector: failures follow the backoff too', async () => {
    const port = await freePort();
    const run = await agentWithWriter(`http://127.0.0.1:${port}`, 1000, () => 1);
    const failures: number[] = [];
    run.agent.events.on((name) => {
      if (name === 'ship.failed') failures.push(performance.now());
    });
    const gaps = await window(failures, 3000);
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    expect(gaps.length).toBeLessThanOrEqual(3);
    // the first failure seen here may be any attempt: the waits from then on are at least 500 ms
    for (const g of gaps) atLeast(g, 500);

    // and once a collector listens there, everything arrives
    const col = new StandIn();
    col.answer = 'accept';
    await col.listen(port);
    cleanups.push(() => col.close());
    run.stopWriter();
    await waitFor('every written line stored', () => run.written.every((l) => col.stored.includes(l)), 10_000, 50);
    expect(new Set(col.stored).size).toBe(run.written.length);
  });

  it('on the happy path a new line still leaves at once (the shipper is woken, not polling)', async () => {
    const col = new StandIn();
    col.answer = 'accept';
    await col.listen();
    cleanups.push(() => col.close());
    const run = await agentWithWriter(col.url, 1000, () => 1);
    await waitFor('a few lines written', () => run.written.length >= 3, 5000, 10);
    run.stopWriter();
    await waitFor('the first lines stored', () => run.written.every((l) => col.stored.includes(l)), 10_000, 10);
    // the idle shipper polls the spool once a second; woken by each new batch, a line takes the
    // reader's notice (scan_interval_ms 100 at worst) and one request
    const latencies: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = col.stored.length;
      const t0 = performance.now();
      const line = `late ${i}`;
      appendFileSync(run.file, line + '\n');
      await waitFor(`'${line}' stored`, () => col.stored.length > before && col.stored.includes(line), 5000, 5);
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);
    expect(latencies[2], `latencies ${latencies.map(Math.round).join(', ')} ms`).toBeLessThan(700);
  });
});

describe('metrics runner retry backoff while rounds keep coming', () => {
  it('a refusing collector: new samples do not cut the backoff short; transport.backoff_max_ms is its cap', async () => {
    const col = new StandIn();
    col.answer = refuse(503);
    await col.listen();
    cleanups.push(() => col.close());
    const dir = tempDir('ringtail-mbackoff-');
    cleanups.push(() => dir.cleanup());
    const config = Value.Default(AgentConfig, {
      collector: col.url,
      token: 'rt_agent_backoff_token',
      state: join(dir.path, 'state'),
      metrics: { interval_ms: 3_600_000, families: [] },
      transport: { backoff_max_ms: 1000 },
    }) as AgentConfig;
    const runner = createMetricsRunner(config, { log: quiet, agentId: 'agt_backoff', random: () => 1 })!;
    runner.start();
    // a round every 20 ms instead of every hour: each one queues samples and used to wake the shipper
    const rounds = setInterval(() => void runner.tick(), 20);
    cleanups.push(async () => {
      clearInterval(rounds);
      await runner.stop();
    });
    const gaps = await window(col.metricAttempts, 3000);
    expect(runner.events.count('metrics.sampled')).toBeGreaterThan(50);
    // the cap is 1,000 ms (the default would be 30 s): attempts at 0, 0.5, 1.5, 2.5 s
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    expect(gaps.length).toBeLessThanOrEqual(3);
    gaps.forEach((g, i) => atLeast(g, Math.min(1000, 500 * 2 ** i)));
    clearInterval(rounds);
    col.answer = 'accept';
    await waitFor('the queue delivered', () => runner.queued === 0, 5000, 20);
  });
});
