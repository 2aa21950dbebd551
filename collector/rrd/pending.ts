// What a journaling store has committed to its journal but not yet applied to the archives,
// by series, so that a read can apply just its series and a checkpoint can apply the series
// that have waited longest. Map order is the order in which each series' oldest pending
// argument was journaled, so the first entry is always the oldest.

interface Entry {
  /** journal row of the oldest pending argument */
  row: number;
  args: string[];
}

export class PendingUpdates {
  private readonly bySeries = new Map<number, Entry>();
  private count = 0;

  /** updates pending in all series */
  get size(): number {
    return this.count;
  }

  add(series: number, row: number, arg: string): void {
    const e = this.bySeries.get(series);
    if (e) e.args.push(arg);
    else this.bySeries.set(series, { row, args: [arg] });
    this.count++;
  }

  /** removes and returns one series' pending arguments */
  take(series: number): string[] | undefined {
    const e = this.bySeries.get(series);
    if (!e) return undefined;
    this.bySeries.delete(series);
    this.count -= e.args.length;
    return e.args;
  }

  /** removes and yields the series that have waited longest until `budget` updates are out */
  *takeOldest(budget: number): Generator<[series: number, args: string[]]> {
    let taken = 0;
    for (const [series, e] of this.bySeries) {
      if (taken >= budget) return;
      this.bySeries.delete(series);
      this.count -= e.args.length;
      taken += e.args.length;
      yield [series, e.args];
    }
  }

  /** the newest journal row that no pending argument needs, given the newest row written */
  releasedUpTo(newestRow: number): number {
    const oldest = this.bySeries.values().next().value;
    return oldest ? oldest.row - 1 : newestRow;
  }

  clear(): void {
    this.bySeries.clear();
    this.count = 0;
  }
}
