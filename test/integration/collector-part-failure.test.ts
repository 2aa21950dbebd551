// A storage thread that ends on its own (an abort, a native fault) is a failure of the collector
// said once, on /healthz and to the server entry (collector/health.ts), not a collector that
// stays up refusing every write. A thread ended by close() is not one.
// (Uses the built dist/ worker scripts; `npm test` builds first.)
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { workerCommitter } from '../../collector/ingest/commit.js';
import { ThreadedRrdStore } from '../../collector/metrics/store-thread.js';
import { storageConfig } from '../../collector/storage/factory.js';
import { testCollector, type TestCollector } from '../helpers/collector.js';
import { tempDirs, waitFor } from '../helpers/proc.js';

const line = (message: string) => ({
  batch: { version: 1 as const, agent_id: 'agt_fail', host: 'fail', segments: [{ stream: 's', source: '/var/log/f.log', start: 0, end: message.length + 1, lines: [{ offset: 0, ts: Date.now(), severity: 6, message }] }] },
  receivedAt: Date.now(),
});

describe('a storage thread that ends on its own', () => {
  const dirs = tempDirs();
  const temp = () => dirs.make();
  let collector: TestCollector | null = null;
  afterEach(async () => {
    await collector?.close();
    collector = null;
    dirs.cleanup();
  });

  it('the log writer thread: said once, and its commits refused instead of waiting', async () => {
    const failures: Error[] = [];
    const writer = workerCommitter(storageConfig({ data: temp() }), (e) => failures.push(e));
    expect((await writer.commit([line('before')])).acks[0]!.accepted).toBe(1);
    await writer.crash();
    await waitFor('the failure said', () => failures.length === 1);
    expect(failures[0]!.message).toMatch(/writer thread exited/);
    await expect(writer.commit([line('after')])).rejects.toThrow(/writer thread exited/);
    expect(failures).toHaveLength(1);
    await writer.close();
  });

  it('the log writer thread closed by the collector is not a failure', async () => {
    const failures: Error[] = [];
    const writer = workerCommitter(storageConfig({ data: temp() }), (e) => failures.push(e));
    expect((await writer.commit([line('stored')])).acks[0]!.accepted).toBe(1);
    await writer.close();
    // the thread's exit event comes after close() resolved; give it the turns it needs
    await new Promise((r) => setImmediate(r));
    expect(failures).toEqual([]);
  });

  it('the metric store thread: said once when it ends before close(), not after', async () => {
    const dir = temp();
    const failures: Error[] = [];
    const store = await ThreadedRrdStore.open(join(dir, 'a.db'), { create: true }, (e) => failures.push(e));
    await store.crash();
    await waitFor('the failure said', () => failures.length === 1);
    expect(failures[0]!.message).toMatch(/metric store thread exited/);
    const closedFailures: Error[] = [];
    const other = await ThreadedRrdStore.open(join(dir, 'b.db'), { create: true }, (e) => closedFailures.push(e));
    await other.closeAsync();
    await new Promise((r) => setImmediate(r));
    expect(closedFailures).toEqual([]);
  });

  it('/healthz answers 503 naming the failed part, and the failure is one event', async () => {
    collector = await testCollector();
    const { app } = collector;
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    app.health.fail('log writer thread', new Error('writer thread exited (code 1)'));
    app.health.fail('log writer thread', new Error('again'));
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'failing', failed: [{ part: 'log writer thread', error: 'writer thread exited (code 1)' }] });
    expect(app.events.count('collector.part_failed')).toBe(1);
    await expect(app.health.untilFailure()).resolves.toMatchObject({ part: 'log writer thread' });
  });
});
