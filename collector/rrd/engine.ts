// One update argument applied to a series: parse, check the time, turn readings into PDPs and
// PDPs into rows. Throws rrdtool's error text before changing anything when the argument is bad.
import { consolidate, type RowSink } from './consolidate.js';
import { RrdError } from './errors.js';
import { advancePdp, parseUpdateArg, readingsToPdpNew, type ParsedUpdate } from './pdp.js';
import type { SeriesDef, SeriesState } from './types.js';

/** Parses and checks one argument against the state without changing it. */
export function checkUpdate(def: SeriesDef, state: SeriesState, arg: string, now: () => number): { parsed: ParsedUpdate; pdpNew: number[] } {
  const parsed = parseUpdateArg(arg, def.ds.length, now);
  if (parsed.time <= state.lastUp) {
    throw new RrdError(`illegal attempt to update using time ${parsed.time} when last update time is ${state.lastUp} (minimum one second step)`);
  }
  return { parsed, pdpNew: readingsToPdpNew(def, state, parsed.time - state.lastUp, parsed.values) };
}

export function applyChecked(def: SeriesDef, state: SeriesState, u: { parsed: ParsedUpdate; pdpNew: number[] }, sink: RowSink): void {
  const done = advancePdp(def, state, u.parsed.time, u.parsed.values, u.pdpNew);
  if (done) consolidate(def, state, done, sink);
}

export function applyUpdate(def: SeriesDef, state: SeriesState, arg: string, now: () => number, sink: RowSink): void {
  applyChecked(def, state, checkUpdate(def, state, arg, now), sink);
}
