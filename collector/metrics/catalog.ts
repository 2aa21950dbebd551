// The metric service's series catalog: every series' host, key, type, step and last update, by
// series name, as a Map of names to entries reads it — but held per host, in columns.
//
// A month of a fleet (1,000 two-hour instances a day) is 2.6 M series, nearly all of retired
// hosts. As a Map of 2.6 M names to entry objects it was three heap objects per series (the
// name, the entry, its last update boxed as a number above 2^30) and ~156 B: ~400 MB and 8 M
// objects that every full garbage collection of the event loop's heap marks again. Here a host
// is one record whose series are a few arrays indexed by the shared key strings (plan.ts
// SharedKeys), ~103 B per series and no object of its own (test/unit/metrics-catalog-heap); an
// entry object is made only when asked for. One host's series are found without a scan of all.
import { seriesName, splitSeriesName } from './key.js';
import type { SeriesEntry } from './reads.js';

interface SharedKey {
  metric: string;
  name: string;
  labels: Record<string, string>;
}

/** one host's series, by metric key: slot → key, type, step, last update */
class HostSeries {
  readonly slots = new Map<string, number>();
  readonly key: Array<SharedKey | undefined> = [];
  readonly type: string[] = [];
  readonly step: number[] = [];
  /** seconds; a double array (not boxed per element) */
  readonly last: number[] = [];
  readonly free: number[] = [];

  constructor(readonly host: string) {}

  entry(slot: number): SeriesEntry {
    const k = this.key[slot]!;
    return { host: this.host, metric: k.metric, name: k.name, labels: k.labels, type: this.type[slot]!, step: this.step[slot]!, last_update: this.last[slot]! };
  }
}

export class SeriesCatalog {
  private readonly hosts = new Map<string, HostSeries>();
  private count = 0;

  constructor(
    /** the one key object per metric key (plan.ts SharedKeys) */
    private readonly share: (metric: string, name: string, labels: Record<string, string>) => SharedKey,
  ) {}

  get size(): number {
    return this.count;
  }

  private locate(name: string): { h: HostSeries; slot: number } | undefined {
    const split = splitSeriesName(name);
    if (!split) return undefined;
    const h = this.hosts.get(split.host);
    const slot = h?.slots.get(split.key);
    return slot === undefined ? undefined : { h: h!, slot };
  }

  get(name: string): SeriesEntry | undefined {
    const at = this.locate(name);
    return at && at.h.entry(at.slot);
  }

  has(name: string): boolean {
    return this.locate(name) !== undefined;
  }

  /** Adds or replaces a series (`e.host` and `e.metric` are its name's). */
  set(name: string, e: SeriesEntry): this {
    let h = this.hosts.get(e.host);
    if (!h) this.hosts.set(e.host, (h = new HostSeries(e.host)));
    // the shared key string indexes the host's series: no string of its own per series
    const k = this.share(e.metric, e.name, e.labels);
    let slot = h.slots.get(k.metric);
    if (slot === undefined) {
      slot = h.free.pop() ?? h.key.length;
      h.slots.set(k.metric, slot);
      this.count++;
    }
    h.key[slot] = k;
    h.type[slot] = e.type;
    h.step[slot] = e.step;
    h.last[slot] = e.last_update;
    return this;
  }

  /** a series' last update (seconds), after a commit */
  setLastUpdate(name: string, seconds: number): void {
    const at = this.locate(name);
    if (at) at.h.last[at.slot] = seconds;
  }

  delete(name: string): boolean {
    const split = splitSeriesName(name);
    const h = split && this.hosts.get(split.host);
    const slot = h?.slots.get(split!.key);
    if (!h || slot === undefined) return false;
    h.slots.delete(split!.key);
    h.key[slot] = undefined;
    h.free.push(slot);
    this.count--;
    if (h.slots.size === 0) this.hosts.delete(h.host);
    return true;
  }

  /** how many series a host has (0 for one never seen or withdrawn) */
  seriesOf(host: string): number {
    return this.hosts.get(host)?.slots.size ?? 0;
  }

  /** one host's series (entries made now) */
  *ofHost(host: string): IterableIterator<SeriesEntry> {
    const h = this.hosts.get(host);
    if (h) for (const slot of [...h.slots.values()]) yield h.entry(slot);
  }

  *values(): IterableIterator<SeriesEntry> {
    for (const h of [...this.hosts.values()]) for (const slot of [...h.slots.values()]) yield h.entry(slot);
  }

  *entries(): IterableIterator<[string, SeriesEntry]> {
    for (const e of this.values()) yield [seriesName(e.host, e.metric), e];
  }

  [Symbol.iterator](): IterableIterator<[string, SeriesEntry]> {
    return this.entries();
  }
}
