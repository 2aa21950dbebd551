// Series definitions and states as JSON text in the store; JSON has no NaN or infinities, so
// those travel as strings. A state is decoded and encoded again each time its series is applied
// (a journal checkpoint does it for thousands of series), so states take a path without
// JSON's reviver and replacer callbacks (a third of a checkpoint's CPU with them), reading and
// writing the same encoding.
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

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  return v as number;
}

function text(v: number): string {
  if (Number.isFinite(v)) return JSON.stringify(v);
  return Number.isNaN(v) ? '"NaN"' : v > 0 ? '"inf"' : '"-inf"';
}

export function decodeState(s: string): SeriesState {
  const st = JSON.parse(s) as SeriesState;
  st.lastUp = num(st.lastUp);
  for (const d of st.ds) {
    d.scratch = num(d.scratch);
    d.unknSec = num(d.unknSec);
  }
  for (const rra of st.cdp) {
    for (const c of rra) {
      c.val = num(c.val);
      c.unkn = num(c.unkn);
      c.primary = num(c.primary);
      c.secondary = num(c.secondary);
    }
  }
  return st;
}

/** What encodeJson(state) writes, keys in a fixed order; decodeState reads either. */
export function encodeState(st: SeriesState): string {
  let out = `{"lastUp":${text(st.lastUp)},"ds":[`;
  st.ds.forEach((d, i) => {
    out += `${i ? ',' : ''}{"lastDs":${JSON.stringify(d.lastDs)},"scratch":${text(d.scratch)},"unknSec":${text(d.unknSec)}}`;
  });
  out += '],"cdp":[';
  st.cdp.forEach((rra, r) => {
    out += `${r ? ',' : ''}[`;
    rra.forEach((c, i) => {
      out += `${i ? ',' : ''}{"val":${text(c.val)},"unkn":${text(c.unkn)},"primary":${text(c.primary)},"secondary":${text(c.secondary)}}`;
    });
    out += ']';
  });
  return out + ']}';
}

/** A stored state's last update: encodeState writes it first; anything else is decoded whole. */
export function stateLastUp(text: string): number {
  const m = /^\{"lastUp":(\d+),/.exec(text);
  return m ? Number(m[1]) : decodeState(text).lastUp;
}
