// One designated evaluator among the collectors that share an alert store (issue 16 item 4,
// docs/scale-out.md): the collector holding the store's evaluator lease evaluates the rules and
// delivers the outbox; the others stand by, follow its states from the store (so their
// GET /api/v1/alerts answers the same), and take the lease over when it stops renewing it.
//
// Takeover time: a holder stopped in order releases the lease, so a standby takes over at its
// next turn (within one evaluation interval); a holder that crashed or lost the store is
// replaced once its lease has run out, within lease_s + one evaluation interval. Around a
// takeover both may send the same notification; its webhook id is derived from the transition
// (webhook-ids.ts), so a receiver that drops repeated ids acts once.
//
// A store one collector owns (SQLite) has no lease: that collector always evaluates.
import type { EventSink } from '../../shared/events.js';
import type { EvaluatorLease } from '../storage/types.js';

/** `alerts.evaluator`: auto (by the store's lease), always (no lease: this one evaluates), never (standby only) */
export type EvaluatorRole = 'auto' | 'always' | 'never';
export const EVALUATOR_ROLES: readonly EvaluatorRole[] = ['auto', 'always', 'never'];

/** What this collector does in a turn: evaluate (and `took_over` when it has just become the evaluator), or stand by. */
export interface Turn {
  evaluate: boolean;
  took_over: boolean;
}

export class EvaluatorElection {
  /** until when the lease, as last taken or renewed, is ours (ms on the collector's clock) */
  private until = 0;
  private held = false;
  /** whether this collector evaluated at its last turn (for events: one line per change) */
  private wasEvaluating: boolean | null = null;

  constructor(
    private readonly o: {
      role: EvaluatorRole;
      /** null: the store has none (one collector owns it) */
      lease: EvaluatorLease | null;
      leaseMs: number;
      clock: () => number;
      events: EventSink;
      collectorId: string;
    },
  ) {}

  /** whether the store is shared with other collectors (it elects an evaluator) */
  get shared(): boolean {
    return this.o.lease !== null && this.o.role !== 'always';
  }

  /** whether this collector evaluates and sends now (between turns: the lease as last renewed) */
  evaluating(): boolean {
    if (this.o.role === 'never') return false;
    if (this.o.lease === null || this.o.role === 'always') return true;
    return this.held && this.o.clock() < this.until;
  }

  /** Takes or renews the lease (each evaluation turn does, before its cycle). */
  async turn(): Promise<Turn> {
    const { role, lease } = this.o;
    let evaluate: boolean;
    let tookOver = false;
    if (role === 'never') evaluate = false;
    else if (lease === null || role === 'always') evaluate = true;
    else {
      const asked = this.o.clock();
      let ok = false;
      try {
        ok = await lease.acquire();
      } catch (err) {
        // the store is unreachable: a holder keeps evaluating until its lease runs out (so does
        // nobody else), a standby stays one
        this.o.events.emit('alerts.lease.error', { error: (err as Error).message }, 'warn');
        ok = this.held && this.o.clock() < this.until;
      }
      if (ok && !this.held) tookOver = true;
      if (ok) this.until = Math.max(this.until, asked + this.o.leaseMs);
      this.held = ok;
      evaluate = ok;
    }
    if (evaluate !== this.wasEvaluating) {
      const h = lease?.holder() ?? null;
      this.o.events.emit(
        evaluate ? 'alerts.evaluator.active' : 'alerts.evaluator.standby',
        { collector: this.o.collectorId, role, ...(h && !evaluate ? { holder: h.collector, holder_until: h.expires_at } : {}) },
        'info',
      );
      this.wasEvaluating = evaluate;
    }
    return { evaluate, took_over: tookOver };
  }

  /** the current holder as last read (for GET /api/v1/alerts) */
  status(): { collector: string; role: EvaluatorRole; evaluating: boolean; holder: string | null; holder_until: number | null } {
    const h = this.o.lease?.holder() ?? null;
    const evaluating = this.evaluating();
    return {
      collector: this.o.collectorId,
      role: this.o.role,
      evaluating,
      holder: h?.collector ?? (evaluating ? this.o.collectorId : null),
      holder_until: h?.expires_at ?? null,
    };
  }

  /** gives the lease up (a collector stopping in order), so a standby takes over at its next turn */
  async release(): Promise<void> {
    const was = this.held;
    this.held = false;
    this.until = 0;
    if (was && this.o.lease) await this.o.lease.release();
  }
}
