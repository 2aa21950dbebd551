// Delivery from the persistent outbox. A notification is a row before anyone tries to send it
// (written in the same transaction as the state change that caused it), so a collector restart
// loses nothing: the next start picks up every pending row. Retries back off exponentially with
// jitter, a receiver's Retry-After wins when it is longer, and 410 Gone disables the notifier.
import type { EventSink } from '../../shared/events.js';
import type { Notifier, RetryPolicy } from './notifiers/types.js';
import type { AlertStore, OutboxRow } from '../storage/types.js';

/** Exponential backoff with "equal jitter": half fixed, half random, capped. */
export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (exp / 2) * random());
}

export interface OutboxOptions {
  store: AlertStore;
  notifiers: Notifier[];
  clock: () => number;
  events: EventSink;
  random?: () => number;
  /** idle poll when nothing is due (a kick wakes it sooner) */
  pollMs?: number;
  /**
   * Whether this collector delivers now (it holds the evaluator lease, collector/alerts/leader.ts);
   * absent: always. A standby's pass delivers nothing and looks again at the next poll.
   */
  mayDeliver?: () => boolean;
  concurrency?: number;
}

export class OutboxDeliverer {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  private closing = false;
  private again = false;
  private readonly byName: Map<string, Notifier>;

  constructor(private readonly o: OutboxOptions) {
    this.byName = new Map(o.notifiers.map((n) => [n.name, n]));
  }

  start(): void {
    this.stopped = false;
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.closing = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Deliver what is due now, and schedule the next attempt. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // a standby delivers nothing and looks again at the next poll (what is due is the holder's)
    const standby = this.o.mayDeliver?.() === false;
    this.running = (standby ? Promise.resolve(null) : this.drain().then(() => (this.stopped ? null : this.o.store.nextDue())))
      .catch((err) => {
        this.o.events.emit('alerts.outbox.error', { error: String(err) }, 'warn');
        return null;
      })
      .then((next) => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.kick();
          return;
        }
        const poll = this.o.pollMs ?? 5000;
        const wait = next === null ? poll : Math.min(poll, Math.max(0, next - this.o.clock()));
        this.timer = setTimeout(() => this.kick(), wait);
        this.timer.unref();
      });
  }

  /** One pass over every due row; resolves when each was tried once (none on a standby). */
  async drain(): Promise<number> {
    let tried = 0;
    if (this.o.mayDeliver?.() === false) return 0;
    for (;;) {
      const rows = await this.o.store.due(this.o.clock(), 100);
      if (rows.length === 0) return tried;
      const width = this.o.concurrency ?? 4;
      for (let i = 0; i < rows.length; i += width) {
        await Promise.all(rows.slice(i, i + width).map((r) => this.attempt(r)));
      }
      tried += rows.length;
      if (this.closing) return tried;
    }
  }

  private async attempt(row: OutboxRow): Promise<void> {
    const { store, clock, events } = this.o;
    const notifier = this.byName.get(row.notifier);
    if (!notifier) {
      await store.markFinal(row.seq, 'failed', null, `notifier '${row.notifier}' is no longer configured`, clock());
      events.emit('alerts.notify.dropped', { id: row.id, notifier: row.notifier }, 'warn');
      return;
    }
    const attempt = row.attempts + 1;
    const result = await notifier.deliver({ id: row.id, body: row.body, attempt }, clock());
    const now = clock();
    switch (result.outcome) {
      case 'delivered':
        await store.markDelivered(row.seq, result.status ?? 200, now);
        events.emit('alerts.notify.delivered', { id: row.id, notifier: row.notifier, rule: row.rule, attempt, latency_ms: now - row.created_at });
        return;
      case 'disable':
        await store.markFinal(row.seq, 'disabled', result.status ?? null, result.error ?? 'disabled', now);
        await store.disableNotifier(notifier.name, notifier.target, result.error ?? 'disabled', now);
        events.emit('alerts.notifier.disabled', { notifier: notifier.name, reason: result.error }, 'warn');
        return;
      case 'failed':
      case 'retry':
        if (result.outcome === 'failed' || attempt >= notifier.retry.maxAttempts) {
          await store.markFinal(row.seq, 'failed', result.status ?? null, result.error ?? 'failed', now);
          events.emit('alerts.notify.failed', { id: row.id, notifier: row.notifier, attempts: attempt, error: result.error }, 'warn');
          return;
        }
        {
          const wait = Math.max(backoffMs(notifier.retry, attempt, this.o.random ?? Math.random), result.retryAfterMs ?? 0);
          await store.markRetry(row.seq, now + wait, result.status ?? null, result.error ?? 'retry');
          events.emit('alerts.notify.retry', { id: row.id, notifier: row.notifier, attempt, wait_ms: wait, error: result.error }, 'info');
        }
    }
  }
}
