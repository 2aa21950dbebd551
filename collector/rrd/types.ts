// The round-robin store's contract. Series are named; each holds data sources (DS) and
// round-robin archives (RRA) fixed at creation, with RRDtool 1.7.2's semantics: a series' size
// is bounded at creation (every row of every archive), though it takes space only for the rows
// it has written. The SQLite backend implements it; ClickHouse (issue 16) is to follow behind the
// same interface.

export type DsType = 'GAUGE' | 'COUNTER' | 'DERIVE' | 'ABSOLUTE' | 'DCOUNTER' | 'DDERIVE';
export type Cf = 'AVERAGE' | 'MIN' | 'MAX' | 'LAST';

export interface DsDef {
  name: string;
  type: DsType;
  heartbeat: number;
  /** NaN = no bound (rrdtool's U) */
  min: number;
  max: number;
}

export interface RraDef {
  cf: Cf;
  xff: number;
  pdpPerRow: number;
  rows: number;
}

export interface SeriesDef {
  step: number;
  ds: DsDef[];
  rra: RraDef[];
}

/** Consolidation state of one RRA for one DS (rrdtool's cdp_prep). */
export interface CdpState {
  /** running sum (AVERAGE), min/max so far, NaN when nothing known yet */
  val: number;
  /** unknown PDPs in the row being built */
  unkn: number;
  /** dump compatibility: the last row value written first / the value repeated after it */
  primary: number;
  secondary: number;
}

/** Everything that changes on update except the archived rows (rrdtool's live head and preps). */
export interface SeriesState {
  lastUp: number;
  ds: Array<{ lastDs: string; scratch: number; unknSec: number }>;
  /** [rra][ds] */
  cdp: CdpState[][];
}

export interface FetchResult {
  start: number;
  end: number;
  step: number;
  dsNames: string[];
  /** rows from start+step to end, one per step, each stamped with the end of its interval */
  rowCount: number;
  /** row-major values: row i, DS d at i × dsNames.length + d; NaN = unknown */
  data: Float64Array;
}

/** Row i's time and values (convenience over the flat layout). */
export function fetchRow(r: FetchResult, i: number): { time: number; values: number[] } {
  const n = r.dsNames.length;
  return { time: r.start + r.step * (i + 1), values: Array.from(r.data.subarray(i * n, (i + 1) * n)) };
}

export interface SeriesInfo {
  name: string;
  def: SeriesDef;
  state: SeriesState;
}

/** One update argument in rrdtool's syntax: `T:v[:v…]` with T a time or `N`, v a number or `U`. */
export type UpdateArg = string;

export interface UpdateManyItem {
  series: string;
  args: UpdateArg[];
}

export interface UpdateManyResult {
  /** arguments accepted per item, in order; an item stops at its first bad argument */
  accepted: number[];
  /** per item index that failed: rrdtool's error text */
  errors: Map<number, Error>;
}

export interface CreateOptions {
  /** last update time at creation (rrdtool --start); default now-10s */
  start?: number;
  /** replace an existing series of that name (rrdtool create overwrites by default) */
  overwrite?: boolean;
}

export interface RrdStore {
  create(name: string, def: SeriesDef, options?: CreateOptions): void;
  /**
   * New series (none may exist yet) in one durable commit; all or nothing. `deferSync`: durable
   * with the store's next durable commit instead (a caller that updates before it answers).
   */
  createMany(items: Array<{ name: string; def: SeriesDef; start?: number }>, options?: { deferSync?: boolean }): void;
  /** Applies the arguments in order; throws at the first bad one, keeping those before it. Durable on return. */
  update(name: string, args: UpdateArg[]): void;
  /** Many series in one durable commit: the collector's workload (one value per series per round). */
  updateMany(items: UpdateManyItem[]): UpdateManyResult;
  fetch(name: string, cf: Cf, opts: { start: number; end: number; resolution?: number }): FetchResult;
  info(name: string): SeriesInfo;
  list(): string[];
  delete(name: string): boolean;
  /** Deletes series in one durable commit (a host's, when it is withdrawn); how many existed. */
  deleteMany(names: readonly string[]): number;
  /** All archived rows of an RRA, oldest first (dump). */
  rows(name: string, rra: number): Float64Array;
  /** Writes a series wholesale (restore). */
  restore(name: string, def: SeriesDef, state: SeriesState, rows: Float64Array[]): void;
  close(): void;
}
