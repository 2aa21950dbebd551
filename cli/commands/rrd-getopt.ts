// rrdtool's option and argument parsing (getopt_long, then each command's arguments and
// defaults) for `ringtail rrd`, on either store (rrd.ts: SQLite; rrd-shared.ts: ClickHouse).
import { parseAtTime, resolveStartEnd } from '../../collector/rrd/attime.js';
import { parseDefs, parseStep } from '../../collector/rrd/defs.js';
import { RrdError } from '../../collector/rrd/errors.js';
import type { Cf, SeriesDef } from '../../collector/rrd/types.js';
import { RingtailError } from '../../shared/errors.js';

/** getopt_long-style: options anywhere, `--opt=v`, `--opt v`, `-o v`, `-ov`; the rest positional. */
export function getopt(argv: string[], spec: Record<string, { short?: string; arg: boolean }>): { opts: Map<string, string>; rest: string[] } {
  const opts = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let value: string | undefined;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (eq > 0) value = a.slice(eq + 1);
      if (!spec[name]) throw new RrdError(`unrecognized option '${a}'`);
    } else if (a.startsWith('-') && a.length > 1 && !/^-\d/.test(a)) {
      const short = a[1]!;
      name = Object.keys(spec).find((k) => spec[k]!.short === short);
      if (!name) throw new RrdError(`invalid option -- '${short}'`);
      if (a.length > 2) value = a.slice(2);
    } else {
      rest.push(a);
      continue;
    }
    if (spec[name]!.arg) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new RrdError(`option '${a}' requires an argument`);
      }
      opts.set(name, value);
    } else opts.set(name, '');
  }
  return { opts, rest };
}

/** rrdtool's clock for `ringtail rrd`: seconds since the epoch, fractional. */
export const now = (): number => Date.now() / 1000;

/** `create FILE [--start|-b T] [--step|-s S] [--no-overwrite|-O] DS:… RRA:…`, rrdtool's defaults. */
export function createArgs(argv: string[]): { file: string; def: SeriesDef; start: number; overwrite: boolean } {
  const { opts, rest } = getopt(argv, { start: { short: 'b', arg: true }, step: { short: 's', arg: true }, 'no-overwrite': { short: 'O', arg: false } });
  const [file, ...defs] = rest;
  if (!file) throw new RrdError('Not enough arguments');
  const step = opts.has('step') ? parseStep(opts.get('step')!) : 300;
  let start = Math.floor(now() - 10);
  if (opts.has('start')) {
    const t = parseAtTime(opts.get('start')!, 'start time', now());
    if (t.kind !== 'abs') throw new RrdError(`start time: unparsable time: ${opts.get('start')}`);
    start = t.time;
  }
  return { file, def: parseDefs(defs, step), start, overwrite: !opts.has('no-overwrite') };
}

/** `fetch FILE CF [--start|-s T] [--end|-e T] [--resolution|-r S]`, defaults end-1day … now. */
export function fetchArgs(argv: string[]): { file: string; cf: Cf; start: number; end: number; resolution: number } {
  const { opts, rest } = getopt(argv, { start: { short: 's', arg: true }, end: { short: 'e', arg: true }, resolution: { short: 'r', arg: true } });
  const [file, cf] = rest;
  if (!file || !cf) throw new RrdError('Usage: ringtail rrd fetch <file> <CF> [options]');
  if (!['AVERAGE', 'MIN', 'MAX', 'LAST'].includes(cf)) throw new RrdError(`unknown consolidation function '${cf}'`);
  const t = now();
  const se = resolveStartEnd(parseAtTime(opts.get('start') ?? 'end-1day', 'start time', t), parseAtTime(opts.get('end') ?? 'now', 'end time', t));
  let resolution = 1;
  if (opts.has('resolution')) {
    resolution = Number(opts.get('resolution'));
    if (!Number.isInteger(resolution) || resolution <= 0) throw new RrdError('resolution: value must be positive');
  }
  return { file, cf: cf as Cf, start: se.start, end: se.end, resolution };
}

/** A store's error on `update FILE …` as rrdtool words it (`FILE: reason`). */
export function updateError(file: string, err: unknown): unknown {
  return err instanceof RingtailError ? new RrdError(`${file}: ${err.message}`, err.code, err.status) : err;
}
