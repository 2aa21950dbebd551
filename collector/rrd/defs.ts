// rrdtool's create syntax: `DS:name:TYPE:heartbeat:min:max` and `RRA:CF:xff:steps:rows`, with
// its error texts, its "suffixed" durations (5m, 1d) and its validation rules.
import { RrdError } from './errors.js';
import { strtod } from './numbers.js';
import type { Cf, DsDef, DsType, RraDef, SeriesDef } from './types.js';

const DS_TYPES: readonly DsType[] = ['GAUGE', 'COUNTER', 'DERIVE', 'ABSOLUTE', 'DCOUNTER', 'DDERIVE'];
const CFS: readonly Cf[] = ['AVERAGE', 'MIN', 'MAX', 'LAST'];
const DS_NAME = /^[A-Za-z0-9_-]{1,19}$/;

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, M: 2678400, y: 31622400 };

/**
 * rrdtool's "suffixed positive number": a count, or with a unit a duration in seconds.
 * Returns the number and whether a unit was given, or an error text.
 */
export function parseSuffixed(s: string): { value: number; unit: boolean } | string {
  const m = /^(\d+)([smhdwMy]?)$/.exec(s);
  if (!m) return 'value must be (suffixed) positive number';
  const n = Number(m[1]);
  if (n <= 0) return 'value must be positive';
  return m[2] ? { value: n * UNIT[m[2]]!, unit: true } : { value: n, unit: false };
}

export function parseStep(s: string): number {
  const r = parseSuffixed(s);
  if (typeof r === 'string') throw new RrdError(`step size: ${r}`);
  return r.value;
}

function parseBound(s: string, what: 'min' | 'max'): number {
  if (s === 'U') return NaN;
  const r = strtod(s);
  if (!r || r.rest !== '') throw new RrdError(`parsing ${what} val - Cannot convert '${s}' to float`);
  return r.value;
}

export function parseDs(arg: string): DsDef {
  const parts = arg.split(':');
  const [, name = '', type = '', ...rest] = parts;
  if (parts.length < 4 || !DS_NAME.test(name)) throw new RrdError('invalid DS format');
  if (!DS_TYPES.includes(type as DsType)) throw new RrdError(`invalid DS type specified (${type})`);
  const spec = rest.join(':');
  const [hb = '', min, max] = rest;
  if (min === undefined) throw new RrdError(`failed to parse data source ${spec}: missing separator`);
  const heartbeat = parseSuffixed(hb);
  if (typeof heartbeat === 'string') throw new RrdError(`failed to parse data source ${spec}: ${heartbeat}`);
  if (max === undefined) throw new RrdError(`failed to parse data source ${spec}: failed to extract min:max`);
  const lo = parseBound(min, 'min');
  const hi = parseBound(max, 'max');
  if (!Number.isNaN(lo) && !Number.isNaN(hi) && lo >= hi) {
    throw new RrdError(`failed to parse data source ${spec}: min must be less than max in DS definition`);
  }
  return { name, type: type as DsType, heartbeat: heartbeat.value, min: lo, max: hi };
}

export function parseRra(arg: string, step: number): RraDef {
  const parts = arg.split(':');
  const cf = parts[1] ?? '';
  if (!CFS.includes(cf as Cf)) throw new RrdError(`Unrecognized consolidation function ${cf}`);
  if (parts.length < 5) throw new RrdError(`Expected at least 4 arguments for RRA but got ${parts.length - 1}`);
  if (parts.length > 5) throw new RrdError(`Unexpected extra argument for consolidation function ${cf}`);
  const [, , xffText = '', stepsText = '', rowsText = ''] = parts;
  const x = strtod(xffText);
  if (!x || x.rest !== '' || !(x.value >= 0 && x.value < 1)) throw new RrdError('Invalid xff: must be between 0 and 1');
  const steps = parseSuffixed(stepsText);
  if (typeof steps === 'string') throw new RrdError(`Invalid step ${stepsText}: ${steps}`);
  let pdpPerRow = steps.value;
  if (steps.unit) {
    if (steps.value % step !== 0) throw new RrdError(`Invalid step ${stepsText}: value would truncate when scaled`);
    pdpPerRow = steps.value / step;
  }
  const rows = parseSuffixed(rowsText);
  if (typeof rows === 'string') throw new RrdError(`Invalid row count ${rowsText}: ${rows}`);
  let rowCount = rows.value;
  if (rows.unit) {
    const span = step * pdpPerRow;
    if (rows.value % span !== 0) throw new RrdError(`Invalid row count ${rowsText}: value would truncate when scaled`);
    rowCount = rows.value / span;
  }
  return { cf: cf as Cf, xff: x.value, pdpPerRow, rows: rowCount };
}

/** A whole create argument list after the options: DS and RRA definitions in any order. */
export function parseDefs(args: string[], step: number): SeriesDef {
  const ds: DsDef[] = [];
  const rra: RraDef[] = [];
  for (const a of args) {
    if (a.startsWith('DS:')) {
      const d = parseDs(a);
      if (ds.some((o) => o.name === d.name)) throw new RrdError(`Duplicate DS name: ${d.name}`);
      ds.push(d);
    } else if (a.startsWith('RRA:')) {
      rra.push(parseRra(a, step));
    } else {
      throw new RrdError(`can't parse argument '${a}'`);
    }
  }
  if (ds.length === 0) throw new RrdError('you must define at least one Data Source');
  if (rra.length === 0) throw new RrdError('you must define at least one Round Robin Archive');
  return { step, ds, rra };
}

/** The same definitions back in rrdtool's syntax (info, errors, tests). */
export function formatDs(d: DsDef): string {
  const b = (v: number): string => (Number.isNaN(v) ? 'U' : String(v));
  return `DS:${d.name}:${d.type}:${d.heartbeat}:${b(d.min)}:${b(d.max)}`;
}
export function formatRra(r: RraDef): string {
  return `RRA:${r.cf}:${r.xff}:${r.pdpPerRow}:${r.rows}`;
}
