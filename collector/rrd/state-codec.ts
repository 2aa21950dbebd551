// Series definitions and states as JSON text in the store; JSON has no NaN or infinities, so
// those travel as strings.
import type { SeriesDef, SeriesState } from './types.js';

function replacer(_k: string, v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'inf' : '-inf';
  return v;
}
function reviver(k: string, v: unknown): unknown {
  if (k === 'lastDs' || k === 'name' || k === 'type' || k === 'cf') return v;
  if (v === 'NaN') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return v;
}

export const encodeJson = (v: SeriesDef | SeriesState): string => JSON.stringify(v, replacer);
export const decodeDef = (s: string): SeriesDef => JSON.parse(s, reviver) as SeriesDef;
export const decodeState = (s: string): SeriesState => JSON.parse(s, reviver) as SeriesState;
