// The series store contract against the SQLite round-robin store (the embedded default, through
// asyncRrdStore) and against PersistedSeriesStore over memory (the seam's smallest persistence).
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { MemoryPersistence } from '../../collector/rrd/memory-persistence.js';
import { PersistedSeriesStore } from '../../collector/rrd/persistence.js';
import { asyncRrdStore } from '../../collector/rrd/series-store.js';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import { tempDir } from '../helpers/proc.js';
import { seriesContract } from './series.contract.js';

const dirs: Array<{ cleanup(): void }> = [];
afterAll(() => dirs.forEach((d) => d.cleanup()));

seriesContract('sqlite', async () => {
  const dir = tempDir('ringtail-series-');
  dirs.push(dir);
  return asyncRrdStore(openRrdStore(join(dir.path, 'metrics.db'), { create: true }));
});

seriesContract('memory', async () => new PersistedSeriesStore(new MemoryPersistence()));
