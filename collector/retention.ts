// Retention by age and by database size, oldest lines first, in slices: each slice deletes at
// most `sliceRows` lines in its own short transaction, then yields to the event loop so that
// ingest and queries run between slices. The longest slice is measured and exported
// (ringtail_retention_slice_max_seconds) because it is how long retention can hold the writer.
import type { EventSink } from '../shared/events.js';
import type { LogStore } from './storage/types.js';

export interface RetentionOptions {
  maxAgeDays: number;
  maxBytes: number;
  sliceRows?: number;
  intervalMs?: number;
}

const DAY_MS = 86_400_000;
const yieldTurn = () => new Promise<void>((r) => setImmediate(r));

export class Retention {
  maxSliceMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly logs: () => LogStore,
    private readonly clock: () => number,
    private readonly opts: RetentionOptions,
    private readonly events: EventSink,
    private readonly onSlice: (ms: number) => void = () => {},
  ) {}

  get enabled(): boolean {
    return this.opts.maxAgeDays > 0 || this.opts.maxBytes > 0;
  }

  private async slice(fn: () => Promise<number>): Promise<number> {
    const t = performance.now();
    const n = await fn();
    const ms = performance.now() - t;
    if (ms > this.maxSliceMs) this.maxSliceMs = ms;
    this.onSlice(ms);
    return n;
  }

  /** one full pass; concurrent callers share the pass in progress */
  runOnce(): Promise<number> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(): Promise<number> {
    const rows = this.opts.sliceRows ?? 1000;
    const ret = this.logs().retention;
    let byAge = 0;
    let bySize = 0;
    if (this.opts.maxAgeDays > 0) {
      const cutoff = this.clock() - this.opts.maxAgeDays * DAY_MS;
      for (;;) {
        const n = await this.slice(() => ret.deleteOlderThan(cutoff, rows));
        byAge += n;
        if (n < rows || this.stopped) break;
        await yieldTurn();
      }
    }
    if (this.opts.maxBytes > 0) {
      while (!this.stopped && (await ret.usedBytes()) > this.opts.maxBytes) {
        const n = await this.slice(() => ret.deleteOldest(rows));
        bySize += n;
        if (n === 0) break;
        await yieldTurn();
      }
    }
    if (byAge + bySize > 0) {
      this.events.add('retention.deleted', byAge + bySize);
      this.events.emit('retention.pass', { by_age: byAge, by_size: bySize, max_slice_ms: +this.maxSliceMs.toFixed(2) });
    }
    return byAge + bySize;
  }

  start(): void {
    if (!this.enabled || this.timer) return;
    const tick = () => {
      void this.runOnce().catch((err: Error) => this.events.emit('retention.failed', { error: err.message }, 'warn'));
    };
    this.timer = setInterval(tick, this.opts.intervalMs ?? 60_000);
    this.timer.unref();
    setImmediate(tick);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
