// The one writer path: group commit. Requests that arrive while a commit is in progress (or
// within the same turn of the event loop) are committed together in the next transaction, one
// fsync for all of them, and each request is answered only after that commit. Under load this
// turns thousands of small fsyncs per second into a few dozen; each group is capped (log lines,
// metric values) so that no single transaction grows long. `GroupWriter` is the pattern; agent
// log batches use it through `LogWriter` (a writer thread behind its commit), metric batches
// through MetricService.submit.
//
// `LogWriter.submitMany` queues the batches of one request (an agent sending several spooled
// batches at once) as one unit that is never split between two transactions: they commit
// together or not at all, so a failure can never leave a later batch of a stream committed
// without an earlier one (which would move the stream's committed end past lines that were
// never stored).
//
// A request that names, in INGEST_AFTER_HEADER, ends not committed yet (its agent sent it behind
// another one that it overtook on the way: two sockets, two decodes) is held by `LogWriter`
// instead of refused while another ingest request is still arriving or queued, and tried again
// after it, so that it follows the one it overtook without a 409 and a resend (which drained the
// agent's pipeline and, with both requests sent again at once, could overtake again). It is
// refused (409) when nothing is on its way any more or after HOLD_MS. Only log ingest does this
// (the out-of-order acks come from the log store); metric groups never hold.
import type { IngestAck, IngestBatch } from '../../shared/wire.js';
import type { IngestItem } from '../storage/types.js';
import { storageUnavailable, writerSaturated } from './unavailable.js';

export const MAX_GROUP_LINES = 20_000;
/**
 * Queued (not yet committing) log lines at most: ten groups, a few seconds of commits. Beyond
 * it a new request is refused with 503 and Retry-After rather than held in memory, where it
 * would only wait longer than its sender's timeout and be sent again.
 */
export const MAX_QUEUED_LINES = 200_000;
/** longest wait of a request held for the one it overtook */
export const HOLD_MS = 2_000;

interface Pending<T, R> {
  unit: T;
  weight: number;
  resolve(ack: R): void;
  reject(err: Error): void;
}

/**
 * Commits a group of units: one answer per unit, in order, or an Error for a unit that failed
 * on its own (the others stand). A rejection fails the whole group: nothing of it is
 * acknowledged, every unit gets a 503.
 */
export type GroupCommitFn<T, R> = (units: T[]) => Promise<{ acks: Array<R | Error>; ms: number }>;

export interface GroupOptions<T> {
  weight(unit: T): number;
  /** a group takes units while their summed weight stays within this (the first always) */
  maxWeight: number;
  /** `admit` refuses a unit that would take the queued weight past this (one alone is always admitted) */
  maxQueuedWeight?: number;
  /** what a refused unit is, for the 503's message ('the batch') */
  what?: string;
}

export class GroupWriter<T, R> {
  private queue: Array<Pending<T, R>> = [];
  private busy = false;
  private idle: Array<() => void> = [];
  private queuedWeight = 0;
  /** moving average of a group's commit time (ms), for Retry-After */
  private commitMs = 0;

  constructor(
    private readonly commit: GroupCommitFn<T, R>,
    private readonly opts: GroupOptions<T>,
  ) {}

  submit(unit: T): Promise<R> {
    return new Promise((resolve, reject) => this.enqueue(unit, resolve, reject));
  }

  /**
   * `submit` with callbacks, called synchronously when the unit's group has committed: a unit
   * queued again from `resolve` joins the queue before the next group is taken from it.
   */
  enqueue(unit: T, resolve: (ack: R) => void, reject: (err: Error) => void): void {
    const weight = this.opts.weight(unit);
    this.queuedWeight += weight;
    this.queue.push({ unit, weight, resolve, reject });
    if (!this.busy) {
      this.busy = true;
      setImmediate(() => void this.flush());
    }
  }

  /** units waiting for a group */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Throws a 503 (UnavailableError) when a new unit of this weight would take the queue past
   * maxQueuedWeight: the writer is saturated. Retry-After: the time the queue ahead of it takes
   * to commit at the recent pace, 1 to MAX_SATURATED_RETRY_S seconds. Only for new requests:
   * a unit already accepted (held, queued again) never meets this.
   */
  admit(weight: number): void {
    const max = this.opts.maxQueuedWeight;
    if (max === undefined || this.queuedWeight === 0 || this.queuedWeight + weight <= max) return;
    throw writerSaturated(this.queuedWeight, max, Math.ceil(this.queuedWeight / this.opts.maxWeight) + 1, this.commitMs, this.opts.what ?? 'the batch');
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      let n = 0;
      let weight = 0;
      while (n < this.queue.length && (n === 0 || weight + this.queue[n]!.weight <= this.opts.maxWeight)) weight += this.queue[n++]!.weight;
      const group = this.queue.splice(0, n);
      this.queuedWeight -= weight;
      const started = performance.now();
      try {
        const { acks } = await this.commit(group.map((p) => p.unit));
        this.commitMs = this.commitMs === 0 ? performance.now() - started : 0.8 * this.commitMs + 0.2 * (performance.now() - started);
        group.forEach((p, i) => {
          const a = acks[i]!;
          if (a instanceof Error) p.reject(a);
          else p.resolve(a);
        });
      } catch (err) {
        const e = storageUnavailable(this.opts.what ?? 'the batch', err);
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

export interface FlushStats {
  batches: number;
  lines: number;
  ms: number;
}

/** A batch as queued for its group: `B` is what `stage` made of it (the batch itself by default). */
export interface StagedItem<B> {
  batch: B;
  receivedAt: number;
  after?: Record<string, number>;
}

export type CommitFn<B = IngestBatch> = (items: Array<StagedItem<B>>) => Promise<{ acks: IngestAck[]; ms: number }>;

/** The batches of one request, committed together. */
interface LogUnit<B> {
  batches: B[];
  receivedAt: number;
  after: Record<string, number> | undefined;
  lines: number;
  /** set when first held (out of order, something else on its way) */
  heldUntil?: number;
}

/**
 * Batches made ready for a commit ahead of it (IngestWriter.stageMany): what the writer keeps of
 * them until their group, and what a receiver that may send them again keeps instead of their
 * line objects. Opaque but for these.
 */
export interface StagedUnit {
  readonly lines: number;
  readonly receivedAt: number;
  /** the batches' hosts, in order */
  readonly hosts: readonly string[];
}

/** What receivers see of the log writer, whatever it stages batches as. */
export interface IngestWriter {
  submit(batch: IngestBatch, receivedAt: number): Promise<IngestAck>;
  submitMany(batches: IngestBatch[], receivedAt: number, after?: Record<string, number>): Promise<IngestAck[]>;
  /**
   * The batches staged now (the pipeline run, the writer thread's packed form), their line
   * objects no longer needed: a receiver that holds a unit until it is committed, to send it
   * again if it fails (syslog), holds this, a few objects, instead of an object per line
   * through two commits (promoted, then collected by full collections: GC on the event loop and
   * V8's helper threads was the syslog path's largest cost beyond the agent path's).
   */
  stageMany(batches: IngestBatch[], receivedAt: number): StagedUnit;
  /** submitMany of a staged unit; the unit is not changed, so a failed one can be submitted again */
  submitStaged(unit: StagedUnit): Promise<IngestAck[]>;
  /** The unit with each segment renamed `stream(source, host)` and its lines numbered from 0 (a new stream). */
  restream(unit: StagedUnit, stream: (source: string, host: string) => string): StagedUnit;
  arriving(delta: 1 | -1): void;
  drain(): Promise<void>;
}

function linesOf(batches: IngestBatch[]): number {
  let lines = 0;
  for (const b of batches) for (const s of b.segments) lines += s.lines.length;
  return lines;
}

/** restream for batches staged as themselves (the default stage): new segments, the lines renumbered in place. */
export function restreamBatch(b: IngestBatch, stream: (source: string, host: string) => string): IngestBatch {
  return {
    ...b,
    segments: b.segments.map((seg) => {
      for (let i = 0; i < seg.lines.length; i++) seg.lines[i]!.offset = i;
      return { ...seg, stream: stream(seg.source, b.host), start: 0, end: seg.lines.length };
    }),
  };
}

/**
 * Agent (and syslog) log batches over GroupWriter, groups capped by lines. `stage` turns each
 * batch into what waits in the queue, when it is submitted: the writer thread's packed form
 * (pack.ts), so that a request's parsed line objects die young instead of living through the
 * commits ahead of it and being promoted (logs bench, JSON corpus: garbage collection was ~30 %
 * of the event loop's busy time). A unit held and committed again keeps what it was staged as.
 */
export class LogWriter<B = IngestBatch> implements IngestWriter {
  private readonly group: GroupWriter<LogUnit<B>, IngestAck[]>;
  /** ingest requests received but not submitted yet (being read, decoded, validated) */
  private incoming = 0;
  /** held requests waiting for a submission, an arrival settled, or their HOLD_MS */
  private readonly waiting = new Set<() => void>();
  private idle: Array<() => void> = [];

  constructor(
    commit: CommitFn<B>,
    onFlush: (s: FlushStats) => void = () => {},
    private readonly holdMs = HOLD_MS,
    maxQueuedLines = MAX_QUEUED_LINES,
    private readonly stage: (batch: IngestBatch, receivedAt: number) => B = (batch) => batch as B,
    private readonly restreamOne: (batch: B, stream: (source: string, host: string) => string) => B = (batch, stream) => restreamBatch(batch as IngestBatch, stream) as B,
  ) {
    this.group = new GroupWriter<LogUnit<B>, IngestAck[]>(
      async (units) => {
        // `after` on every batch of a request: if the first is held back, so are the others (the
        // committed ends it checks do not move), and the request stays all-or-nothing.
        const items = units.flatMap((u) => u.batches.map((batch) => ({ batch, receivedAt: u.receivedAt, ...(u.after ? { after: u.after } : {}) })));
        const { acks, ms } = await commit(items);
        onFlush({ batches: items.length, lines: units.reduce((n, u) => n + u.lines, 0), ms });
        let i = 0;
        const out = units.map((u) => acks.slice(i, (i += u.batches.length)));
        return { acks: out, ms };
      },
      { weight: (u) => u.lines, maxWeight: MAX_GROUP_LINES, maxQueuedWeight: maxQueuedLines, what: 'the batch' },
    );
  }

  submit(batch: IngestBatch, receivedAt: number): Promise<IngestAck> {
    return this.submitMany([batch], receivedAt).then((acks) => acks[0]!);
  }

  /** Commits the batches, in this order, in one transaction; resolves with their acks. */
  submitMany(batches: IngestBatch[], receivedAt: number, after?: Record<string, number>): Promise<IngestAck[]> {
    const lines = linesOf(batches);
    let unit: LogUnit<B>;
    try {
      this.group.admit(lines);
      unit = { batches: batches.map((b) => this.stage(b, receivedAt)), receivedAt, after, lines };
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.enqueueAdmitted(unit);
  }

  stageMany(batches: IngestBatch[], receivedAt: number): StagedUnit {
    const unit: LogUnit<B> & StagedUnit = { batches: batches.map((b) => this.stage(b, receivedAt)), receivedAt, after: undefined, lines: linesOf(batches), hosts: batches.map((b) => b.host) };
    return unit;
  }

  submitStaged(staged: StagedUnit): Promise<IngestAck[]> {
    const s = staged as LogUnit<B> & StagedUnit;
    try {
      this.group.admit(s.lines);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    // a unit of its own: heldUntil is set on it (never for a unit without `after`, but the staged one stays as it was)
    return this.enqueueAdmitted({ batches: s.batches, receivedAt: s.receivedAt, after: undefined, lines: s.lines });
  }

  /** an admitted unit into the queue; resolves with its acks once committed */
  private enqueueAdmitted(unit: LogUnit<B>): Promise<IngestAck[]> {
    return new Promise((resolve, reject) => {
      this.enqueue(unit, resolve, reject);
      this.wake();
    });
  }

  restream(staged: StagedUnit, stream: (source: string, host: string) => string): StagedUnit {
    const s = staged as LogUnit<B> & StagedUnit;
    const unit: LogUnit<B> & StagedUnit = { ...s, batches: s.batches.map((b) => this.restreamOne(b, stream)) };
    return unit;
  }

  /**
   * An ingest request has started (+1) or has been submitted or failed (-1): while one is on its
   * way, a request that overtook it is held rather than refused.
   */
  arriving(delta: 1 | -1): void {
    this.incoming += delta;
    if (delta < 0) this.wake();
  }

  private enqueue(unit: LogUnit<B>, resolve: (acks: IngestAck[]) => void, reject: (err: Error) => void): void {
    this.group.enqueue(
      unit,
      (acks) => {
        const now = Date.now();
        const waitFor = this.incoming > 0 || this.group.queued > 0;
        if (!acks.some((a) => a.out_of_order) || !waitFor || now >= (unit.heldUntil ??= now + this.holdMs)) return resolve(acks);
        // Queued meanwhile (the request it overtook among them, maybe): go right behind them.
        if (this.group.queued > 0) return this.enqueue(unit, resolve, reject);
        // Only on its way: wait for it, then try again; if nothing came, this is the last try
        // (answered out of order, a 409, if still not reached).
        const retry = () => {
          clearTimeout(timer);
          this.waiting.delete(retry);
          this.enqueue(unit, resolve, reject);
          if (this.waiting.size === 0) for (const f of this.idle.splice(0)) f();
        };
        const timer = setTimeout(retry, unit.heldUntil - now);
        this.waiting.add(retry);
      },
      reject,
    );
  }

  /** Held requests try again, after whatever called this has queued its own (a microtask later). */
  private wake(): void {
    if (this.waiting.size === 0) return;
    queueMicrotask(() => {
      for (const f of [...this.waiting]) f();
    });
  }

  /** waits until everything submitted so far is committed or refused (shutdown) */
  async drain(): Promise<void> {
    await this.group.drain();
    while (this.waiting.size > 0) {
      await new Promise<void>((r) => this.idle.push(r));
      await this.group.drain();
    }
  }
}
