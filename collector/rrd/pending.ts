// What a journaling store has committed to its journal but not yet applied to the archives,
// by series, so that a read can apply just its series and a checkpoint can apply the series
// that have waited longest. Map order is the order in which each series' oldest pending
// argument was journaled, so the first entry is always the oldest.
//
// An argument is kept as a place in its journal row's text (body, start, end), not as a string
// of its own: the collector journals thousands per round, and a string each, alive until its
// series is applied, was most of what the garbage collector copied and promoted. The strings
// are cut out when a series is taken; a row's text goes once no pending argument needs it.
//
// A journaled row's lines come in as one flat record (addLines) and are sorted into their
// series only when something asks by series (a take, the oldest series, the rows released):
// the sorting — a map lookup and three appends per argument, 8 % of a durable round's
// instructions — then runs where the journal is applied, not while an update call waits for
// its commit. Nothing is observable in between: every query sorts first. The owner may also
// sort in bounded steps (sortSome), so that one slice does not sort 200,000 arguments at once
// (85-93 ms of the metric store thread in `npm run bench -- fleet` at month scale, every write
// waiting behind it). Rows stay unsorted until then: 24 bytes an argument, where a filed one
// costs its series' entry and array (sorting them while idle cost 10 MiB of RSS in
// `npm run bench -- collector load`, whose journal stays below the threshold).

interface Entry {
  /** journal row of the oldest pending argument */
  row: number;
  /** per argument: body number, start, end */
  refs: number[];
}

export class PendingUpdates {
  private readonly bySeries = new Map<number, Entry>();
  /** journal texts still referred to; bodies[i] is body number firstBody + i */
  private bodies: string[] = [];
  private firstBody = 0;
  private count = 0;
  /** rows not yet sorted by series, oldest first: each line's series, start and end, flat */
  private unsorted: Array<{ row: number; body: number; lines: Float64Array }> = [];
  /** of unsorted[0], the offset (3 per line) up to which its lines are filed already */
  private filedOfFirst = 0;
  private unsortedCount = 0;

  /** updates pending in all series */
  get size(): number {
    return this.count;
  }

  /** one pending argument, given as its own text */
  add(series: number, row: number, arg: string): void {
    this.ref(series, row, this.addBody(arg), 0, arg.length);
  }

  /** a journal row's text, for ref(); returns its body number */
  addBody(body: string): number {
    this.bodies.push(body);
    return this.firstBody + this.bodies.length - 1;
  }

  /** one pending argument: body.slice(start, end) of a text given to addBody */
  ref(series: number, row: number, body: number, start: number, end: number): void {
    this.sort();
    this.place(series, row, body, start, end);
    this.count++;
  }

  /** a journal row's `count` arguments at once: series ids[k], body.slice(starts[k], ends[k]) */
  addLines(row: number, body: number, ids: ArrayLike<number>, starts: ArrayLike<number>, ends: ArrayLike<number>, count: number): void {
    const lines = new Float64Array(count * 3);
    for (let k = 0, j = 0; k < count; k++, j += 3) {
      lines[j] = ids[k]!;
      lines[j + 1] = starts[k]!;
      lines[j + 2] = ends[k]!;
    }
    this.unsorted.push({ row, body, lines });
    this.count += count;
    this.unsortedCount += count;
  }

  /** arguments added by addLines and not yet filed under their series */
  get unsortedLines(): number {
    return this.unsortedCount;
  }

  private place(series: number, row: number, body: number, start: number, end: number): void {
    const e = this.bySeries.get(series);
    if (e) e.refs.push(body, start, end);
    else this.bySeries.set(series, { row, refs: [body, start, end] });
  }

  /** files the rows added by addLines under their series, in the order they came */
  private sort(): void {
    this.sortSome(Infinity);
  }

  /**
   * Files up to `max` of the arguments added by addLines under their series, oldest first (a
   * row may be filed in parts); returns how many remain. Nothing observable changes: every
   * query files the rest first.
   */
  sortSome(max: number): number {
    let n = 0;
    let done = 0;
    while (done < this.unsorted.length && n < max) {
      const u = this.unsorted[done]!;
      const l = u.lines;
      let j = this.filedOfFirst;
      const end = Math.min(l.length, j + (max - n) * 3);
      for (; j < end; j += 3) this.place(l[j]!, u.row, u.body, l[j + 1]!, l[j + 2]!);
      n += (j - this.filedOfFirst) / 3;
      if (j < l.length) {
        this.filedOfFirst = j;
        break;
      }
      this.filedOfFirst = 0;
      done++;
    }
    if (done > 0) this.unsorted.splice(0, done);
    this.unsortedCount -= n;
    return this.unsortedCount;
  }

  /** whether a series has pending arguments */
  has(series: number): boolean {
    this.sort();
    return this.bySeries.has(series);
  }

  /** removes and returns one series' pending arguments */
  take(series: number): string[] | undefined {
    this.sort();
    const e = this.bySeries.get(series);
    if (!e) return undefined;
    const args = this.cut(e);
    this.bySeries.delete(series);
    this.count -= args.length;
    this.prune();
    return args;
  }

  /** removes and yields the series that have waited longest until `budget` updates are out */
  *takeOldest(budget: number): Generator<[series: number, args: string[]]> {
    let taken = 0;
    this.sort();
    try {
      for (const [series, e] of this.bySeries) {
        if (taken >= budget) return;
        const args = this.cut(e);
        this.bySeries.delete(series);
        this.count -= args.length;
        taken += args.length;
        yield [series, args];
      }
    } finally {
      this.prune();
    }
  }

  /** the newest journal row that no pending argument needs, given the newest row written */
  releasedUpTo(newestRow: number): number {
    this.sort();
    const oldest = this.bySeries.values().next().value;
    return oldest ? oldest.row - 1 : newestRow;
  }

  clear(): void {
    this.unsorted = [];
    this.filedOfFirst = 0;
    this.unsortedCount = 0;
    this.bySeries.clear();
    this.count = 0;
    this.firstBody += this.bodies.length;
    this.bodies = [];
  }

  private cut(e: Entry): string[] {
    const r = e.refs;
    const args = new Array<string>(r.length / 3);
    for (let i = 0, k = 0; i < r.length; i += 3, k++) args[k] = this.bodies[r[i]! - this.firstBody]!.slice(r[i + 1], r[i + 2]);
    return args;
  }

  /** drops the texts older than the oldest pending argument's */
  private prune(): void {
    this.sort();
    const oldest = this.bySeries.values().next().value;
    const keepFrom = oldest ? oldest.refs[0]! : this.firstBody + this.bodies.length;
    if (keepFrom > this.firstBody) {
      this.bodies.splice(0, keepFrom - this.firstBody);
      this.firstBody = keepFrom;
    }
  }
}
