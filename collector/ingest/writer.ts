// The one writer path for agent batches: group commit. Batches that arrive while a commit is
// in progress (or within the same turn of the event loop) are committed together in the next
// transaction, one fsync for all of them, and each request is answered only after that commit.
// Under load this turns thousands of small fsyncs per second into a few dozen; each group is
// capped at MAX_GROUP_LINES lines so that no single transaction grows long.
// `submitMany` queues the batches of one request (an agent sending several spooled batches at
// once) as one unit that is never split between two transactions: they commit together or not
// at all, so a failure can never leave a later batch of a stream committed without an earlier
// one (which would move the stream's committed end past lines that were never stored).
//
// A request that names, in INGEST_AFTER_HEADER, ends not committed yet (its agent sent it behind
// another one that it overtook on the way: two sockets, two decodes) is held instead of refused
// while another ingest request is still arriving or queued, and tried again after the next
// commit, so that it follows the one it overtook without a 409 and a resend (which drained the
// agent's pipeline and, with both requests sent again at once, could overtake again). It is
// refused (409) when nothing is on its way any more or after HOLD_MS.
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { IngestAck, IngestBatch } from '../../shared/wire.js';
import type { IngestItem } from '../storage/types.js';

export const MAX_GROUP_LINES = 20_000;
/** longest wait of a request held for the one it overtook */
export const HOLD_MS = 2_000;

interface Pending {
  batches: IngestBatch[];
  receivedAt: number;
  after: Record<string, number> | undefined;
  lines: number;
  /** set when first held (out of order, something else on its way) */
  heldUntil?: number;
  resolve(acks: IngestAck[]): void;
  reject(err: Error): void;
}

export interface FlushStats {
  batches: number;
  lines: number;
  ms: number;
}

export type CommitFn = (items: IngestItem[]) => Promise<{ acks: IngestAck[]; ms: number }>;

export class GroupWriter {
  private queue: Pending[] = [];
  private busy = false;
  private idle: Array<() => void> = [];
  /** ingest requests received but not submitted yet (being read, decoded, validated) */
  private incoming = 0;
  /** wakes a flush that waits with held requests only */
  private nudge: (() => void) | null = null;

  constructor(
    private readonly commit: CommitFn,
    private readonly onFlush: (s: FlushStats) => void = () => {},
    private readonly holdMs = HOLD_MS,
  ) {}

  submit(batch: IngestBatch, receivedAt: number): Promise<IngestAck> {
    return this.submitMany([batch], receivedAt).then((acks) => acks[0]!);
  }

  /** Commits the batches, in this order, in one transaction; resolves with their acks. */
  submitMany(batches: IngestBatch[], receivedAt: number, after?: Record<string, number>): Promise<IngestAck[]> {
    let lines = 0;
    for (const b of batches) for (const s of b.segments) lines += s.lines.length;
    return new Promise((resolve, reject) => {
      this.queue.push({ batches, receivedAt, after, lines, resolve, reject });
      this.nudge?.();
      if (!this.busy) {
        this.busy = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /**
   * An ingest request has started (+1) or has been submitted or failed (-1): while one is on its
   * way, a request that overtook it is held rather than refused.
   */
  arriving(delta: 1 | -1): void {
    this.incoming += delta;
    if (delta < 0) this.nudge?.();
  }

  private async flush(): Promise<void> {
    const held: Pending[] = [];
    while (this.queue.length > 0 || held.length > 0) {
      if (this.queue.length === 0) {
        // Only held requests: wait for the next submission, for the last arriving request to be
        // settled, or for the earliest hold to run out; then try them again.
        const until = Math.min(...held.map((p) => p.heldUntil!));
        if (this.incoming > 0 && Date.now() < until) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(done, Math.max(0, until - Date.now()));
            const self = this;
            function done(): void {
              clearTimeout(t);
              self.nudge = null;
              resolve();
            }
            this.nudge = done;
          });
        }
        // if nothing came, this is their last try (refused with 409 if still out of order)
      }
      // held requests go after what arrived meanwhile (the request they overtook among it)
      this.queue.push(...held.splice(0));
      let n = 0;
      let lines = 0;
      while (n < this.queue.length && (n === 0 || lines + this.queue[n]!.lines <= MAX_GROUP_LINES)) lines += this.queue[n++]!.lines;
      const group = this.queue.splice(0, n);
      try {
        // `after` on every batch of a request: if the first is held back, so are the others (the
        // committed ends it checks do not move), and the request stays all-or-nothing.
        const items = group.flatMap((p) => p.batches.map((batch) => ({ batch, receivedAt: p.receivedAt, ...(p.after ? { after: p.after } : {}) })));
        const { acks, ms } = await this.commit(items);
        this.onFlush({ batches: items.length, lines, ms });
        let i = 0;
        const now = Date.now();
        for (const p of group) {
          const mine = acks.slice(i, i + p.batches.length);
          i += p.batches.length;
          if (mine.some((a) => a.out_of_order) && (this.incoming > 0 || this.queue.length > 0) && now < (p.heldUntil ??= now + this.holdMs)) {
            held.push(p);
            continue;
          }
          p.resolve(mine);
        }
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
