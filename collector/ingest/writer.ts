// The one writer path for agent batches: group commit. Requests validated in the same turn of
// the event loop are committed together in one transaction (one fsync) on the next turn, and
// each request is answered only after that commit. Under load this turns thousands of small
// fsyncs per second into a few dozen, and each transaction stays short (capped at
// MAX_GROUP_LINES lines) so queries interleave between them.
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { IngestAck, IngestBatch } from '../../shared/wire.js';
import type { LogStore } from '../storage/types.js';

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

export class GroupWriter {
  private queue: Pending[] = [];
  private scheduled = false;
  constructor(
    private readonly logs: () => LogStore,
    private readonly onFlush: (s: FlushStats) => void = () => {},
  ) {}

  submit(batch: IngestBatch, receivedAt: number): Promise<IngestAck> {
    const lines = batch.segments.reduce((n, s) => n + s.lines.length, 0);
    return new Promise((resolve, reject) => {
      this.queue.push({ batch, receivedAt, lines, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    let n = 0;
    let lines = 0;
    while (n < this.queue.length && (n === 0 || lines + this.queue[n]!.lines <= MAX_GROUP_LINES)) lines += this.queue[n++]!.lines;
    const group = this.queue.splice(0, n);
    this.scheduled = this.queue.length > 0;
    if (this.scheduled) setImmediate(() => this.flush());
    const started = performance.now();
    let acks: IngestAck[];
    try {
      acks = this.logs().ingestMany(group.map((p) => ({ batch: p.batch, receivedAt: p.receivedAt })));
    } catch (err) {
      const e = new RingtailError(ErrorCodes.STORAGE, `storage could not commit the batch, retry later: ${(err as Error).message}`, 503);
      for (const p of group) p.reject(e);
      return;
    }
    this.onFlush({ batches: group.length, lines, ms: performance.now() - started });
    group.forEach((p, i) => p.resolve(acks[i]!));
  }

  /** waits until everything submitted so far is committed (shutdown) */
  async drain(): Promise<void> {
    while (this.queue.length > 0) await new Promise((r) => setImmediate(r));
  }
}
