// The one place that chooses the storage backend (issue 16): the server, the writer thread and
// the CLI commands that open the store all come here, with `--storage sqlite` (the embedded
// default) or `--storage clickhouse`. A backend is a folder of its own under collector/storage/;
// nothing outside it imports its driver.
import { ConfigError } from '../../shared/errors.js';
import { openSqliteStorage } from './sqlite/index.js';
import { refuseNewerData } from './sqlite/upgrade-check.js';
import { openSqliteWriter } from './sqlite/writer.js';
import type { BackendName, Storage, StorageConfig, WriterLogStore } from './types.js';

// The writer thread's batches carry each line's fields as the row the SQLite store writes (its
// JSON and its FTS5 field tokens), made on the event loop when a batch is submitted (ingest/pack.ts).
// Only the SQLite backend has a writer thread; the row's shape is its own, so it comes from here.
export { fieldsRow, type RowReadyLine } from './sqlite/logs.js';
export { numTokens } from './sqlite/num-tokens.js';

interface Backend {
  /** throws ConfigError when the configuration cannot work, before anything is opened */
  check(config: StorageConfig): void;
  open(config: StorageConfig): Storage;
  openWriter(config: StorageConfig): WriterLogStore;
}

function notYet(): never {
  // The schema accepts the backend's options so that deployments can be written against them;
  // the store itself lands with issue 16's ClickHouse work (collector/storage/clickhouse/).
  throw new ConfigError('--storage', 'the ClickHouse backend does not store logs, tokens, sessions, alerts or metric series yet (issue 16); run with --storage sqlite');
}

const BACKENDS: Record<BackendName, Backend> = {
  sqlite: {
    check() {},
    // a newer ringtail's data directory is refused before anything writes to it (docs/upgrades.md);
    // here, not in check(): the server checks the configuration first and opens after, and the
    // files need reading once
    open: (config) => {
      refuseNewerData(config.data);
      return openSqliteStorage(config.data);
    },
    openWriter: (config) => openSqliteWriter(config.data),
  },
  clickhouse: {
    check(config) {
      if (!config.clickhouse?.url) throw new ConfigError('--clickhouse-url', 'required with --storage clickhouse (e.g. http://127.0.0.1:8123)');
      notYet();
    },
    open: notYet,
    openWriter: notYet,
  },
};

/** The storage part of a collector configuration (`storage`, `data`, `clickhouse.*`). */
export function storageConfig(c: { storage?: BackendName; data: string; clickhouse?: { url?: string; database?: string } }): StorageConfig {
  const backend = c.storage ?? 'sqlite';
  if (backend === 'sqlite') return { backend, data: c.data };
  return { backend, data: c.data, clickhouse: { url: c.clickhouse?.url, database: c.clickhouse?.database ?? 'ringtail' } };
}

function backend(config: StorageConfig): Backend {
  const b = BACKENDS[config.backend];
  if (!b) throw new ConfigError('--storage', `unknown backend '${String(config.backend)}' (expected ${Object.keys(BACKENDS).join(' or ')})`);
  return b;
}

/** Throws ConfigError when the backend cannot be opened with this configuration. */
export function checkStorage(config: StorageConfig): void {
  backend(config).check(config);
}

export function openStorage(config: StorageConfig): Storage {
  const b = backend(config);
  b.check(config);
  return b.open(config);
}

/** The writer thread's log store: the same backend as `config`'s, on a connection of its own. */
export function openWriterStore(config: StorageConfig): WriterLogStore {
  const b = backend(config);
  b.check(config);
  return b.openWriter(config);
}
