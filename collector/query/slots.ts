// Counters of things in progress per key (a token id), with a cap per key and, optionally, in
// total: live-tail connections and concurrent `re` queries. Taking a slot either succeeds and
// returns its release, or throws the coded refusal naming the configuration key that set the cap.
import { ErrorCodes, RingtailError } from '../../shared/errors.js';

export interface SlotLimits {
  perKey: number;
  /** config key of perKey, named in the refusal */
  perKeyName: string;
  total?: number;
  totalName?: string;
  /** what is being limited, for the message ("live-tail clients") */
  what: string;
}

export class KeyedSlots {
  private readonly held = new Map<string, number>();
  private sum = 0;

  constructor(private readonly limits: SlotLimits) {}

  get total(): number {
    return this.sum;
  }

  count(key: string): number {
    return this.held.get(key) ?? 0;
  }

  /**
   * Takes a slot for `key`, or throws: 503 when the total is reached (the collector is busy; any
   * caller may get in once others leave), 429 when this key alone holds its share.
   * The release it returns is idempotent.
   */
  acquire(key: string): () => void {
    const l = this.limits;
    if (l.total !== undefined && this.sum >= l.total) {
      throw new RingtailError(ErrorCodes.RATE_LIMITED, `${l.what}: ${this.sum} open, the most the collector allows (${l.totalName} = ${l.total}); retry later`, 503);
    }
    const mine = this.count(key);
    if (mine >= l.perKey) {
      throw new RingtailError(ErrorCodes.RATE_LIMITED, `${l.what}: this token already has ${mine} open, the most one token may have (${l.perKeyName} = ${l.perKey})`, 429);
    }
    this.held.set(key, mine + 1);
    this.sum++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = this.count(key) - 1;
      if (n > 0) this.held.set(key, n);
      else this.held.delete(key);
      this.sum--;
    };
  }
}
