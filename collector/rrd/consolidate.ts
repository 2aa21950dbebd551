// Primary data points → archive rows (rrdtool's update_cdp_prep). A row of an RRA with
// `pdpPerRow` n closes when a PDP whose end time is a multiple of n×step completes. It is
// unknown when its unknown PDPs exceed xff×n; otherwise AVERAGE is the mean of the known PDPs,
// MIN/MAX skip unknown ones, LAST is the row's last PDP.
//
// An update completes PDPs in runs of equal value (see pdp.ts), so a run of any length is
// consolidated in constant time per row written, and a gap of a year costs at most one pass
// over each archive's rows.
import type { PdpCompletion } from './pdp.js';
import type { CdpState, Cf, SeriesDef, SeriesState } from './types.js';

export interface RowSink {
  /**
   * rowIndex = row end time / (step × pdpPerRow); values per DS, valid only during the call
   * (the array is reused for the next row: a sink copies what it keeps)
   */
  put(rra: number, rowIndex: number, values: number[]): void;
}

/** One row's values per DS count, reused: a row closes on nearly every update. */
const rowScratch: number[][] = [];

export function accumulate(cdp: CdpState, cf: Cf, v: number, count: number): void {
  if (count === 0) return;
  if (Number.isNaN(v)) {
    cdp.unkn += count;
    return;
  }
  switch (cf) {
    case 'AVERAGE':
      cdp.val = (Number.isNaN(cdp.val) ? 0 : cdp.val) + v * count;
      break;
    case 'MIN':
      cdp.val = Number.isNaN(cdp.val) || v < cdp.val ? v : cdp.val;
      break;
    case 'MAX':
      cdp.val = Number.isNaN(cdp.val) || v > cdp.val ? v : cdp.val;
      break;
    case 'LAST':
      cdp.val = v;
      break;
  }
}

/** The value of the row being closed, `lastPdp` being its final PDP. */
export function rowValue(cdp: CdpState, cf: Cf, xff: number, pdpPerRow: number, lastPdp: number): number {
  if (cdp.unkn > pdpPerRow * xff) return NaN;
  switch (cf) {
    case 'AVERAGE':
      return (Number.isNaN(cdp.val) ? 0 : cdp.val) / (pdpPerRow - cdp.unkn);
    case 'MIN':
    case 'MAX':
      return cdp.val;
    case 'LAST':
      return lastPdp;
  }
}

/** Feeds `count` PDPs of per-DS value `v`, the first ending at index k, into one RRA. */
export function feedRun(def: SeriesDef, state: SeriesState, rraIdx: number, k: number, count: number, v: number[], sink: RowSink): void {
  if (count <= 0) return;
  const rra = def.rra[rraIdx]!;
  const n = rra.pdpPerRow;
  const cdps = state.cdp[rraIdx]!;
  const nds = def.ds.length;
  const end = k + count - 1;
  const j0 = Math.ceil(k / n) * n;
  if (j0 > end) {
    for (let d = 0; d < nds; d++) accumulate(cdps[d]!, rra.cf, v[d]!, count);
    return;
  }
  const row = rowScratch[nds] ?? (rowScratch[nds] = new Array<number>(nds).fill(NaN));
  for (let d = 0; d < nds; d++) {
    const cdp = cdps[d]!;
    accumulate(cdp, rra.cf, v[d]!, j0 - k + 1);
    row[d] = rowValue(cdp, rra.cf, rra.xff, n, v[d]!);
    cdp.primary = row[d]!;
    cdp.val = NaN;
    cdp.unkn = 0;
  }
  sink.put(rraIdx, j0 / n, row);
  const full = Math.floor((end - j0) / n);
  if (full > 0) {
    for (let d = 0; d < nds; d++) cdps[d]!.secondary = v[d]!;
    // Only the newest `rows` rows survive in the ring; older ones would be overwritten. The loop
    // counts rows written, not row indexes: past 2^53 an index `r++` no longer changes, and a
    // sample at ts 1e20 spun the collector for good (counted down from a fixed last index, a
    // huge gap may write one slot twice, but it ends after at most `rows` puts).
    const last = j0 / n + full;
    for (let i = Math.min(full, rra.rows) - 1; i >= 0; i--) sink.put(rraIdx, last - i, v);
  }
  const rem = (end - j0) % n;
  for (let d = 0; d < nds; d++) accumulate(cdps[d]!, rra.cf, v[d]!, rem);
}

/** Consolidates an update's completed PDPs into every RRA. */
export function consolidate(def: SeriesDef, state: SeriesState, c: PdpCompletion, sink: RowSink): void {
  for (let r = 0; r < def.rra.length; r++) {
    feedRun(def, state, r, c.firstIndex, 1, c.first, sink);
    feedRun(def, state, r, c.firstIndex + 1, c.count - 1, c.rest, sink);
  }
}
