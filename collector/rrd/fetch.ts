// rrdtool's fetch: which archive answers, how start and end are aligned, and which rows are
// known. Candidates are the RRAs of the asked CF plus any one-PDP-per-row RRA; among those that
// reach back to `start` the one whose resolution is nearest the asked one (first defined on a
// tie); if none reaches back that far, the one covering most of the range.
import { RrdError } from './errors.js';
import type { Cf, FetchResult, SeriesDef, SeriesState } from './types.js';

export interface FetchPlan {
  rra: number;
  step: number;
  start: number;
  end: number;
  /** row end times with data: [first, last] (inclusive) of the chosen archive */
  first: number;
  last: number;
}

export function planFetch(def: SeriesDef, state: SeriesState, cf: Cf, start: number, end: number, resolution = 1): FetchPlan {
  if (start >= end) throw new RrdError(`start (${start}) should be less than end (${end})`);
  if (!(resolution > 0)) throw new RrdError('resolution: value must be positive');
  let bestFull = -1;
  let bestFullDiff = 0;
  let bestPart = -1;
  let bestPartDiff = 0;
  let bestMatch = 0;
  def.rra.forEach((r, i) => {
    if (r.cf !== cf && r.pdpPerRow !== 1) return;
    const rstep = def.step * r.pdpPerRow;
    const calEnd = state.lastUp - (state.lastUp % rstep);
    const calStart = calEnd - rstep * r.rows;
    const diff = Math.abs(resolution - rstep);
    if (calStart <= start) {
      if (bestFull < 0 || diff < bestFullDiff) {
        bestFull = i;
        bestFullDiff = diff;
      }
    } else {
      const match = end - start - (calStart - start);
      if (bestPart < 0 || bestMatch < match || (bestMatch === match && diff < bestPartDiff)) {
        bestPart = i;
        bestMatch = match;
        bestPartDiff = diff;
      }
    }
  });
  const rra = bestFull >= 0 ? bestFull : bestPart;
  if (rra < 0) throw new RrdError('the RRD does not contain an RRA matching the chosen CF');
  const r = def.rra[rra]!;
  const step = def.step * r.pdpPerRow;
  const s = start - (start % step);
  const e = end + (step - (end % step));
  const last = state.lastUp - (state.lastUp % step);
  return { rra, step, start: s, end: e, first: last - step * (r.rows - 1), last };
}

/** Rows start+step … end; `read(rowTime)` gives the archived values of a row in range. */
export function fetchRows(def: SeriesDef, plan: FetchPlan, read: (rowTimes: number[]) => number[][]): FetchResult {
  const times: number[] = [];
  for (let t = plan.start + plan.step; t <= plan.end; t += plan.step) times.push(t);
  const inRange = times.filter((t) => t >= plan.first && t <= plan.last);
  const got = read(inRange);
  const unknown = def.ds.map(() => NaN);
  let j = 0;
  const rows = times.map((t) => ({ time: t, values: t >= plan.first && t <= plan.last ? got[j++]! : unknown.slice() }));
  return { start: plan.start, end: plan.end, step: plan.step, dsNames: def.ds.map((d) => d.name), rows };
}
