// How a new series is laid out: the default host layout (10 s for a day, 1 min for a week,
// 5 min for a month, 1 h for a year; AVERAGE everywhere, MIN and MAX from 1 min up), or the
// first configured override whose pattern matches the metric. Fixed at creation, as in rrdtool.
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../../shared/errors.js';
import type { MetricType } from '../../shared/wire.js';
import { CHUNK_BYTES, MAX_CHUNKS_PER_RRA } from '../rrd/chunks.js';
import type { Cf, DsType, RraDef, SeriesDef } from '../rrd/types.js';

export const DEFAULT_STEP = 10;

export const DEFAULT_RRA: RraDef[] = [
  { cf: 'AVERAGE', xff: 0.5, pdpPerRow: 1, rows: 8640 },
  { cf: 'AVERAGE', xff: 0.5, pdpPerRow: 6, rows: 10080 },
  { cf: 'AVERAGE', xff: 0.5, pdpPerRow: 30, rows: 8928 },
  { cf: 'AVERAGE', xff: 0.5, pdpPerRow: 360, rows: 8784 },
  { cf: 'MIN', xff: 0.5, pdpPerRow: 6, rows: 10080 },
  { cf: 'MAX', xff: 0.5, pdpPerRow: 6, rows: 10080 },
  { cf: 'MIN', xff: 0.5, pdpPerRow: 360, rows: 8784 },
  { cf: 'MAX', xff: 0.5, pdpPerRow: 360, rows: 8784 },
];

const RRA_PATTERN = '^(AVERAGE|MIN|MAX|LAST):(0(\\.[0-9]+)?|1(\\.0+)?):[1-9][0-9]{0,6}:[1-9][0-9]{0,7}$';

export const LayoutOverride = Type.Object(
  {
    match: Type.String({ minLength: 1, maxLength: 256, description: "metric name pattern, '*' matches any run of characters" }),
    step: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400, description: 'seconds per primary data point' })),
    heartbeat: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 * 7 })),
    rra: Type.Optional(
      Type.Array(Type.String({ pattern: RRA_PATTERN, errorMessage: 'expected CF:xff:steps:rows such as AVERAGE:0.5:6:10080' }), { minItems: 1, maxItems: 32 }),
    ),
  },
  { additionalProperties: false },
);
export type LayoutOverride = Static<typeof LayoutOverride>;

export function parseRra(text: string): RraDef {
  const [cf, xff, steps, rows] = text.split(':');
  return { cf: cf as Cf, xff: Number(xff), pdpPerRow: Number(steps), rows: Number(rows) };
}

export function globToRegExp(glob: string): RegExp {
  return new RegExp('^' + glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$');
}

export interface Layouts {
  /** the definition of a new series for this metric (name, not key) and wire type */
  define(name: string, type: MetricType, intervalMs: number | undefined): SeriesDef;
}

/** A one-DS archive holds at most this many rows in the store. */
const MAX_ROWS = Math.floor(CHUNK_BYTES / 8) * MAX_CHUNKS_PER_RRA;

export function createLayouts(overrides: LayoutOverride[] = []): Layouts {
  overrides.forEach((o, i) =>
    (o.rra ?? []).forEach((text, j) => {
      if (parseRra(text).rows > MAX_ROWS) throw new ConfigError(`metrics.layouts[${i}].rra[${j}]`, `at most ${MAX_ROWS} rows per archive, got '${text}'`);
    }),
  );
  const compiled = overrides.map((o) => ({ re: globToRegExp(o.match), o }));
  // One object per distinct definition: a request's new series (and a fleet's) share a few, and
  // the store thread receives them shared (a structured clone keeps sharing within a message).
  // Definitions are never modified once made.
  const made = new Map<string, SeriesDef>();
  return {
    define(name, type, intervalMs) {
      const k = compiled.findIndex((c) => c.re.test(name));
      const o = k >= 0 ? compiled[k]!.o : undefined;
      const step = o?.step ?? DEFAULT_STEP;
      // Two missed samples make a gap; fewer are bridged (collectd's choice).
      const interval = Math.ceil((intervalMs ?? DEFAULT_STEP * 1000) / 1000);
      const heartbeat = o?.heartbeat ?? Math.max(2 * step, 2 * interval);
      const key = `${k} ${type} ${heartbeat}`;
      let def = made.get(key);
      if (!def) {
        // the interval is the agent's to say: a bounded cache, not one entry per value ever sent
        if (made.size >= 1024) made.clear();
        const rra = o?.rra ? o.rra.map(parseRra) : DEFAULT_RRA.map((r) => ({ ...r }));
        made.set(key, (def = { step, ds: [dsFor(type, heartbeat)], rra }));
      }
      return def;
    },
  };
}

/**
 * One data source per series, named `value`. DERIVE gets min 0: kernel counters only grow, so a
 * negative rate is a reset (a reboot) and is stored unknown rather than as a huge negative spike.
 */
function dsFor(type: MetricType, heartbeat: number) {
  const t: DsType = type;
  return { name: 'value', type: t, heartbeat, min: type === 'DERIVE' ? 0 : NaN, max: NaN };
}
