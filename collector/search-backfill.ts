// Indexing, in the background, of the lines an upgraded database stored before an index existed
// (SQLite: migration 8's number runs, storage/sqlite/num-plan.ts). A collector upgraded from
// schema 7 would otherwise search its older lines for `10.0.0.1` by the phrase of four common
// words for ever: correct (searches below the store's mark use the phrase alone), but a scan of
// their doclists instead of a lookup.
//
// Slices of `sliceIds` ids, each one transaction on the connection that commits ingest (the
// writer thread's, or the main one inline), newest lines first as searches read them. A slice
// starts only when the writer has nothing queued (ingest first: a group that arrives during a
// slice waits for that slice at most), and after it the task pauses `pauseFactor` times as long
// as the slice took (including any wait for the database's lock), so that it holds the writer a
// quarter of the time at most. Measured on a schema-7 copy of the 10 M-line benchmark database
// with the writer thread, 200-line batches every 50 ms, load ~20 on 2 cores: 5,000-id slices
// every other moment doubled the ingest acknowledgement's p50 (~17 → 31 ms) and indexed 1.66 M
// ids in 40 s; 1,000-id slices with a pause of 3× left it at 21 ms (18 without) and indexed 0.48 M. The store moves its mark in the slice's own transaction: a restart resumes
// below the last committed slice, nothing indexed twice, nothing skipped.
//
// Self-metrics: `search.backfill_started`, `search.backfill_progress` (every `progressEveryMs`),
// `search.backfill_done`, `search.backfill_failed` (warn; the slice is tried again after
// `retryMs`), the counter `search.backfill_ids`; status() for GET /api/v1/logs/index and the
// ringtail_search_backfill_remaining_ids gauge.
import type { EventSink } from '../shared/events.js';

export interface BackfillOptions {
  /** ids per slice (one transaction) */
  sliceIds?: number;
  /** pause after a slice, as a multiple of its duration */
  pauseFactor?: number;
  progressEveryMs?: number;
  retryMs?: number;
}

export interface BackfillDeps {
  /** one slice where commits happen: ids covered (0 once done) and how long it held the writer */
  step(limit: number): Promise<{ ids: number; ms: number }>;
  /** resolves when the writer has nothing queued or committing */
  idle(): Promise<void>;
  /** the store's own account; null when its backend has nothing to backfill */
  status(): { remaining_ids: number; covered_from_id: number } | null;
}

export type BackfillState = 'none' | 'running' | 'done' | 'failed' | 'stopped';

export interface BackfillStatus {
  state: BackfillState;
  /** ids below the mark still to index (an upper bound: retention may have removed some) */
  remaining_ids: number;
  /** the first id the index covers; searches below it use the phrase alone (slower, same answers) */
  covered_from_id: number | null;
  /** ids indexed by this process */
  indexed_ids: number;
  slices: number;
  max_slice_ms: number;
  started_at: number | null;
  finished_at: number | null;
  last_error: string | null;
}

export const SLICE_IDS = 1_000;
export const PAUSE_FACTOR = 3;

export class SearchBackfill {
  private state: BackfillState = 'none';
  private indexed = 0;
  private slices = 0;
  private maxSliceMs = 0;
  private startedAt: number | null = null;
  private finishedAt: number | null = null;
  private lastError: string | null = null;
  private stopped = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: BackfillDeps,
    private readonly events: EventSink,
    private readonly clock: () => number,
    private readonly opts: BackfillOptions = {},
  ) {}

  /** Starts the task if the store has lines to index; returns at once. */
  start(): void {
    if (this.running || this.stopped) return;
    const s = this.deps.status();
    if (s === null) return;
    if (s.remaining_ids === 0) {
      this.state = 'done';
      return;
    }
    this.running = this.run(s).finally(() => {
      this.running = null;
    });
  }

  /** resolves when the task has ended (done, or stopped after its slice in progress) */
  finished(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.running;
  }

  status(): BackfillStatus {
    const s = this.deps.status();
    return {
      state: this.state,
      remaining_ids: s?.remaining_ids ?? 0,
      covered_from_id: s?.covered_from_id ?? null,
      indexed_ids: this.indexed,
      slices: this.slices,
      max_slice_ms: +this.maxSliceMs.toFixed(2),
      started_at: this.startedAt,
      finished_at: this.finishedAt,
      last_error: this.lastError,
    };
  }

  /** waits `ms` (at least one turn of the event loop), or until stop() */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        this.wake = null;
        resolve();
      };
      this.wake = done;
      if (ms <= 0) setImmediate(done);
      else {
        this.timer = setTimeout(done, ms);
        this.timer.unref();
      }
    });
  }

  private async run(first: { remaining_ids: number; covered_from_id: number }): Promise<void> {
    const sliceIds = this.opts.sliceIds ?? SLICE_IDS;
    const pauseFactor = this.opts.pauseFactor ?? PAUSE_FACTOR;
    const every = this.opts.progressEveryMs ?? 10_000;
    this.state = 'running';
    this.startedAt = this.clock();
    const t0 = performance.now();
    this.events.emit('search.backfill_started', { remaining_ids: first.remaining_ids, covered_from_id: first.covered_from_id, slice_ids: sliceIds });
    let reported = t0;
    while (!this.stopped) {
      await this.deps.idle();
      if (this.stopped) break;
      let n: number;
      let ms: number;
      try {
        ({ ids: n, ms } = await this.deps.step(sliceIds));
      } catch (err) {
        this.state = 'failed';
        this.lastError = (err as Error).message;
        this.events.emit('search.backfill_failed', { error: this.lastError, retry_in_ms: this.opts.retryMs ?? 30_000 }, 'warn');
        await this.pause(this.opts.retryMs ?? 30_000);
        if (!this.stopped) this.state = 'running';
        continue;
      }
      if (n === 0) {
        this.state = 'done';
        this.finishedAt = this.clock();
        const c = this.deps.status();
        this.events.emit('search.backfill_done', {
          indexed_ids: this.indexed,
          slices: this.slices,
          seconds: +((performance.now() - t0) / 1000).toFixed(1),
          max_slice_ms: +this.maxSliceMs.toFixed(1),
          covered_from_id: c?.covered_from_id ?? null,
        });
        return;
      }
      this.indexed += n;
      this.slices++;
      if (ms > this.maxSliceMs) this.maxSliceMs = ms;
      this.events.add('search.backfill_ids', n);
      if (performance.now() - reported >= every) {
        reported = performance.now();
        const s = this.deps.status();
        this.events.emit('search.backfill_progress', {
          indexed_ids: this.indexed,
          remaining_ids: s?.remaining_ids ?? 0,
          covered_from_id: s?.covered_from_id ?? null,
          max_slice_ms: +this.maxSliceMs.toFixed(1),
        });
      }
      await this.pause(ms * pauseFactor);
    }
    this.state = 'stopped';
  }
}
