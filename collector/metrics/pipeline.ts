// Group commit with several groups on their way to the metric store's thread at once.
//
// GroupWriter (ingest/writer.ts) keeps one group in flight: a request arriving just after a group
// left waited for that group's whole round trip (plan here, create and journal there, the fsync,
// the answer back through both event loops) and then for its own. On a loaded machine the round
// trip is mostly the two threads waiting for a core, not work: fleet benchmark 149.6 ms and load
// benchmark ≤ 500 ms Server-Timing p99 with the store thread busy a few ms per group. Here a
// group is planned and sent as soon as it is formed, up to `maxInFlight` of them; the thread
// commits what has reached it together (store-worker.ts), one fsync for all, and answers each.
//
// Order and exactly once: a request is acknowledged only after the commit holding its values.
// Requests with the same key (the host) are never in flight in two groups at once: a later one
// waits in the queue until the earlier group is answered, so that it is planned against the
// catalog that group's answer left (last update times, series created or not), exactly as with
// one group in flight. Groups are sent in order and the thread commits them in that order
// (writes of the same kind: see below).
//
// Heavy units (`heavy`: a host's first request, which creates its series) go in groups of their
// own, smaller (`maxHeavyWeight`) and holding at most `maxHeavyInFlight` places. Mixed in with
// ordinary ones, 1,000 agents appearing in 10 s made groups of 5,000 new series merged by four on
// the thread: every ordinary request of such a group waited for 20,000 creations, and new ones
// queued behind four places all taken by them (load benchmark: metric ack p99 360 ms, all of it
// first requests and the requests grouped with them). The thread commits light writes first.
import { storageUnavailable, writerSaturated } from '../ingest/unavailable.js';
import { WaitingQueue } from './waiting-queue.js';

/** ms of planning groups in one turn of the event loop, at most (the last group may pass it) */
export const TURN_BUDGET_MS = 10;

export interface PipelineOptions<T> {
  weight(unit: T): number;
  /** units of one key are committed in order, never two groups of them at once */
  key(unit: T): string;
  /** a group takes units while their summed weight stays within this (the first always) */
  maxWeight: number;
  /** groups sent and not answered yet, at most */
  maxInFlight: number;
  /** a unit whose commit is slow (creates series): grouped with its kind only; none when absent */
  heavy?(unit: T): boolean;
  /** a heavy group's weight, at most (the first unit always) */
  maxHeavyWeight?: number;
  /** of maxInFlight, the places heavy groups may hold (the rest stay for light ones) */
  maxHeavyInFlight?: number;
  /** `admit` refuses a unit that would take the queued weight past this (one alone is always admitted) */
  maxQueuedWeight: number;
  /** what a refused unit is, for the 503's message */
  what: string;
}

/**
 * Starts one group's commit: called synchronously in group order (what it plans must happen
 * before it returns), resolved with one answer per unit once durable. A rejection fails the
 * whole group (a 503 for each unit).
 */
export type StartGroupFn<T, R> = (units: T[]) => Promise<Array<R | Error>>;

interface Pending<T, R> {
  unit: T;
  key: string;
  weight: number;
  resolve(r: R): void;
  reject(e: Error): void;
}

export class PipelinedWriter<T, R> {
  private readonly queue = new WaitingQueue<Pending<T, R>>();
  private queuedWeight = 0;
  private inFlight = 0;
  private heavyInFlight = 0;
  /** keys with a unit in a group in flight: count of such groups (always 1 but for a key repeated in one group) */
  private readonly busy = new Map<string, number>();
  private scheduled = false;
  private idle: Array<() => void> = [];
  /** moving average of a group's time to its answer (ms), for Retry-After */
  private groupMs = 0;

  constructor(
    private readonly start: StartGroupFn<T, R>,
    private readonly opts: PipelineOptions<T>,
  ) {}

  /** as GroupWriter.admit: a 503 when the queue would grow past maxQueuedWeight */
  admit(weight: number): void {
    const max = this.opts.maxQueuedWeight;
    if (this.queuedWeight === 0 || this.queuedWeight + weight <= max) return;
    throw writerSaturated(this.queuedWeight, max, Math.ceil(this.queuedWeight / this.opts.maxWeight / this.opts.maxInFlight) + 1, this.groupMs, this.opts.what);
  }

  submit(unit: T): Promise<R> {
    return new Promise((resolve, reject) => {
      const weight = this.opts.weight(unit);
      this.queuedWeight += weight;
      this.queue.push({ unit, key: this.opts.key(unit), weight, resolve, reject });
      this.schedule();
    });
  }

  /** units waiting for a group */
  get queued(): number {
    return this.queue.length;
  }

  /** waits until everything submitted so far is answered (shutdown) */
  drain(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** Requests of one turn of the event loop go together: groups are formed after it. */
  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.next();
    });
  }

  /**
   * The next group of one kind: queued units in order, skipping those whose key is in flight or
   * whose kind is the other one; a unit left behind keeps every later unit of its key behind it
   * (waiting-queue.ts).
   */
  private take(heavy: boolean): Array<Pending<T, R>> {
    const isHeavy = this.opts.heavy;
    const max = heavy ? (this.opts.maxHeavyWeight ?? this.opts.maxWeight) : this.opts.maxWeight;
    const { group, weight } = this.queue.take((p) => this.busy.has(p.key) || (isHeavy !== undefined && isHeavy(p.unit) !== heavy), max);
    this.queuedWeight -= weight;
    return group;
  }

  /**
   * Starts groups while places are free, for up to TURN_BUDGET_MS of planning, then leaves the
   * rest to the next turn: planning several large groups at once would hold the event loop that
   * long, and one group per turn left a starved loop (a turn of 0.5-1 s under the load bench)
   * starting fewer groups than values arrived.
   */
  private next(): void {
    const until = performance.now() + TURN_BUDGET_MS;
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      // A heavy group while it has a place of its own, then a light one in what is left (light
      // first, heavy units waited whenever light ones were queued, which under load was always:
      // first requests queued 48 s).
      const heavy = this.opts.heavy !== undefined && this.heavyInFlight < (this.opts.maxHeavyInFlight ?? this.opts.maxInFlight) && this.startOne(true);
      const light = this.inFlight < this.opts.maxInFlight && this.startOne(false);
      if (!light && !heavy) break;
      if (performance.now() >= until) {
        if (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) this.schedule();
        return;
      }
    }
    this.settle();
  }

  /** false when no queued unit of that kind may go */
  private startOne(heavy: boolean): boolean {
    const group = this.take(heavy);
    if (group.length === 0) return false;
    this.inFlight++;
    if (heavy) this.heavyInFlight++;
    for (const p of group) this.busy.set(p.key, (this.busy.get(p.key) ?? 0) + 1);
    const started = performance.now();
    let answers: Promise<Array<R | Error>>;
    try {
      answers = this.start(group.map((p) => p.unit));
    } catch (err) {
      answers = Promise.reject(err as Error);
    }
    answers.then(
      (acks) =>
        this.done(group, heavy, started, (p, i) => {
          const a = acks[i]!;
          if (a instanceof Error) p.reject(a);
          else p.resolve(a);
        }),
      (err: unknown) => {
        const e = storageUnavailable(this.opts.what, err);
        this.done(group, heavy, started, (p) => p.reject(e));
      },
    );
    return true;
  }

  private done(group: Array<Pending<T, R>>, heavy: boolean, started: number, answer: (p: Pending<T, R>, i: number) => void): void {
    const ms = performance.now() - started;
    this.groupMs = this.groupMs === 0 ? ms : 0.8 * this.groupMs + 0.2 * ms;
    this.inFlight--;
    if (heavy) this.heavyInFlight--;
    for (const p of group) {
      const n = this.busy.get(p.key)! - 1;
      if (n === 0) this.busy.delete(p.key);
      else this.busy.set(p.key, n);
    }
    group.forEach(answer);
    // A place is free now; the next groups are planned in the next turn, after the answered
    // requests' handlers have run and replied (planned here at once, up to TURN_BUDGET_MS, they
    // came before every one of those replies).
    this.schedule();
    this.settle();
  }

  private settle(): void {
    if (this.queue.length === 0 && this.inFlight === 0) for (const f of this.idle.splice(0)) f();
  }
}
