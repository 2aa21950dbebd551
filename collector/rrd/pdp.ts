// Updates → primary data points, as rrdtool 1.7.2's update_pdp_prep and process_pdp_st do it.
// Pure functions on plain state so they can be tested table-driven without SQLite.
//
// A value covers (previous update, t]. Within one step the products rate×seconds accumulate in
// `scratch` and unknown seconds in `unknSec`. When t crosses step boundaries, the step that was
// being filled is closed on its own (its known part, plus this update's share up to the
// boundary; unknown if more than half of it is unknown), and every further whole step this
// update spans gets the update's rate (or unknown). What lies after the last boundary starts
// the next step. A heartbeat breach that crosses only one boundary makes that step unknown.
import { RrdError } from './errors.js';
import { cFixed6, rrdDiff, strtod, strtodIn, strtodStop } from './numbers.js';
import type { DsDef, SeriesDef, SeriesState } from './types.js';

/** rrdtool keeps the last raw reading in a 30-byte field. */
const LAST_DS_KEEP = 29;

export interface ParsedUpdate {
  time: number;
  values: string[];
}

/** Splits `T:v[:v…]` (T a time in epoch seconds or N) and checks the count of readings. */
export function parseUpdateArg(arg: string, dsCount: number, now: () => number): ParsedUpdate {
  const colon = arg.indexOf(':');
  if (colon < 0) throw new RrdError(`expected timestamp not found in data source from ${arg}`);
  // one reading (most series have one DS): no split
  const fields = arg.indexOf(':', colon + 1) < 0 ? [arg.slice(colon + 1)] : arg.slice(colon + 1).split(':');
  if (fields.length < dsCount) {
    throw new RrdError(`expected ${dsCount} data source readings (got ${fields.length}) from ${arg.slice(0, colon)}`);
  }
  if (fields.length > dsCount) throw new RrdError(`found extra data on update argument: ${fields.slice(dsCount).join(':')}`);
  let time: number;
  if (colon === 1 && arg.charCodeAt(0) === 78 /* N */) time = Math.floor(now());
  else {
    const value = strtodIn(arg, 0, colon);
    if (strtodStop() !== colon || !Number.isFinite(value)) {
      throw new RrdError(`error while parsing time in get_time_from_reading - Cannot convert '${arg.slice(0, colon)}' to float`);
    }
    if (!Number.isInteger(value)) throw new RrdError(`fractional timestamps are not supported: '${arg.slice(0, colon)}'`);
    time = value;
  }
  return { time, values: fields };
}

function parseFloatReading(v: string, type: string): number {
  const value = strtodIn(v, 0, v.length);
  const stop = strtodStop();
  if (stop < 0) throw new RrdError(`Function update_pdp_prep, case DST_${type} - Cannot convert '${v}' to float`);
  if (stop < v.length) {
    throw new RrdError(`Function update_pdp_prep, case DST_${type} - Converted '${v}' to ${cFixed6(value)}, but cannot convert '${v.slice(stop)}'`);
  }
  return value;
}

function checkInteger(v: string, signed: boolean): void {
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (i === 0 && signed && c === '-') continue;
    if (c < '0' || c > '9') throw new RrdError(`not a simple ${signed ? 'signed' : 'unsigned'} integer: '${v}'`);
  }
}

/**
 * rate × interval for each DS (NaN = unknown), from the readings. Throws rrdtool's error for a
 * bad reading without touching the state, so a failed argument changes nothing.
 */
export function readingsToPdpNew(def: SeriesDef, state: SeriesState, interval: number, values: string[]): number[] {
  return def.ds.map((ds, i) => pdpNewOf(ds, state.ds[i]!.lastDs, interval, values[i]!));
}

function pdpNewOf(ds: DsDef, prevLastDs: string, interval: number, v: string): number {
  // A gap longer than the heartbeat never builds a difference from the old reading.
  const lastDs = ds.heartbeat < interval ? 'U' : prevLastDs;
  if (v.startsWith('U') || ds.heartbeat < interval) return NaN;
  let pdpNew: number;
  let rate: number;
  switch (ds.type) {
    case 'COUNTER':
    case 'DERIVE': {
      checkInteger(v, ds.type === 'DERIVE');
      if (lastDs.startsWith('U')) return NaN;
      pdpNew = rrdDiff(v, lastDs);
      if (ds.type === 'COUNTER') {
        // rrdtool's wrap: +2^32−1 (one short of a true 32-bit wrap), then +2^64−2^32.
        if (pdpNew < 0) pdpNew += 4294967295.0;
        if (pdpNew < 0) pdpNew += 18446744069414584320.0;
      }
      rate = pdpNew / interval;
      break;
    }
    case 'DCOUNTER':
    case 'DDERIVE': {
      const cur = parseFloatReading(v, ds.type);
      if (lastDs.startsWith('U')) return NaN;
      const prev = strtod(lastDs)?.value ?? NaN;
      pdpNew = cur - prev;
      if (ds.type === 'DCOUNTER' && pdpNew < 0) return NaN;
      rate = pdpNew / interval;
      break;
    }
    case 'ABSOLUTE':
      pdpNew = parseFloatReading(v, 'ABSOLUTE');
      rate = pdpNew / interval;
      break;
    case 'GAUGE':
      pdpNew = parseFloatReading(v, 'GAUGE') * interval;
      rate = pdpNew / interval;
      break;
  }
  if (!Number.isNaN(rate) && ((!Number.isNaN(ds.max) && rate > ds.max) || (!Number.isNaN(ds.min) && rate < ds.min))) return NaN;
  return pdpNew;
}

/** The PDPs one update completes: the step being filled, then `count − 1` more of `rest`. */
export interface PdpCompletion {
  /** index (end time / step) of the first completed PDP */
  firstIndex: number;
  count: number;
  first: number[];
  rest: number[];
}

/**
 * Applies one update (already validated: t > lastUp) to the PDP state. Returns the completed
 * PDPs, or undefined when t stays inside the current step.
 */
export function advancePdp(def: SeriesDef, state: SeriesState, t: number, values: string[], pdpNew: number[]): PdpCompletion | undefined {
  const step = def.step;
  const lastUp = state.lastUp;
  const interval = t - lastUp;
  const procSt = lastUp - (lastUp % step);
  const occuAge = t % step;
  const occuSt = t - occuAge;
  for (let i = 0; i < def.ds.length; i++) state.ds[i]!.lastDs = values[i]!.slice(0, LAST_DS_KEEP);
  state.lastUp = t;
  if (occuSt <= procSt) {
    for (let i = 0; i < def.ds.length; i++) {
      const d = state.ds[i]!;
      const p = pdpNew[i]!;
      if (Number.isNaN(p)) d.unknSec += Math.floor(interval);
      else d.scratch = Number.isNaN(d.scratch) ? p : d.scratch + p;
    }
    return undefined;
  }
  const count = (occuSt - procSt) / step;
  const firstGap = procSt + step - lastUp;
  const first = new Array<number>(def.ds.length);
  const rest = new Array<number>(def.ds.length);
  for (let i = 0; i < def.ds.length; i++) {
    const d = state.ds[i]!;
    const p = pdpNew[i]!;
    // Crossing a single boundary after a heartbeat breach loses the step (rrdtool's old rule);
    // when the gap spans further steps, 1.7.2 closes the partly filled one on its known part.
    const tooUnknown = d.unknSec > step / 2 || (count === 1 && interval > def.ds[i]!.heartbeat);
    if (Number.isNaN(p)) {
      first[i] = tooUnknown ? NaN : d.scratch / (step - d.unknSec - firstGap);
      rest[i] = NaN;
      d.unknSec = occuAge;
      d.scratch = NaN;
    } else {
      const rate = p / interval;
      const known = (Number.isNaN(d.scratch) ? 0 : d.scratch) + rate * firstGap;
      first[i] = tooUnknown ? NaN : known / (step - d.unknSec);
      rest[i] = rate;
      d.unknSec = 0;
      d.scratch = rate * occuAge;
    }
  }
  return { firstIndex: procSt / step + 1, count, first, rest };
}

/** The state of a new series whose last update is `start` (rrdtool create). */
export function initialState(def: SeriesDef, start: number): SeriesState {
  const unknSec = start % def.step;
  return {
    lastUp: start,
    ds: def.ds.map(() => ({ lastDs: 'U', scratch: NaN, unknSec })),
    cdp: def.rra.map((r) =>
      def.ds.map(() => ({
        val: NaN,
        unkn: ((start - unknSec) % (def.step * r.pdpPerRow)) / def.step,
        primary: 0,
        secondary: 0,
      })),
    ),
  };
}
