// `ringtail rrd … --storage clickhouse --clickhouse-url URL [--clickhouse-database DB]
// [--clickhouse-cluster NAME [--clickhouse-zookeeper-path PREFIX]]`: the
// same commands on the series the collectors keep in ClickHouse, with the same output. FILE
// names the series (`host/metric`; a `PATH#SERIES` form takes SERIES). Writes (create, update)
// take the series' host lease as a collector does, so they are refused (503's message) while a
// collector consolidates that host; restore is SQLite's alone.
import { RrdError } from '../../collector/rrd/errors.js';
import { formatDump, formatFetch, formatInfo } from '../../collector/rrd/format.js';
import type { SeriesStore } from '../../collector/rrd/series-store.js';
import { checkStorage, openSeriesStore, storageConfig } from '../../collector/storage/factory.js';
import type { StorageConfig } from '../../collector/storage/types.js';
import type { Io } from '../command.js';
import { createArgs, fetchArgs, getopt, updateError } from './rrd-getopt.js';

/** The storage options out of the arguments; null for the SQLite default (FILE is a store's path). */
export function sharedStorage(argv: string[]): { config: StorageConfig; rest: string[] } | null {
  const picked = new Map<string, string>();
  const left: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(storage|clickhouse-url|clickhouse-database|clickhouse-cluster|clickhouse-zookeeper-path)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) {
      left.push(argv[i]!);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new RrdError(`option '--${m[1]}' requires an argument`);
    picked.set(m[1]!, value);
  }
  const backend = picked.get('storage') ?? 'sqlite';
  if (backend !== 'sqlite' && backend !== 'clickhouse') throw new RrdError(`--storage: unknown backend '${backend}' (expected sqlite or clickhouse)`);
  if (backend === 'sqlite') {
    const stray = [...picked.keys()].find((k) => k.startsWith('clickhouse-'));
    if (stray) throw new RrdError(`--${stray} goes with --storage clickhouse`);
    return null;
  }
  if (picked.has('clickhouse-zookeeper-path') && !picked.has('clickhouse-cluster')) throw new RrdError('--clickhouse-zookeeper-path goes with --clickhouse-cluster');
  const config = storageConfig({
    storage: 'clickhouse',
    data: '',
    clickhouse: { url: picked.get('clickhouse-url'), database: picked.get('clickhouse-database'), cluster: picked.get('clickhouse-cluster'), zookeeper_path: picked.get('clickhouse-zookeeper-path') },
  });
  // a bad cluster name or path: the collector's own check and message (RINGTAIL_ERR_CONFIG)
  checkStorage(config);
  return { config, rest: left };
}

const seriesOf = (file: string): string => {
  const hash = file.lastIndexOf('#');
  return hash >= 0 && hash < file.length - 1 ? file.slice(hash + 1) : file;
};

async function command(sub: string, argv: string[], store: SeriesStore, io: Io): Promise<number> {
  switch (sub) {
    case 'create': {
      const { file, def, start, overwrite } = createArgs(argv);
      try {
        await store.create(seriesOf(file), def, { start, overwrite });
      } catch (err) {
        if (err instanceof RrdError && /File exists$/.test(err.message)) throw new RrdError(`creating '${file}': File exists`);
        throw err;
      }
      return 0;
    }
    case 'update': {
      const [file, ...args] = getopt(argv, {}).rest;
      if (!file || args.length === 0) throw new RrdError('Not enough arguments');
      try {
        await store.update(seriesOf(file), args);
      } catch (err) {
        throw updateError(file, err);
      }
      return 0;
    }
    case 'fetch': {
      const { file, cf, start, end, resolution } = fetchArgs(argv);
      io.out.write(formatFetch(await store.fetch(seriesOf(file), cf, { start, end, resolution })));
      return 0;
    }
    case 'info':
    case 'dump':
    case 'list': {
      const [file] = getopt(argv, {}).rest;
      if (sub === 'list') {
        io.out.write((await store.list()).map((n) => n + '\n').join(''));
        return 0;
      }
      if (!file) throw new RrdError('Not enough arguments');
      const info = await store.info(seriesOf(file));
      if (sub === 'info') io.out.write(formatInfo(file, info));
      else io.out.write(formatDump(info, await Promise.all(info.def.rra.map((_, i) => store.rows(seriesOf(file), i)))));
      return 0;
    }
    case 'restore':
      throw new RrdError('restore writes a SQLite store: restore into one, or create and update the series in ClickHouse');
    default:
      throw new RrdError(`unknown rrd command '${sub}' (expected create, update, fetch, info, dump, restore or list)`);
  }
}

export async function runShared(sub: string, argv: string[], config: StorageConfig, io: Io): Promise<number> {
  const store = await openSeriesStore(config);
  try {
    return await command(sub, argv, store, io);
  } finally {
    await store.close();
  }
}
