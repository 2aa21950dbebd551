// The one writer path: group commit. Requests that arrive while a commit is in progress (or
// within the same turn of the event loop) are committed together in the next transaction, one
// fsync for all of them, and each request is answered only after that commit. Under load this
// turns thousands of small fsyncs per second into a few dozen; each group is capped at
// `maxWeight` (log lines, metric values) so that no single transaction grows long. Agent log
// batches (a writer thread behind `commit`) and metric batches (MetricService) both go through it.
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { IngestAck } from '../../shared/wire.js';
import type { IngestItem } from '../storage/types.js';

export const MAX_GROUP_LINES = 20_000;

interface Pending<T, R> {
  item: T;
  weight: number;
  resolve(ack: R): void;
  reject(err: Error): void;
}

export interface FlushStats {
  /** requests in the group */
  items: number;
  /** their summed weight (lines, values) */
  weight: number;
  ms: number;
}

/**
 * Commits a group: one answer per item, in order, an Error for an item that failed on its own
 * (the others stand). A rejection fails the whole group (nothing of it is acknowledged).
 */
export type CommitFn<T, R> = (items: T[]) => Promise<{ acks: Array<R | Error>; ms: number }>;

export interface GroupOptions<T> {
  weight(item: T): number;
  maxWeight: number;
  onFlush?(s: FlushStats): void;
}

export class GroupWriter<T = IngestItem, R = IngestAck> {
  private queue: Array<Pending<T, R>> = [];
  private busy = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly commit: CommitFn<T, R>,
    private readonly opts: GroupOptions<T>,
  ) {}

  submit(item: T): Promise<R> {
    const weight = this.opts.weight(item);
    return new Promise((resolve, reject) => {
      this.queue.push({ item, weight, resolve, reject });
      if (!this.busy) {
        this.busy = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      let n = 0;
      let weight = 0;
      while (n < this.queue.length && (n === 0 || weight + this.queue[n]!.weight <= this.opts.maxWeight)) weight += this.queue[n++]!.weight;
      const group = this.queue.splice(0, n);
      try {
        const { acks, ms } = await this.commit(group.map((p) => p.item));
        this.opts.onFlush?.({ items: group.length, weight, ms });
        group.forEach((p, i) => {
          const a = acks[i]!;
          if (a instanceof Error) p.reject(a);
          else p.resolve(a);
        });
      } catch (err) {
        const e = new RingtailError(ErrorCodes.STORAGE, `storage could not commit the batch, retry later: ${(err as Error).message}`, 503);
        for (const p of group) p.reject(e);
      }
    }
    this.busy = false;
    for (const f of this.idle.splice(0)) f();
  }

  /** waits until everything submitted so far is committed (shutdown) */
  drain(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }
}

/** The agent log batches' writer: groups capped by lines. */
export function logGroupWriter(commit: CommitFn<IngestItem, IngestAck>, onFlush?: (s: FlushStats) => void): GroupWriter<IngestItem, IngestAck> {
  return new GroupWriter(commit, {
    weight: (it) => it.batch.segments.reduce((n, s) => n + s.lines.length, 0),
    maxWeight: MAX_GROUP_LINES,
    ...(onFlush ? { onFlush } : {}),
  });
}
