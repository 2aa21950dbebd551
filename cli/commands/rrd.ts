// `ringtail rrd create|update|fetch|info|dump|restore|list FILE …`: rrdtool's own argument syntax
// for that subset, on a ringtail store (one SQLite file holding many series). FILE is the
// store's path, optionally `PATH#SERIES` to pick a series (default "default"), so scripts
// written for rrdtool keep working with the file name swapped. Errors print as rrdtool prints
// them (`ERROR: …`) with exit status 1.
import { existsSync, readFileSync } from 'node:fs';
import { RrdError } from '../../collector/rrd/errors.js';
import { formatDump, formatFetch, formatInfo } from '../../collector/rrd/format.js';
import { parseDump } from '../../collector/rrd/restore.js';
import { openRrdStore, removeStoreFiles, type SqliteRrdStore } from '../../collector/rrd/sqlite-store.js';
import { RingtailError } from '../../shared/errors.js';
import { stdio, type Command, type Io } from '../command.js';
import { createArgs, fetchArgs, getopt, now, updateError } from './rrd-getopt.js';
import { runShared, sharedStorage } from './rrd-shared.js';

const DEFAULT_SERIES = 'default';

const HELP = `Usage: ringtail rrd <command> FILE[#SERIES] [options]

rrdtool's commands on a ringtail store (one SQLite file holding many series; SERIES defaults
to "${DEFAULT_SERIES}"), with rrdtool's argument syntax, defaults, output and error texts:

  create  FILE [--start|-b T] [--step|-s S] [--no-overwrite|-O] DS:name:TYPE:heartbeat:min:max… RRA:CF:xff:steps:rows…
          TYPE GAUGE COUNTER DERIVE ABSOLUTE DCOUNTER DDERIVE; CF AVERAGE MIN MAX LAST; defaults --step 300, --start now-10s
  update  FILE T:v[:v…] …          T epoch seconds or N; v a number or U
  fetch   FILE CF [--start|-s T] [--end|-e T] [--resolution|-r S]   defaults end-1day … now
  info    FILE
  dump    FILE                      rrdtool's dump XML on standard output
  restore XML|- FILE [--force-overwrite|-f]
  list    FILE                      the series in a store

With --storage clickhouse --clickhouse-url URL [--clickhouse-database DB] (default ringtail),
the commands but restore work on the series the collectors keep in ClickHouse; FILE is then the
series' name (host/metric, as GET /api/v1/metrics lists it).

Times: N, now, epoch seconds, start/end references and offsets such as now-10s, end-1day, -2h.
`;

function splitFile(arg: string): { path: string; series: string } {
  const hash = arg.lastIndexOf('#');
  if (hash > 0 && hash < arg.length - 1) return { path: arg.slice(0, hash), series: arg.slice(hash + 1) };
  return { path: arg, series: DEFAULT_SERIES };
}

function openExisting(path: string): SqliteRrdStore {
  return openRrdStore(path, { now, journal: false });
}

async function readInput(src: string): Promise<string> {
  if (src !== '-') return readFileSync(src, 'utf8');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function run(sub: string, argv: string[], io: Io): Promise<number> {
  switch (sub) {
    case 'create': {
      const { file, def, start, overwrite } = createArgs(argv);
      const { path, series } = splitFile(file);
      const existed = existsSync(path);
      let store: SqliteRrdStore | undefined;
      try {
        store = openRrdStore(path, { create: true, now });
        store.create(series, def, { start, overwrite });
      } catch (err) {
        store?.close();
        store = undefined;
        if (!existed) removeStoreFiles(path);
        if (err instanceof RrdError && /File exists$/.test(err.message)) throw new RrdError(`creating '${file}': File exists`);
        throw err;
      }
      store.close();
      return 0;
    }
    case 'update': {
      const { rest } = getopt(argv, {});
      const [file, ...args] = rest;
      if (!file || args.length === 0) throw new RrdError('Not enough arguments');
      const { path, series } = splitFile(file);
      const store = openExisting(path);
      try {
        store.update(series, args);
      } catch (err) {
        throw updateError(file, err);
      } finally {
        store.close();
      }
      return 0;
    }
    case 'fetch': {
      const { file, cf, start, end, resolution } = fetchArgs(argv);
      const { path, series } = splitFile(file);
      const store = openExisting(path);
      try {
        io.out.write(formatFetch(store.fetch(series, cf, { start, end, resolution })));
      } finally {
        store.close();
      }
      return 0;
    }
    case 'info':
    case 'dump':
    case 'list': {
      const [file] = getopt(argv, {}).rest;
      if (!file) throw new RrdError('Not enough arguments');
      const { path, series } = splitFile(file);
      const store = openExisting(path);
      try {
        if (sub === 'list') io.out.write(store.list().map((n) => n + '\n').join(''));
        else if (sub === 'info') io.out.write(formatInfo(file, store.info(series)));
        else {
          const info = store.info(series);
          io.out.write(formatDump(info, info.def.rra.map((_, i) => store.rows(series, i))));
        }
      } finally {
        store.close();
      }
      return 0;
    }
    case 'restore': {
      const { opts, rest } = getopt(argv, { 'force-overwrite': { short: 'f', arg: false }, 'range-check': { short: 'r', arg: false } });
      const [src, file] = rest;
      if (!src || !file) throw new RrdError('Not enough arguments');
      const dump = parseDump(await readInput(src));
      const { path, series } = splitFile(file);
      const existed = existsSync(path);
      let store: SqliteRrdStore | undefined;
      try {
        store = openRrdStore(path, { create: true, now });
        if (!opts.has('force-overwrite') && store.list().includes(series)) throw new RrdError(`series '${series}' already exists in '${path}' (use -f to overwrite)`);
        store.restore(series, dump.def, dump.state, dump.rows);
      } catch (err) {
        store?.close();
        store = undefined;
        if (!existed) removeStoreFiles(path);
        throw err;
      }
      store.close();
      return 0;
    }
    default:
      throw new RrdError(`unknown rrd command '${sub}' (expected create, update, fetch, info, dump, restore or list)`);
  }
}

/** The whole command on given streams (tests run it in-process with rrdtool's exact argv). */
export async function runRrd(argv: string[], io: Io = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help')) {
    io.out.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  try {
    // --storage clickhouse --clickhouse-url …: the series in ClickHouse (FILE names a series)
    const shared = sharedStorage(rest);
    if (shared) return await runShared(sub, shared.rest, shared.config, io);
    return await run(sub, rest, io);
  } catch (err) {
    if (err instanceof RingtailError) {
      io.err.write(`ERROR: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

export const rrdCommand: Command = {
  name: 'rrd',
  summary: "Round-robin archives with rrdtool's syntax (create, update, fetch, info, dump, restore).",
  run: (argv) => runRrd(argv),
};
