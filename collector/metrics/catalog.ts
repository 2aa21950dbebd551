// The metric service's series catalog: every series' host, key, type, step and last update, by
// series name, as a Map of names to entries reads it — but held per host, as numbers in one
// Float64Array, outside the JS heap.
//
// A month of a fleet (1,000 two-hour instances a day) is 2.6 M series, nearly all of retired
// hosts. As a Map of 2.6 M names to entry objects it was three heap objects per series and
// ~156 B: ~400 MB and 8 M objects that every full garbage collection of the event loop's heap
// marks again. Per host in JS columns (a Map of key strings to slots, four arrays) it was still
// ~77–103 B of heap per series, and the event loop's heap is the one that V8 lets grow to ~4× its
// live data between full collections: under `npm run bench -- collector load` (1,000 hosts × 60
// series) the catalog was ~4.6 MB of the event loop's ~30 MB live, the largest structure of its
// own there (heap snapshot, docs/benchmarks/notebook.md). Here a metric key is a small number
// shared by every host that has it (KeyIds), a host's series are rows of [key id, type, step,
// last update] sorted by key id in one typed array (found by binary search), and only the
// array's header is on the heap: ~32 B per series off the heap and ~0.2 KB of heap per host
// (test/unit/metrics-catalog-heap). An entry object is made only when asked for.
import { seriesName, splitSeriesName } from './key.js';
import type { SeriesEntry } from './reads.js';

interface SharedKey {
  metric: string;
  name: string;
  labels: Record<string, string>;
}

/** numbers per series in a host's rows: key id, type index, step, last update (seconds) */
const ROW = 4;

/** One number per metric key in use, shared by every host's series of it, counted so that keys no series has any more are let go. */
class KeyIds {
  private readonly byMetric = new Map<string, number>();
  readonly keys: Array<SharedKey | undefined> = [];
  private readonly uses: number[] = [];
  private readonly free: number[] = [];

  find(metric: string): number | undefined {
    return this.byMetric.get(metric);
  }

  acquire(k: SharedKey): number {
    let id = this.byMetric.get(k.metric);
    if (id === undefined) {
      id = this.free.pop() ?? this.keys.length;
      this.byMetric.set(k.metric, id);
      this.keys[id] = k;
      this.uses[id] = 0;
    }
    this.uses[id]!++;
    return id;
  }

  release(id: number): void {
    if (--this.uses[id]! > 0) return;
    this.byMetric.delete(this.keys[id]!.metric);
    this.keys[id] = undefined;
    this.free.push(id);
  }
}

/** one host's series: `n` rows of ROW numbers, sorted by key id */
class HostSeries {
  rows = new Float64Array(ROW * 8);
  n = 0;

  constructor(readonly host: string) {}

  /** the row of key id `id`, or -(insertion point) - 1 */
  find(id: number): number {
    const r = this.rows;
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const k = r[mid * ROW]!;
      if (k < id) lo = mid + 1;
      else if (k > id) hi = mid - 1;
      else return mid;
    }
    return -lo - 1;
  }

  insert(at: number, id: number): void {
    if ((this.n + 1) * ROW > this.rows.length) {
      const grown = new Float64Array(this.rows.length * 2);
      grown.set(this.rows.subarray(0, this.n * ROW));
      this.rows = grown;
    }
    this.rows.copyWithin((at + 1) * ROW, at * ROW, this.n * ROW);
    this.rows[at * ROW] = id;
    this.n++;
  }

  remove(at: number): void {
    this.rows.copyWithin(at * ROW, (at + 1) * ROW, this.n * ROW);
    this.n--;
    // a host whose series were mostly withdrawn gives the memory back
    if (this.rows.length > ROW * 32 && this.n * ROW * 4 <= this.rows.length) this.rows = this.rows.slice(0, this.rows.length / 2);
  }
}

export class SeriesCatalog {
  private readonly hosts = new Map<string, HostSeries>();
  private readonly ids = new KeyIds();
  /** the catalog's type strings (a handful: rrdtool's data source types), by index */
  private readonly types: string[] = [];
  private count = 0;

  constructor(
    /** the one key object per metric key (plan.ts SharedKeys) */
    private readonly share: (metric: string, name: string, labels: Record<string, string>) => SharedKey,
  ) {}

  get size(): number {
    return this.count;
  }

  private typeIndex(type: string): number {
    const i = this.types.indexOf(type);
    return i >= 0 ? i : this.types.push(type) - 1;
  }

  private entry(h: HostSeries, row: number): SeriesEntry {
    const r = h.rows;
    const o = row * ROW;
    const k = this.ids.keys[r[o]!]!;
    return { host: h.host, metric: k.metric, name: k.name, labels: k.labels, type: this.types[r[o + 1]!]!, step: r[o + 2]!, last_update: r[o + 3]! };
  }

  private locate(name: string): { h: HostSeries; row: number } | undefined {
    const split = splitSeriesName(name);
    if (!split) return undefined;
    const h = this.hosts.get(split.host);
    const id = h && this.ids.find(split.key);
    if (id === undefined) return undefined;
    const row = h!.find(id);
    return row < 0 ? undefined : { h: h!, row };
  }

  get(name: string): SeriesEntry | undefined {
    const at = this.locate(name);
    return at && this.entry(at.h, at.row);
  }

  has(name: string): boolean {
    return this.locate(name) !== undefined;
  }

  /** Adds or replaces a series (`e.host` and `e.metric` are its name's). */
  set(name: string, e: SeriesEntry): this {
    let h = this.hosts.get(e.host);
    if (!h) this.hosts.set(e.host, (h = new HostSeries(e.host)));
    let id = this.ids.find(e.metric);
    let row = id === undefined ? -1 : h.find(id);
    if (id === undefined || row < 0) {
      id = this.ids.acquire(this.share(e.metric, e.name, e.labels));
      row = -h.find(id) - 1;
      h.insert(row, id);
      this.count++;
    }
    const o = row * ROW;
    h.rows[o + 1] = this.typeIndex(e.type);
    h.rows[o + 2] = e.step;
    h.rows[o + 3] = e.last_update;
    return this;
  }

  /** a series' last update (seconds), after a commit */
  setLastUpdate(name: string, seconds: number): void {
    const at = this.locate(name);
    if (at) at.h.rows[at.row * ROW + 3] = seconds;
  }

  delete(name: string): boolean {
    const at = this.locate(name);
    if (!at) return false;
    const { h, row } = at;
    this.ids.release(h.rows[row * ROW]!);
    h.remove(row);
    this.count--;
    if (h.n === 0) this.hosts.delete(h.host);
    return true;
  }

  /** how many series a host has (0 for one never seen or withdrawn) */
  seriesOf(host: string): number {
    return this.hosts.get(host)?.n ?? 0;
  }

  /** one host's series, as they are when the host is reached (entries made now) */
  private entriesOf(h: HostSeries): SeriesEntry[] {
    const out = new Array<SeriesEntry>(h.n);
    for (let i = 0; i < h.n; i++) out[i] = this.entry(h, i);
    return out;
  }

  /** one host's series (entries made now) */
  *ofHost(host: string): IterableIterator<SeriesEntry> {
    const h = this.hosts.get(host);
    if (h) yield* this.entriesOf(h);
  }

  *values(): IterableIterator<SeriesEntry> {
    for (const h of [...this.hosts.values()]) yield* this.entriesOf(h);
  }

  *entries(): IterableIterator<[string, SeriesEntry]> {
    for (const e of this.values()) yield [seriesName(e.host, e.metric), e];
  }

  [Symbol.iterator](): IterableIterator<[string, SeriesEntry]> {
    return this.entries();
  }
}
