// The units waiting for a group (pipeline.ts), in arrival order, and how the next group is taken
// from them.
//
// A group closes at the first unit that would take it past its weight, so the units after that
// one have no part in it. Taking a group used to walk the whole queue and copy every unit left
// into a new array: with thousands of requests queued (a fleet starting at once) each group cost
// the whole queue, however small it was. Here a take stops where its group closes and moves only
// what it walked over: the units it took (gone) and the ones it passed over (kept in order, just
// before the untouched rest). Units passed over (their key in flight, the other kind) are still
// walked each time: the kind is asked at take time, as a request's kind changes when its host's
// first group is answered.

export interface WaitingUnit {
  key: string;
  weight: number;
}

export class WaitingQueue<P extends WaitingUnit> {
  /** items[head] onwards wait, in arrival order; the slots before head are cleared */
  private items: Array<P | undefined> = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(p: P): void {
    this.items.push(p);
  }

  /**
   * The next group, and its weight: waiting units in order, passing over those `passOver`
   * names and every later unit of a key passed over (it keeps its place behind the earlier
   * one); closed by the first unit that would take the group past `maxWeight`, whatever else
   * passed it over (the first unit taken always goes). Taken units leave the queue.
   */
  take(passOver: (p: P) => boolean, maxWeight: number): { group: P[]; weight: number } {
    const items = this.items;
    const group: P[] = [];
    const passed: P[] = [];
    const held = new Set<string>();
    let weight = 0;
    let i = this.head;
    while (i < items.length) {
      const p = items[i++]!;
      const over = group.length > 0 && weight + p.weight > maxWeight;
      if (over || held.has(p.key) || passOver(p)) {
        held.add(p.key);
        passed.push(p);
        if (over) break;
        continue;
      }
      group.push(p);
      weight += p.weight;
    }
    if (group.length === 0) return { group, weight };
    // the units passed over close up behind the taken ones, in order, just before the rest
    let at = i;
    for (let k = passed.length - 1; k >= 0; k--) items[--at] = passed[k];
    for (let k = this.head; k < at; k++) items[k] = undefined;
    this.head = at;
    // the cleared front goes once it is most of the array: each slot is copied once at most
    if (this.head > 1024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
    return { group, weight };
  }
}
