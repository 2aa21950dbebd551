// The evaluation cycle: for every rule and every host it applies to, read one value from the
// sources (rule-reads.ts), step the state machine, decide notifications (notifications.ts), and
// commit state, history and outbox rows in one transaction. Notification decisions are
// level-triggered from persisted state (what was last announced, and when), so a restart neither
// forgets nor repeats an alert.
import type { EventSink } from '../../shared/events.js';
import type { Evidence } from './evidence.js';
import type { Notifier } from './notifiers/types.js';
import { HOST_DOWN_RULE, ownHostDirectory, type HostDirectory } from './hosts.js';
import { currentAlerts, decideNotifications, labelsFor, outboxRows, type CurrentAlert, type Decided, type NotifyContext } from './notifications.js';
import { arrivalCanChange, RuleReads, type Arrivals, type RuleValue } from './rule-reads.js';
import { compileRule, type CompiledRule, type Severity } from './rules.js';
import { compileSilence, type CompiledSilence } from './silences.js';
import { SourceError, type AlertSources, type HostSeen, type LogReads } from './sources.js';
import { changed, initialState, step, type InstanceState, type Transition } from './state.js';
import type { AlertStore, NewOutbox, SilenceRow } from '../storage/types.js';

export { arrivalCanChange, type Arrivals } from './rule-reads.js';
export { fingerprint, type CurrentAlert } from './notifications.js';

export interface EvaluatorOptions {
  store: AlertStore;
  sources: AlertSources;
  notifiers: Notifier[];
  clock: () => number;
  events: EventSink;
  configRules: CompiledRule[];
  /** the default rules (collector/alerts/defaults.ts); a config or API rule of the same name replaces one */
  defaultRules?: CompiledRule[];
  /** host lifecycle (ephemeral, retired, transitions); every host permanent by default */
  hosts?: HostDirectory;
  repeatIntervalMs: number;
  /** a firing alert's evidence, gathered as its notification is queued (collector/alerts/evidence.ts) */
  evidence?: (rule: CompiledRule, host: string, series: string, now: number) => Evidence;
  /** called after notifications were committed to the outbox */
  onQueued?: () => void;
}

export interface CycleStats {
  ms: number;
  instances: number;
  transitions: number;
  notifications: number;
}

const key = (rule: string, host: string, series = '') => `${rule}\u0000${host}\u0000${series}`;

/** What the store holds for an evaluator to start from (Evaluator.open reads it). */
export interface StoredAlerts {
  apiRules: Array<{ name: string; spec: unknown }>;
  states: InstanceState[];
  silences: SilenceRow[];
  /** host-down transitions, oldest first (the host directory's memory when none is given) */
  hostDown: Transition[];
}

export class Evaluator {
  readonly rules = new Map<string, CompiledRule>();
  /** rules removed through the API whose announced alerts still need a resolved notification */
  private readonly retired = new Map<string, CompiledRule>();
  private readonly states = new Map<string, InstanceState>();
  private silences: CompiledSilence[] = [];
  private readonly seenInCycle = new Map<string, number>();
  private cycleNo = 0;
  readonly ruleErrors = new Map<string, string>();
  lastCycle: CycleStats | null = null;
  /** evaluations on arrival so far (cycle(arrivals)) */
  arrivalEvaluations = 0;
  /** bumped on every rule change, so derived views (what series to keep) can be cached */
  version = 0;
  readonly defaults = new Map<string, CompiledRule>();
  readonly hosts: HostDirectory;
  /** what each rule reads, from the sources */
  private readonly reads: RuleReads;

  /** cycles run one after another (a cycle awaits its commit; the next starts from its states) */
  private queue: Promise<unknown> = Promise.resolve();

  /** Reads the store (API rules, instance states, silences) and builds the evaluator on it. */
  static async open(o: EvaluatorOptions): Promise<Evaluator> {
    const [apiRules, states, silences, hostDown] = await Promise.all([
      o.store.apiRules(),
      o.store.loadStates(),
      o.store.silences(),
      o.hosts ? Promise.resolve([]) : o.store.history({ rule: HOST_DOWN_RULE, limit: 10_000 }),
    ]);
    return new Evaluator(o, { apiRules, states, silences, hostDown: hostDown.reverse().map(({ id: _id, ...t }) => t) });
  }

  private constructor(
    private readonly o: EvaluatorOptions,
    stored: StoredAlerts,
  ) {
    this.hosts = o.hosts ?? ownHostDirectory(stored.hostDown);
    // silence before this is not known (absence rules): the collector was not listening
    this.reads = new RuleReads(o.sources, this.hosts, o.clock());
    for (const r of o.defaultRules ?? []) {
      this.defaults.set(r.name, r);
      this.rules.set(r.name, r);
    }
    for (const r of o.configRules) this.rules.set(r.name, r);
    for (const { name, spec } of stored.apiRules) {
      if (this.rules.get(name)?.source === 'config') continue;
      try {
        this.rules.set(name, compileRule(spec, `rule '${name}'`, 'api'));
      } catch (err) {
        o.events.emit('alerts.rule.invalid', { rule: name, error: (err as Error).message }, 'warn');
      }
    }
    for (const s of stored.states) this.states.set(key(s.rule, s.host, s.series), s);
    this.silences = stored.silences.map(compileSilence);
  }

  async reloadSilences(): Promise<void> {
    this.silences = (await this.o.store.silences()).map(compileSilence);
  }

  /**
   * Reads again what other collectors on a shared store may have changed: API rules and
   * silences, and with `states` the instances' states (a standby follows the evaluating
   * collector's, and takes over from them). Queued behind a running cycle.
   */
  refresh(opts: { states: boolean }): Promise<void> {
    const run = this.queue.then(async () => {
      const [apiRules, silences, states] = await Promise.all([this.o.store.apiRules(), this.o.store.silences(), opts.states ? this.o.store.loadStates() : null]);
      this.silences = silences.map(compileSilence);
      this.syncApiRules(apiRules);
      if (states) {
        this.states.clear();
        this.seenInCycle.clear();
        for (const s of states) this.states.set(key(s.rule, s.host, s.series), s);
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** API rules as the store has them now (another collector's API may have changed them) */
  private syncApiRules(stored: Array<{ name: string; spec: unknown }>): void {
    const names = new Set(stored.map((r) => r.name));
    for (const [name, r] of [...this.rules]) if (r.source === 'api' && !names.has(name)) this.removeRule(name);
    for (const { name, spec } of stored) {
      const cur = this.rules.get(name);
      if (cur?.source === 'config' || (cur?.source === 'api' && JSON.stringify(cur.spec) === JSON.stringify(spec))) continue;
      try {
        this.setRule(compileRule(spec, `rule '${name}'`, 'api'));
      } catch (err) {
        this.o.events.emit('alerts.rule.invalid', { rule: name, error: (err as Error).message }, 'warn');
      }
    }
  }

  setRule(rule: CompiledRule): void {
    this.retired.delete(rule.name);
    this.rules.set(rule.name, rule);
    this.version++;
  }

  removeRule(name: string): void {
    const r = this.rules.get(name);
    if (!r) return;
    const fallback = this.defaults.get(name);
    this.version++;
    this.ruleErrors.delete(name);
    // an API rule that replaced a default gives way to the default again
    if (fallback && r !== fallback) {
      this.rules.set(name, fallback);
      return;
    }
    this.rules.delete(name);
    this.retired.set(name, r);
  }

  labelsFor(rule: CompiledRule, host: string, severity: Severity, series = ''): Record<string, string> {
    return labelsFor(rule, host, severity, series);
  }

  /**
   * The log-store questions a cycle at `now` over `hosts` asks (log rules' counts, absence rules'
   * newest line of a source), so that a store that answers asynchronously can be read before the
   * cycle, which is one synchronous step (AlertSources.prepare).
   */
  logReads(now: number, hosts: HostSeen[], arrivals?: Arrivals): LogReads {
    return this.reads.logReads(this.rules.values(), now, hosts, arrivals);
  }

  private notifyContext(): NotifyContext {
    return { silences: this.silences, repeatIntervalMs: this.o.repeatIntervalMs, evidence: this.o.evidence, clock: this.o.clock };
  }

  /**
   * One evaluation of every rule over every host, after the cycles already asked for. Rejects
   * only when the commit fails (the instances' states are then as before the cycle). The rules
   * are evaluated in one synchronous step; only the outbox's notifier list and the commit wait.
   * With `arrivals`, an evaluation on arrival: only the rules those samples can change, only on
   * those hosts, through the same state machine and the same commit (so `for`, hysteresis,
   * notification decisions and repeat intervals are exactly the periodic cycle's); instances it
   * does not visit are left for the periodic cycle, which alone ends them for lack of data.
   */
  cycle(arrivals?: Arrivals, at?: number): Promise<CycleStats> {
    const run = this.queue.then(() => this.runCycle(arrivals, at));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runCycle(arrivals: Arrivals | undefined, at: number | undefined): Promise<CycleStats> {
    const started = performance.now();
    const now = at ?? this.o.clock();
    const cycle = ++this.cycleNo;
    const dir = this.hosts;
    const hosts = this.o.sources.hosts().filter((h) => !dir.isRetired(h.host));
    const byHost = new Map(hosts.map((h) => [h.host, h]));
    // series with a state, per (rule, host): a restart keeps evaluating them before new samples come
    const known = new Map<string, string[]>();
    for (const st of this.states.values()) {
      const k = `${st.rule}\u0000${st.host}`;
      const list = known.get(k);
      if (list) list.push(st.series);
      else known.set(k, [st.series]);
    }
    const upserts: InstanceState[] = [];
    const deletes: Array<[string, string, string]> = [];
    const history: Transition[] = [];
    const groups = new Map<string, Decided[]>();
    // the states before this cycle of every instance it changes: put back if the commit fails,
    // so the next cycle decides the same transitions and notifications again
    const undo = new Map<string, InstanceState | undefined>();
    const remember = (k: string) => {
      if (!undo.has(k)) undo.set(k, this.states.get(k));
    };
    let instances = 0;
    const ctx = this.notifyContext();
    const got: RuleValue = { cap: undefined };

    const apply = (rule: CompiledRule, host: string, series: string, value: number | null, force = false, cap?: Severity | null) => {
      const k = key(rule.name, host, series);
      const prev = this.states.get(k);
      if (!prev && (value === null || force)) return;
      const base = prev ?? initialState(rule.name, host, series);
      let { next, transitions } = step(rule, base, value, now, cap);
      if (force && next.phase !== 'ok') {
        // the rule is gone or disabled: end its alerts now, without keep_firing_for
        if (next.phase === 'firing') transitions = [{ rule: rule.name, host, series, at: now, event: 'resolved', severity: next.severity, value }];
        next = { ...initialState(rule.name, host, series), notifiedKey: next.notifiedKey, lastNotifiedAt: next.lastNotifiedAt };
      }
      decideNotifications(ctx, rule, next, now, groups);
      history.push(...transitions);
      remember(k);
      if (next.phase === 'ok' && next.notifiedKey === null) {
        if (prev) {
          this.states.delete(k);
          this.seenInCycle.delete(k);
          deletes.push([rule.name, host, series]);
        }
        return;
      }
      this.states.set(k, next);
      this.seenInCycle.set(k, cycle);
      if (!prev || changed(prev, next)) upserts.push(next);
    };

    for (const rule of this.rules.values()) {
      if (arrivals && (!rule.enabled || ![...arrivals.values()].some((names) => arrivalCanChange(rule, names)))) continue;
      if (!rule.enabled) {
        // its instances are not visited, so the loop below resolves them
        this.ruleErrors.delete(rule.name);
        continue;
      }
      const targets = this.reads.targetsOf(rule, hosts, byHost, arrivals);
      let error: string | null = null;
      for (const h of targets) {
        for (const series of this.reads.seriesFor(rule, h.host, known)) {
          instances++;
          let value: number | null | undefined;
          try {
            value = this.reads.valueOf(rule, h, series, now, got);
          } catch (err) {
            if (!(err instanceof SourceError)) throw err;
            error = err.message;
            value = null;
          }
          if (value === undefined) {
            const k = key(rule.name, h.host, series);
            if (this.states.has(k)) this.seenInCycle.set(k, cycle);
            continue;
          }
          apply(rule, h.host, series, value, false, got.cap);
        }
      }
      if (error !== null && this.ruleErrors.get(rule.name) !== error) {
        this.o.events.emit('alerts.rule.error', { rule: rule.name, error }, 'warn');
      }
      if (error !== null) this.ruleErrors.set(rule.name, error);
      else this.ruleErrors.delete(rule.name);
    }
    // Instances not visited: their host vanished from the rule's reach (no data), or the rule was
    // disabled or removed (ended at once, with a resolved notification for what was announced).
    for (const [k, s] of arrivals ? [] : [...this.states]) {
      if (this.seenInCycle.get(k) === cycle) continue;
      const live = this.rules.get(s.rule);
      if (live) apply(live, s.host, s.series, null, !live.enabled);
      else {
        const gone = this.retired.get(s.rule);
        if (gone) apply(gone, s.host, s.series, null, true);
        else {
          remember(k);
          this.states.delete(k);
          deletes.push([s.rule, s.host, s.series]);
        }
      }
    }
    for (const name of arrivals ? [] : [...this.retired.keys()]) {
      if (![...this.states.values()].some((s) => s.rule === name)) this.retired.delete(name);
    }

    let outbox: NewOutbox[] = [];
    try {
      // which receivers are off (a 410) is read only when there is something to send
      if (groups.size > 0) outbox = outboxRows(groups, this.o.notifiers, await this.o.store.disabledNotifiers());
      await this.o.store.commit(upserts, deletes, history, outbox, now);
    } catch (err) {
      for (const [k, s] of undo) {
        if (s) this.states.set(k, s);
        else this.states.delete(k);
      }
      throw err;
    }
    for (const t of history) {
      dir.observe?.(t);
      this.o.events.emit(`alerts.${t.event}`, { rule: t.rule, host: t.host, ...(t.series ? { series: t.series } : {}), severity: t.severity, value: t.value }, 'info');
    }
    if (outbox.length > 0) this.o.onQueued?.();
    const stats = { ms: performance.now() - started, instances, transitions: history.length, notifications: outbox.length };
    if (arrivals) {
      this.o.events.add('alerts.arrival_evaluations', 1);
      this.arrivalEvaluations++;
      return stats;
    }
    if (cycle % 100 === 0) await this.o.store.prune(now, 100_000, 7 * 86_400_000);
    this.o.events.add('alerts.cycles', 1);
    this.lastCycle = stats;
    return stats;
  }

  /** Pending and firing alerts, for GET /api/v1/alerts. */
  current(now: number): CurrentAlert[] {
    return currentAlerts(this.states.values(), this.rules, this.silences, now);
  }
}
