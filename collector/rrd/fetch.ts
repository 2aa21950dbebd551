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

/**
 * Rows start+step … end. `ring` is the chosen archive's rows in slot order (slot = row end
 * time / step mod rows); rows outside what the archive holds are unknown.
 */
export function fetchRows(def: SeriesDef, plan: FetchPlan, ring: Float64Array): FetchResult {
  const nds = def.ds.length;
  const rowsInRra = def.rra[plan.rra]!.rows;
  const rowCount = Math.max(0, (plan.end - plan.start) / plan.step);
  const data = new Float64Array(rowCount * nds).fill(NaN);
  const from = Math.max(plan.start + plan.step, plan.first);
  const to = Math.min(plan.end, plan.last);
  for (let t = from; t <= to; t += plan.step) {
    const i = (t - plan.start) / plan.step - 1;
    const slot = (t / plan.step) % rowsInRra;
    for (let d = 0; d < nds; d++) data[i * nds + d] = ring[slot * nds + d]!;
  }
  return { start: plan.start, end: plan.end, step: plan.step, dsNames: def.ds.map((d) => d.name), rowCount, data };
}
