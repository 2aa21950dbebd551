// The one writer path for agent batches: group commit. Batches that arrive while a commit is
// in progress (or within the same turn of the event loop) are committed together in the next
// transaction, one fsync for all of them, and each request is answered only after that commit.
// Under load this turns thousands of small fsyncs per second into a few dozen; each group is
// capped at MAX_GROUP_LINES lines so that no single transaction grows long.
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { IngestAck, IngestBatch } from '../../shared/wire.js';
import type { IngestItem } from '../storage/types.js';

export const MAX_GROUP_LINES = 20_000;

interface Pending {
  batch: IngestBatch;
  receivedAt: number;
  lines: number;
  resolve(ack: IngestAck): void;
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

  constructor(
    private readonly commit: CommitFn,
    private readonly onFlush: (s: FlushStats) => void = () => {},
  ) {}

  submit(batch: IngestBatch, receivedAt: number): Promise<IngestAck> {
    const lines = batch.segments.reduce((n, s) => n + s.lines.length, 0);
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, receivedAt, lines, resolve, reject });
      if (!this.busy) {
        this.busy = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      let n = 0;
      let lines = 0;
      while (n < this.queue.length && (n === 0 || lines + this.queue[n]!.lines <= MAX_GROUP_LINES)) lines += this.queue[n++]!.lines;
      const group = this.queue.splice(0, n);
      try {
        const { acks, ms } = await this.commit(group.map((p) => ({ batch: p.batch, receivedAt: p.receivedAt })));
        this.onFlush({ batches: group.length, lines, ms });
        group.forEach((p, i) => p.resolve(acks[i]!));
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
