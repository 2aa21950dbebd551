// The evaluation cycle: for every rule and every host it applies to, read one value from the
// sources, step the state machine, decide notifications, and commit state, history and outbox
// rows in one transaction. Notification decisions are level-triggered from persisted state
// (what was last announced, and when), so a restart neither forgets nor repeats an alert.
import { createHash } from 'node:crypto';
import type { EventSink } from '../../shared/events.js';
import type { Evidence } from './evidence.js';
import type { AlertPayload, Notifier } from './notifiers/types.js';
import { HOST_DOWN_RULE, ownHostDirectory, type HostDirectory } from './hosts.js';
import { parseMetricKey } from '../metrics/key.js';
import { CHECK_SERIES } from './metric-sources.js';
import { hoursToReach } from './predict.js';
import { compileRule, notifies, type CompiledRule, type Severity } from './rules.js';
import { compileSilence, silencedBy, type CompiledSilence } from './silences.js';
import { SourceError, type AlertSources, type HostSeen, type LogReads } from './sources.js';
import { changed, firingKey, initialState, parseKey, step, type InstanceState, type Transition } from './state.js';
import type { AlertStore, NewOutbox, SilenceRow } from '../storage/types.js';
import { renderTemplate } from './template.js';
import { notificationId, type Occasion } from './webhook-ids.js';

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

export interface CurrentAlert {
  rule: string;
  host: string;
  /** the series' labels part (`{mount=/}`) for rules that watch every series of a name, else '' */
  series: string;
  /** false: shown here, never sent to webhooks (the rule's `notify`) */
  notify: boolean;
  state: 'pending' | 'firing';
  severity: Severity | null;
  value: number | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  active_since: number | null;
  starts_at: number | null;
  silenced_by: string | null;
}

/** a log rule counts its matches up to this many (enough to compare with min_count) */
const logCap = (minCount: number | undefined) => Math.min(1000, Math.max(100, minCount ?? 1));
const key = (rule: string, host: string, series = '') => `${rule}\u0000${host}\u0000${series}`;
const RESERVED = new Set(['alertname', 'rule', 'host', 'severity']);

/** Whether a metric rule watches every series of its name (no labels given: `df.used_pct`). */
function perSeries(rule: CompiledRule): boolean {
  return (rule.spec.kind === 'metric' && !rule.spec.metric.includes('{')) || rule.checkGlob !== null;
}

/**
 * What arrived, for an evaluation on arrival: host → names of the samples just committed. Only
 * metric rules on one of those names and check rules on a check series among them are evaluated,
 * only for those hosts.
 */
export type Arrivals = Map<string, Set<string>>;

/** Whether samples of these names can change this rule's state (absence and log rules: never). */
export function arrivalCanChange(rule: CompiledRule, names: Set<string>): boolean {
  const r = rule.spec;
  const base = (m: string) => (m.includes('{') ? m.slice(0, m.indexOf('{')) : m);
  if (r.kind === 'metric') return names.has(base(r.metric)) || (r.divide_by !== undefined && names.has(base(r.divide_by)));
  if (r.kind === 'check') return (r.check_types ?? (['process', 'http', 'tcp'] as const)).some((t) => names.has(CHECK_SERIES[t]));
  return false;
}

/** What the store holds for an evaluator to start from (Evaluator.open reads it). */
export interface StoredAlerts {
  apiRules: Array<{ name: string; spec: unknown }>;
  states: InstanceState[];
  silences: SilenceRow[];
  /** host-down transitions, oldest first (the host directory's memory when none is given) */
  hostDown: Transition[];
}

/** a notification decided in a cycle, with what its webhook id is derived from */
interface Decided {
  payload: AlertPayload;
  occasion: Occasion;
}

export function fingerprint(labels: Record<string, string>): string {
  const h = createHash('sha256');
  for (const k of Object.keys(labels).sort()) h.update(`${k}\u0000${labels[k]}\u0000`);
  return h.digest('hex').slice(0, 16);
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
  /** set by valueOf: the highest level a predict rule's guard allows (undefined: no limit) */
  private cap: Severity | null | undefined = undefined;

  /** when this evaluator (the collector) started listening */
  private readonly startedAt: number;

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
    this.startedAt = o.clock();
    this.hosts = o.hosts ?? ownHostDirectory(stored.hostDown);
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
    const out: Record<string, string> = { ...rule.labels };
    if (series !== '') {
      const parsed = parseMetricKey('x' + series);
      for (const [k, v] of Object.entries(parsed?.labels ?? {})) if (!RESERVED.has(k)) out[k] = v;
    }
    return Object.assign(out, { alertname: rule.name, rule: rule.name, host, severity });
  }

  private annotationsFor(rule: CompiledRule, labels: Record<string, string>, value: number | null): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(rule.spec.annotations ?? {})) {
      if (v !== undefined) out[k] = renderTemplate(v, { value, rule: rule.name, severity: labels.severity ?? '', labels });
    }
    return out;
  }

  private payload(rule: CompiledRule, s: InstanceState, severity: Severity, startsAt: number, endsAt: number | null): AlertPayload {
    const labels = this.labelsFor(rule, s.host, severity, s.series);
    return {
      status: endsAt === null ? 'firing' : 'resolved',
      labels,
      annotations: this.annotationsFor(rule, labels, s.value),
      severity,
      startsAt,
      endsAt,
      fingerprint: fingerprint(labels),
      value: s.value,
      ...(endsAt === null && this.o.evidence ? { evidence: this.o.evidence(rule, s.host, s.series, this.o.clock()) } : {}),
    };
  }

  /** The series a rule evaluates on a host: '' for one, label parts for every series of a name. */
  private seriesFor(rule: CompiledRule, host: string, known: Map<string, string[]>): Iterable<string> {
    if (!perSeries(rule)) return [''];
    const out = new Set<string>(known.get(`${rule.name}\u0000${host}`) ?? []);
    const r = rule.spec;
    if (r.kind === 'metric') {
      for (const k of this.o.sources.seriesKeys(host, r.metric)) out.add(k.slice(r.metric.length));
    } else if (r.kind === 'check') {
      for (const type of r.check_types ?? (['process', 'http', 'tcp'] as const)) {
        for (const k of this.o.sources.seriesKeys(host, CHECK_SERIES[type])) {
          const check = parseMetricKey(k)?.labels.check;
          if (check !== undefined && rule.checkGlob!.test(check)) out.add(`{check=${check}}`);
        }
      }
    }
    return out;
  }

  /** undefined: the source cannot answer yet (warming up), the instance is left as it is */
  private valueOf(rule: CompiledRule, h: HostSeen, series: string, now: number): number | null | undefined {
    const r = rule.spec;
    const src = this.o.sources;
    this.cap = undefined;
    switch (r.kind) {
      case 'metric': {
        const metric = r.metric + series;
        if (r.predict) {
          const pts = src.seriesPoints(h.host, metric, rule.windowMs / 1000, now);
          if (!pts) return pts;
          const hours = hoursToReach(pts.t, pts.v, r.predict.reach, now, rule.windowMs);
          if (hours === null) return null;
          const last = pts.v[pts.v.length - 1]!;
          const beyond = (from: number | undefined) => from === undefined || (r.predict!.reach >= from ? last >= from : last <= from);
          this.cap = beyond(r.predict.critical_from) ? undefined : beyond(r.predict.warning_from) ? 'warning' : null;
          return hours;
        }
        const cf = r.cf ?? 'AVERAGE';
        let v = src.seriesWindow(h.host, metric, cf, rule.windowMs / 1000, now, (r.min_coverage ?? 0) * rule.windowMs);
        if (v === null || v === undefined) return v;
        if (r.divide_by !== undefined) {
          const labels = series !== '' ? series : r.metric.includes('{') ? r.metric.slice(r.metric.indexOf('{')) : '';
          const d = src.seriesWindow(h.host, r.divide_by + labels, cf, rule.windowMs / 1000, now);
          if (d === null || d === undefined) return d;
          if (d === 0) return null; // no swap configured: no ratio, no alert
          v /= d;
        }
        return (r.offset ?? 0) + (r.scale ?? 1) * v;
      }
      case 'log':
        return src.countLogs(r.query, h.host, now - rule.windowMs, logCap(r.min_count));
      case 'absence': {
        const last = r.source !== undefined ? src.lastLogAt(h.host, r.source) : r.metric !== undefined ? src.seriesLastUpdate(h.host, r.metric, now) : h.lastSeen;
        if (last === null || last === undefined) return last;
        // Silence is only known after listening that long: after a collector restart the agents'
        // data of the downtime is still on its way, so no host is "down" for the collector's own
        // absence (an alert already firing keeps its state meanwhile).
        if (last < this.startedAt && now - this.startedAt <= r.seconds * 1000) return undefined;
        return Math.max(0, (now - last) / 1000);
      }
      case 'check': {
        const name = series !== '' ? parseMetricKey('x' + series)!.labels.check! : r.check;
        const st = src.checkStatus(h.host, name, now, { samples: r.samples, types: r.check_types });
        return st === null || st === undefined ? st : st === 'down' ? 1 : 0;
      }
      case 'flapping': {
        let downs = 0;
        for (const t of this.hosts.transitions(h.host, now - rule.windowMs)) if (t.to === 'down') downs++;
        return downs;
      }
    }
  }

  /** the hosts a rule is evaluated on in a cycle over `hosts` (not retired) */
  private targetsOf(rule: CompiledRule, hosts: HostSeen[], byHost: Map<string, HostSeen>, arrivals?: Arrivals): HostSeen[] {
    const dir = this.hosts;
    const pattern = rule.spec.host;
    const exact = pattern !== undefined && !/[*?]/.test(pattern);
    let targets = exact ? (byHost.has(pattern) ? [byHost.get(pattern)!] : []) : rule.hostGlob ? hosts.filter((h) => rule.hostGlob!.test(h.host)) : hosts;
    // the host registry says who is ephemeral on the host itself (sources.ts); the directory otherwise
    if (rule.spec.permanent_only) targets = targets.filter((h) => h.reports === true && !(h.ephemeral ?? dir.isEphemeral(h.host)));
    if (arrivals) targets = targets.filter((h) => arrivals.has(h.host) && arrivalCanChange(rule, arrivals.get(h.host)!));
    return targets;
  }

  /**
   * The log-store questions a cycle at `now` over `hosts` asks (log rules' counts, absence rules'
   * newest line of a source), so that a store that answers asynchronously can be read before the
   * cycle, which is one synchronous step (AlertSources.prepare).
   */
  logReads(now: number, hosts: HostSeen[], arrivals?: Arrivals): LogReads {
    const out: LogReads = { counts: [], last: [] };
    const live = hosts.filter((h) => !this.hosts.isRetired(h.host));
    const byHost = new Map(live.map((h) => [h.host, h]));
    for (const rule of this.rules.values()) {
      const r = rule.spec;
      if (!rule.enabled || (r.kind !== 'log' && !(r.kind === 'absence' && r.source !== undefined))) continue;
      if (arrivals && ![...arrivals.values()].some((names) => arrivalCanChange(rule, names))) continue;
      for (const h of this.targetsOf(rule, live, byHost, arrivals)) {
        if (r.kind === 'log') out.counts.push({ query: r.query, host: h.host, sinceMs: now - rule.windowMs, cap: logCap(r.min_count) });
        else if (r.kind === 'absence') out.last.push({ host: h.host, source: r.source! });
      }
    }
    return out;
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
      this.decideNotifications(rule, next, now, groups);
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
      const targets = this.targetsOf(rule, hosts, byHost, arrivals);
      let error: string | null = null;
      for (const h of targets) {
        for (const series of this.seriesFor(rule, h.host, known)) {
          instances++;
          let value: number | null | undefined;
          try {
            value = this.valueOf(rule, h, series, now);
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
          apply(rule, h.host, series, value, false, this.cap);
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
      if (groups.size > 0) outbox = this.outboxRows(groups, await this.o.store.disabledNotifiers());
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

  private decideNotifications(rule: CompiledRule, s: InstanceState, now: number, groups: Map<string, Decided[]>): void {
    const out: Decided[] = [];
    const decided = (payload: AlertPayload, after: number | null): Decided => ({
      payload,
      occasion: { status: payload.status, fingerprint: payload.fingerprint, startsAt: payload.startsAt, after },
    });
    if (s.phase === 'firing') {
      const k = firingKey(s)!;
      // a silent rule (notify: false, or 'critical' at warning) is held back like a silenced alert
      const silenced = !notifies(rule, s.severity!) || silencedBy(this.silences, this.labelsFor(rule, s.host, s.severity!, s.series), now) !== null;
      if (s.notifiedKey !== k) {
        if (s.notifiedKey !== null) {
          const old = parseKey(s.notifiedKey);
          out.push(decided(this.payload(rule, s, old.severity, old.startsAt, now), null));
          s.notifiedKey = null;
          s.lastNotifiedAt = null;
        }
        if (!silenced) {
          out.push(decided(this.payload(rule, s, s.severity!, s.firingSince!, null), null));
          s.notifiedKey = k;
          s.lastNotifiedAt = now;
        }
      } else if (!silenced && now - (s.lastNotifiedAt ?? 0) >= this.o.repeatIntervalMs) {
        out.push(decided(this.payload(rule, s, s.severity!, s.firingSince!, null), s.lastNotifiedAt ?? 0));
        s.lastNotifiedAt = now;
      }
    } else if (s.notifiedKey !== null) {
      const old = parseKey(s.notifiedKey);
      out.push(decided(this.payload(rule, s, old.severity, old.startsAt, now), null));
      s.notifiedKey = null;
      s.lastNotifiedAt = null;
    }
    if (out.length === 0) return;
    const list = groups.get(rule.name) ?? [];
    list.push(...out);
    groups.set(rule.name, list);
  }

  private outboxRows(groups: Map<string, Decided[]>, disabled: ReadonlyMap<string, unknown>): NewOutbox[] {
    if (groups.size === 0) return [];
    const rows: NewOutbox[] = [];
    for (const [rule, decided] of groups) {
      const alerts = decided.map((d) => d.payload);
      const occasions = decided.map((d) => d.occasion);
      for (const n of this.o.notifiers) {
        if (disabled.has(n.name) || !n.accepts(rule)) continue;
        rows.push({ id: notificationId(n.name, rule, occasions), notifier: n.name, rule, body: n.render({ rule, alerts }) });
      }
    }
    return rows;
  }

  /** Pending and firing alerts, for GET /api/v1/alerts. */
  current(now: number): CurrentAlert[] {
    const out: CurrentAlert[] = [];
    for (const s of this.states.values()) {
      if (s.phase === 'ok') continue;
      const rule = this.rules.get(s.rule);
      if (!rule) continue;
      const labels = this.labelsFor(rule, s.host, s.severity!, s.series);
      out.push({
        rule: s.rule,
        host: s.host,
        series: s.series,
        notify: notifies(rule, s.severity!),
        state: s.phase,
        severity: s.severity,
        value: s.value,
        labels,
        annotations: this.annotationsFor(rule, labels, s.value),
        active_since: s.activeSince,
        starts_at: s.firingSince,
        silenced_by: silencedBy(this.silences, labels, now),
      });
    }
    return out.sort((a, b) => a.rule.localeCompare(b.rule) || a.host.localeCompare(b.host) || a.series.localeCompare(b.series));
  }
}
