// The host registry's records in host-name order (registry.ts): every listing and every alert
// cycle walks them in that order, so the order is kept as hosts come and go instead of sorted
// again for each walk.
import type { HostState } from '../storage/types.js';

export class NameOrder<R extends { host: string; state: HostState }> {
  /**
   * Records in host-name order, kept in order as hosts come and go (a binary search and one
   * splice each): it was rebuilt by a sort of every known host after any new one, so while
   * 1,000 hosts appeared each listing and alert cycle sorted 31,000 records (fleet benchmark).
   */
  private sorted: R[] | null = null;
  /**
   * The records not retired, in name order (the default listing and every alert cycle, which
   * evaluation on arrival runs for each metric commit): rebuilt from `sorted` only when a host
   * retires or comes back from retirement, so a listing walks the ~1,200 live hosts, not the
   * 30,000 known.
   */
  private liveSorted: R[] | null = null;

  /** `records`: every record the registry holds, for the first sort */
  constructor(private readonly records: () => Iterable<R>) {}

  /** the records in name order (sorted once, then kept in order) */
  inOrder(): R[] {
    return (this.sorted ??= [...this.records()].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0)));
  }

  /** where `host` is or would go in the name order */
  private slot(sorted: R[], host: string): number {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]!.host < host) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** a new record into the name order (when one exists already) */
  place(r: R): void {
    if (this.sorted) this.sorted.splice(this.slot(this.sorted, r.host), 0, r);
    if (this.liveSorted && r.state !== 'retired') this.liveSorted.splice(this.slot(this.liveSorted, r.host), 0, r);
  }

  /** the records not retired, in name order */
  liveInOrder(): R[] {
    return (this.liveSorted ??= this.inOrder().filter((r) => r.state !== 'retired'));
  }

  /** a record dropped from memory (forget, purge) */
  drop(host: string): void {
    if (this.sorted) {
      const i = this.slot(this.sorted, host);
      if (this.sorted[i]?.host === host) this.sorted.splice(i, 1);
      else this.sorted = null;
    }
    if (this.liveSorted) {
      const i = this.slot(this.liveSorted, host);
      if (this.liveSorted[i]?.host === host) this.liveSorted.splice(i, 1);
    }
  }

  /** a host retired or came back from retirement: the live order is made again when next asked */
  retiredChanged(): void {
    this.liveSorted = null;
  }
}
