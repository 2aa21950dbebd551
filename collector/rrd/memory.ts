// A series held in memory: the same arithmetic as the store without SQLite, for table-driven
// tests and for tools that replay a stream before writing it.
import { parseDefs } from './defs.js';
import { applyUpdate } from './engine.js';
import { fetchRows, planFetch } from './fetch.js';
import { initialState } from './pdp.js';
import type { Cf, FetchResult, SeriesDef, SeriesState } from './types.js';

export class MemorySeries {
  readonly state: SeriesState;
  /** per RRA, rows in slot order (slot = row end time / row step mod rows) */
  readonly rings: Float64Array[];

  constructor(
    readonly def: SeriesDef,
    start: number,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    this.state = initialState(def, start);
    this.rings = def.rra.map((r) => new Float64Array(r.rows * def.ds.length).fill(NaN));
  }

  /** `rrdtool create` arguments after the file: DS and RRA definitions. */
  static fromArgs(defs: string[], step: number, start: number): MemorySeries {
    return new MemorySeries(parseDefs(defs, step), start);
  }

  update(...args: string[]): void {
    const sink = {
      put: (rra: number, rowIndex: number, values: number[]): void => {
        const rows = this.def.rra[rra]!.rows;
        const slot = rowIndex % rows;
        this.rings[rra]!.set(values, slot * this.def.ds.length);
      },
    };
    for (const a of args) applyUpdate(this.def, this.state, a, this.now, sink);
  }

  fetch(cf: Cf, start: number, end: number, resolution?: number): FetchResult {
    const plan = planFetch(this.def, this.state, cf, start, end, resolution);
    return fetchRows(this.def, plan, this.rings[plan.rra]!);
  }
}
