// Checks that report a change at once (issue 18, item 1): a pidfile check notices its process's
// death between rounds and the runner ships the new count out of band, through a real collector
// that must accept it (not a duplicate); HTTP and TCP checks send a flipped state in place of the
// round's samples; every stamp is strictly after the previous one.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { httpCheck } from '../../agent/checks/http.js';
import { processCheck } from '../../agent/checks/process.js';
import { MetricShipError } from '../../agent/metrics/ship.js';
import { MetricsRunner } from '../../agent/metrics/runner.js';
import type { MetricSource, Sample } from '../../agent/metrics/types.js';
import { createLogger } from '../../shared/logger.js';
import type { MetricAck, MetricBatch } from '../../shared/wire.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDir, waitFor } from '../helpers/proc.js';

const quiet = createLogger({ write: () => true } as unknown as NodeJS.WritableStream, 'error');

describe('checks that report a change at once', () => {
  let c: TestCollector;
  let dir: { path: string; cleanup(): void };
  const children: ChildProcess[] = [];
  const batches: Array<{ at: number; batch: MetricBatch; ack: MetricAck }> = [];
  let runner: MetricsRunner | null = null;
  beforeEach(async () => {
    c = await testCollector();
    dir = tempDir('ringtail-watch-');
    batches.length = 0;
  });
  afterEach(async () => {
    await runner?.stop();
    runner = null;
    for (const ch of children) ch.kill('SIGKILL');
    await c.close();
    dir.cleanup();
  });

  const send = async (batch: MetricBatch): Promise<MetricAck> => {
    const res = await c.app.inject({ method: 'POST', url: '/api/v1/metrics/ingest', headers: { authorization: `Bearer ${c.token('agent')}` }, payload: batch });
    if (res.statusCode !== 200) throw new MetricShipError(`collector answered ${res.statusCode}: ${res.body}`, res.statusCode === 400);
    const ack = res.json() as MetricAck;
    batches.push({ at: Date.now(), batch, ack });
    return ack;
  };
  const newRunner = (sources: MetricSource[], clock?: () => number) =>
    new MetricsRunner({ collector: 'http://unused', token: 'x', host: 'web-1', agentId: 'agt_w', intervalMs: 10_000, maxQueued: 10_000, sources, log: quiet, send, clock });
  const counts = () =>
    batches.flatMap((b) => b.batch.samples.filter((s) => s.name === 'check.process.count').map((s) => ({ ts: s.ts, value: s.value, at: b.at, dup: b.ack.duplicates })));
  const sleeper = (): ChildProcess => {
    const ch = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(ch);
    return ch;
  };

  it('a pidfile process killed between rounds: count 0 shipped within a second, then the restart, all accepted', async () => {
    const pidfile = join(dir.path, 'app.pid');
    const first = sleeper();
    writeFileSync(pidfile, `${first.pid}\n`);
    runner = newRunner([processCheck({ name: 'app', pidfile, process: 'sleep' })]);
    runner.start();
    await waitFor('the first round', () => counts().length === 1);
    expect(counts()[0]!.value).toBe(1);

    const killedAt = Date.now();
    first.kill('SIGKILL');
    const down = await waitFor('count 0 out of band', () => counts().find((s) => s.value === 0), 5_000);
    // the interval is 10 s: only the watch can have sent it
    // (a poll, at most a second's wait for a fresh stamp, the delivery)
    expect(down.at - killedAt).toBeLessThan(2_000);
    expect(down.ts).toBeGreaterThan(counts()[0]!.ts);

    // restarted under a new pid: the rewritten pidfile is seen within a poll
    const second = sleeper();
    writeFileSync(pidfile + '.tmp', `${second.pid}\n`);
    renameSync(pidfile + '.tmp', pidfile);
    const up = await waitFor('count 1 again', () => counts().find((s) => s.value === 1 && s.ts > down.ts), 5_000);
    expect(up.ts).toBeGreaterThan(down.ts);
    expect(batches.every((b) => b.ack.duplicates === 0)).toBe(true);

  });

  it('a pidfile naming an unrelated process or unreadable: count 0, and no change reported over and over', async () => {
    const pidfile = join(dir.path, 'other.pid');
    const other = sleeper();
    writeFileSync(pidfile, `${other.pid}\n`);
    runner = newRunner([processCheck({ name: 'app', pidfile, process: 'not-sleep', cmdline: 'myapp' }, { pollMs: 20 })]);
    runner.start();
    await waitFor('the first round', () => counts().length === 1);
    expect(counts()[0]!.value).toBe(0);
    writeFileSync(pidfile, 'garbage\n');
    chmodSync(pidfile, 0o000);
    // 25 polls of an unchanging count 0: nothing more is sent
    const until = Date.now() + 500;
    await waitFor('half a second of polls', () => Date.now() >= until, 2_000);
    expect(counts()).toHaveLength(1);
  });

  it('a process restarting a hundred times a second: at most one out-of-band sample per poll', async () => {
    const pidfile = join(dir.path, 'churn.pid');
    runner = newRunner([processCheck({ name: 'churn', pidfile }, { pollMs: 50 })]);
    let stop = false;
    const churn = (async () => {
      while (!stop) {
        const ch = spawn('sleep', ['0.01'], { stdio: 'ignore' });
        writeFileSync(pidfile, `${ch.pid}\n`);
        await new Promise((r) => ch.once('exit', r));
      }
    })();
    runner.start();
    const started = Date.now();
    await waitFor('a second of churn', () => Date.now() - started >= 1_000, 3_000);
    stop = true;
    await churn;
    const elapsed = Date.now() - started;
    // one round plus at most one sample per poll (each poll costs two small reads)
    expect(counts().length).toBeLessThanOrEqual(1 + Math.ceil(elapsed / 50) + 1);
    const ts = counts().map((s) => s.ts);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(new Set(ts).size).toBe(ts.length);
  });

  it('stamps fall in strictly later seconds: a change in a used second waits for the next one', async () => {
    const T = 1_700_000_000_000;
    let now = T;
    let notify: ((s: Sample[]) => void) | null = null;
    const src: MetricSource = { name: 'probe', collect: () => [{ name: 'x', type: 'GAUGE', value: 1 }], watch: (cb) => (notify = cb) };
    const xs = () => batches.flatMap((b) => b.batch.samples).filter((s) => s.name === 'x');
    runner = newRunner([src], () => now);
    runner.start();
    await waitFor('the first round', () => xs().length === 1);
    now = T + 1_500;
    notify!([{ name: 'x', type: 'GAUGE', value: 2 }]);
    now = T + 1_700;
    await runner.tick(); // same second as the change: stamped at the next one
    now = T + 2_100;
    notify!([{ name: 'x', type: 'GAUGE', value: 3 }]); // second T+2 is taken: held
    notify!([{ name: 'x', type: 'GAUGE', value: 4 }]); // the newest change wins
    await waitFor('the round', () => xs().length === 3);
    expect(xs()).toHaveLength(3);
    now = T + 3_000;
    await waitFor('the held change', () => xs().length === 4);
    expect(xs().map((s) => s.ts)).toEqual([T, T + 1_500, T + 2_000, T + 3_000]);
    expect(xs().map((s) => s.value)).toEqual([1, 2, 1, 4]);
    expect(batches.every((b) => b.ack.duplicates === 0)).toBe(true);
  });

  it('an HTTP check that flips is sent out of band in place of the round, later than the round stamp', async () => {
    let status = 200;
    const srv: Server = createServer((_req, res) => res.writeHead(status).end('x'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/`;
      runner = newRunner([httpCheck({ name: 'web', url })]);
      runner.start();
      await waitFor('the first round', () => batches.length >= 1);
      status = 500;
      const round = await runner.tick();
      expect(round.filter((s) => s.name === 'check.http.up')).toEqual([]);
      const ups = await waitFor('up 0 out of band', () => {
        const all = batches.flatMap((b) => b.batch.samples).filter((s) => s.name === 'check.http.up');
        return all.length === 2 && all;
      });
      expect(ups.map((s) => s.value)).toEqual([1, 0]);
      expect(ups[1]!.ts).toBeGreaterThan(round[0]!.ts);
      // unchanged afterwards: back in the rounds
      const again = await runner.tick();
      expect(again.filter((s) => s.name === 'check.http.up').map((s) => s.value)).toEqual([0]);
    } finally {
      srv.close();
    }
  });

  it('checks.report_changes: false: no source is watched, a change waits for the next round', async () => {
    const watched: string[] = [];
    const source = (name: string): MetricSource => ({ name, collect: async () => [], watch: () => void watched.push(name) });
    const off = new MetricsRunner({ collector: 'http://unused', token: 'x', host: 'web-1', agentId: 'agt_w', intervalMs: 10_000, maxQueued: 10_000, sources: [source('off')], reportChanges: false, log: quiet, send });
    runner = new MetricsRunner({ collector: 'http://unused', token: 'x', host: 'web-1', agentId: 'agt_w', intervalMs: 10_000, maxQueued: 10_000, sources: [source('on')], log: quiet, send });
    off.start();
    runner.start();
    await off.stop();
    expect(watched).toEqual(['on']);
  });
});
