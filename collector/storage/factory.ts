// The one place that chooses the storage backend (issue 16): the server, the writer thread and
// the CLI commands that open the store all come here, with `--storage sqlite` (the embedded
// default) or `--storage clickhouse`. A backend is a folder of its own under collector/storage/;
// nothing outside it imports its driver.
import { ConfigError } from '../../shared/errors.js';
import { layoutOf } from './clickhouse/layout.js';
import { openSqliteStorage } from './sqlite/index.js';
import { refuseNewerData } from './sqlite/upgrade-check.js';
import { openSqliteWriter } from './sqlite/writer.js';
import type { SharedSeriesStore } from '../rrd/series-store.js';
import type { BackendName, HostStateStore, Storage, StorageConfig, TokenStore, WriterLogStore } from './types.js';

// The writer thread's batches carry each line's fields as the row the SQLite store writes (its
// JSON and its FTS5 field tokens), made on the event loop when a batch is submitted (ingest/pack.ts).
// Only the SQLite backend has a writer thread; the row's shape is its own, so it comes from here.
export { fieldsRow, type RowReadyLine } from './sqlite/fields-row.js';
export { numTokens } from './sqlite/num-tokens.js';
export { packBatch, packItems, packSegment, restreamPacked, unpackItems, unpackSegment, type PackedBatch, type PackedItem, type PackedSegment } from './sqlite/packed.js';

interface Backend {
  /** throws ConfigError when the configuration cannot work, before anything is opened */
  check(config: StorageConfig): void;
  /** opens the store; a networked backend answers asynchronously (openStorageAsync) */
  open(config: StorageConfig): Storage | Promise<Storage>;
  openWriter(config: StorageConfig): WriterLogStore;
}

/**
 * What each backend keeps where, for the startup log and docs/scale-out.md. With `--storage
 * clickhouse` the log lines (and the hosts they name), metric series, API tokens (with enrollment
 * and bindings), dashboard sessions, alert rules/state/history/outbox and host lifecycle states
 * are in ClickHouse, shared by every collector on it.
 */
export function storagePlaces(config: StorageConfig): { shared: string[]; local: string[] } {
  if (config.backend === 'clickhouse') return { shared: ['logs', 'metrics', 'tokens', 'sessions', 'alerts', 'host states'], local: [] };
  return { shared: [], local: ['logs', 'metrics', 'alerts', 'sessions', 'tokens', 'host states'] };
}

const BACKENDS: Record<BackendName, Backend> = {
  sqlite: {
    check() {},
    // a newer ringtail's data directory is refused before anything writes to it (docs/upgrades.md);
    // here, not in check(): the server checks the configuration first and opens after, and the
    // files need reading once
    open: (config) => {
      refuseNewerData(config.data);
      // with the whole config, which the writer thread opens its connection from (its cache size)
      return { ...openSqliteStorage(config.data), config };
    },
    openWriter: (config) => openSqliteWriter(config.data, { cacheMb: config.writerCacheMb }),
  },
  clickhouse: {
    check(config) {
      if (!config.clickhouse?.url) throw new ConfigError('--clickhouse-url', 'required with --storage clickhouse (e.g. http://127.0.0.1:8123)');
      // a bad cluster name or path is refused at start, before anything is opened
      layoutOf(config.clickhouse, config.clickhouse.database);
    },
    // Log lines, tokens, sessions, alerts and host states go to ClickHouse (shared by every collector
    // on it); the rest stays in the local SQLite store (storagePlaces), opened as with --storage sqlite.
    async open(config) {
      refuseNewerData(config.data);
      // ClickHouse first: a collector that cannot reach it starts nothing and writes nothing in --data
      // (loaded only here: a SQLite collector never loads the ClickHouse client)
      const { openClickHouseLogStore, openClickHouseAuth } = await import('./clickhouse/index.js');
      const ch = chOptions(config);
      const logs = await openClickHouseLogStore(ch);
      let auth: Awaited<ReturnType<typeof openClickHouseAuth>>;
      let local: Storage;
      try {
        auth = await openClickHouseAuth(ch);
      } catch (err) {
        await logs.close();
        throw err;
      }
      try {
        local = openSqliteStorage(config.data);
      } catch (err) {
        await Promise.all([logs.close(), auth.close()]);
        throw err;
      }
      // alert state, history, rules, silences and outbox are shared too: one collector evaluates,
      // the others stand by and take over from them (collector/alerts/leader.ts)
      const { openClickHouseAlertStore } = await import('./clickhouse/alerts.js');
      // host lifecycle too: every collector lists every host, one decides transitions (collector/hosts/)
      const { openClickHouseHostStore } = await import('./clickhouse/hosts.js');
      let hostStates: Awaited<ReturnType<typeof openClickHouseHostStore>>;
      try {
        hostStates = await openClickHouseHostStore(ch);
      } catch (err) {
        await Promise.all([logs.close(), auth.close()]);
        local.close();
        throw err;
      }
      return {
        ...local,
        config,
        logs,
        hostStates,
        tokens: auth.tokens,
        openSessions: auth.openSessions,
        openAlerts: () => openClickHouseAlertStore(ch),
        openSeries: () => openSeriesStore(config),
        close() {
          void logs.close();
          void auth.close();
          void hostStates.close();
          local.close();
        },
      };
    },
    // ClickHouse inserts wait on the network, not on the event loop: no writer thread (the
    // server commits inline through the asynchronous store)
    openWriter() {
      throw new ConfigError('--storage', 'the ClickHouse backend has no writer thread: commit through the storage (inline writer)');
    },
  },
};

/**
 * The metric series on ClickHouse (--storage clickhouse), on a connection of their own: the
 * collector's (Storage.openSeries) and `ringtail rrd … --storage clickhouse`'s.
 */
export async function openSeriesStore(config: StorageConfig): Promise<SharedSeriesStore> {
  backend(config).check(config);
  if (config.backend !== 'clickhouse') throw new ConfigError('--storage', `the ${config.backend} backend's series are in the data directory (metrics.db), not behind a shared store`);
  const { openClickHouseSeriesStore } = await import('./clickhouse/metrics-store.js');
  return openClickHouseSeriesStore(chOptions(config));
}

/** what the ClickHouse stores open with: the server, the database and where the tables live */
function chOptions(config: StorageConfig): { url: string; database: string; cluster?: string; zookeeperPath?: string } {
  const c = config.clickhouse!;
  return { url: c.url!, database: c.database, ...(c.cluster !== undefined ? { cluster: c.cluster, zookeeperPath: c.zookeeperPath } : {}) };
}

/** The storage part of a collector configuration (`storage`, `data`, `clickhouse.*`). */
export function storageConfig(c: {
  storage?: BackendName;
  data: string;
  clickhouse?: { url?: string; database?: string; cluster?: string; zookeeper_path?: string };
  memory?: { writer_cache_mb?: number };
}): StorageConfig {
  const backend = c.storage ?? 'sqlite';
  const cache = c.memory?.writer_cache_mb;
  if (backend === 'sqlite') return { backend, data: c.data, ...(cache !== undefined ? { writerCacheMb: cache } : {}) };
  const cluster = c.clickhouse?.cluster !== undefined ? { cluster: c.clickhouse.cluster, zookeeperPath: c.clickhouse.zookeeper_path } : {};
  return { backend, data: c.data, clickhouse: { url: c.clickhouse?.url, database: c.clickhouse?.database ?? 'ringtail', ...cluster } };
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

/** Opens a store that answers synchronously when opened (SQLite: the CLI commands). */
export function openStorage(config: StorageConfig): Storage {
  const b = backend(config);
  b.check(config);
  if (config.backend !== 'sqlite') throw new ConfigError('--storage', `the ${config.backend} backend is opened by the collector (openStorageAsync), not here`);
  return b.open(config) as Storage;
}

/** Opens any backend (the collector): a networked one connects and checks its schema first. */
export async function openStorageAsync(config: StorageConfig): Promise<Storage> {
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

/**
 * The token store alone (`ringtail token`): on ClickHouse the shared one, without opening the
 * log tables or anything in --data; on SQLite the data directory's store.
 */
/**
 * The host lifecycle store several collectors share (ClickHouse), on a connection of its own:
 * `ringtail hosts … --storage clickhouse`. The SQLite one is the data directory's (openStorage).
 */
export async function openSharedHostStore(config: StorageConfig): Promise<HostStateStore & { close(): Promise<void> }> {
  backend(config).check(config);
  if (config.backend !== 'clickhouse') throw new ConfigError('--storage', `the ${config.backend} backend's host states are in the data directory, not behind a shared store`);
  const { openClickHouseHostStore } = await import('./clickhouse/hosts.js');
  return openClickHouseHostStore(chOptions(config));
}

export async function openTokenStore(config: StorageConfig): Promise<{ tokens: TokenStore; close(): Promise<void> }> {
  const b = backend(config);
  b.check(config);
  if (config.backend === 'clickhouse') {
    const { openClickHouseAuth } = await import('./clickhouse/index.js');
    return openClickHouseAuth(chOptions(config));
  }
  const storage = openStorage(config);
  return { tokens: storage.tokens, close: async () => storage.close() };
}
