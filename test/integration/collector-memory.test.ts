// The collector's memory bounds (collector/memory.ts, issue 17): the writer thread's SQLite
// page cache is the configured size, from the configuration through the storage to the thread's
// connection, and the store threads run with the young generation they were given, not V8's.
// (Uses the built dist/ worker scripts; `npm test` builds first.)
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECKPOINTER_THREAD_LIMITS, residentMemory, STORE_THREAD_LIMITS } from '../../collector/memory.js';
import { workerCommitter } from '../../collector/ingest/commit.js';
import { ThreadedRrdStore } from '../../collector/metrics/store-thread.js';
import { openStorage, storageConfig } from '../../collector/storage/factory.js';
import { DEFAULT_WRITER_CACHE_MB, openSqliteWriter } from '../../collector/storage/sqlite/writer.js';
import { tempDirs } from '../helpers/proc.js';

describe('collector memory bounds', () => {
  const dirs = tempDirs();
  const temp = () => dirs.make();
  afterEach(() => {
    dirs.cleanup();
  });

  it("the writer connection's cache_size is memory.writer_cache_mb, and the default without it", () => {
    const dir = temp();
    const given = openSqliteWriter(dir, { cacheMb: 24 });
    expect(given.cacheKb()).toBe(24 * 1024);
    given.close();
    const plain = openSqliteWriter(dir);
    expect(plain.cacheKb()).toBe(DEFAULT_WRITER_CACHE_MB * 1024);
    expect(DEFAULT_WRITER_CACHE_MB).toBeLessThan(64);
    plain.close();
  });

  it('memory.writer_cache_mb reaches the storage config the writer thread opens its connection from', () => {
    const dir = temp();
    const storage = openStorage(storageConfig({ data: dir, memory: { writer_cache_mb: 24 } }));
    try {
      expect(storage.config.writerCacheMb).toBe(24);
    } finally {
      storage.close();
    }
  });

  it('the writer thread and the metric store thread run with their young-generation limit', async () => {
    const dir = temp();
    const writer = workerCommitter(storageConfig({ data: dir }));
    const store = await ThreadedRrdStore.open(join(dir, 'metrics.db'), { create: true });
    try {
      // Worker#resourceLimits: what the running thread's isolate was configured with
      for (const limits of [writer.resourceLimits, store.resourceLimits]) {
        expect(limits?.maxYoungGenerationSizeMb).toBe(STORE_THREAD_LIMITS.maxYoungGenerationSizeMb);
        expect(limits?.maxYoungGenerationSizeMb ?? Infinity).toBeLessThan(48); // V8's own: 3 × 16 MB semi-spaces
      }
      expect(CHECKPOINTER_THREAD_LIMITS.maxYoungGenerationSizeMb).toBeLessThanOrEqual(STORE_THREAD_LIMITS.maxYoungGenerationSizeMb!);
      // the thread still stores: a commit on it answers
      const { acks } = await writer.commit([{ batch: { version: 1, agent_id: 'agt_mem', host: 'mem', segments: [{ stream: 's', source: '/var/log/m.log', start: 0, end: 2, lines: [{ offset: 0, ts: Date.now(), severity: 6, message: 'bounded' }] }] }, receivedAt: Date.now() }]);
      expect(acks[0]!.accepted).toBe(1);
    } finally {
      await writer.close();
      await store.closeAsync();
    }
  });

  it('reads the resident memory by kind from smaps_rollup, and nothing from a file without its fields', () => {
    const text = 'Rss:              300000 kB\nPss:             290000 kB\nAnonymous:        250000 kB\nSwap:                  0 kB\n';
    expect(residentMemory(text)).toEqual({ anonymous: 250000 * 1024, file: 50000 * 1024 });
    expect(residentMemory('Rss: 12 kB\n')).toBeNull();
    const own = residentMemory();
    expect(own && own.anonymous + own.file).toBeGreaterThan(0);
  });
});
