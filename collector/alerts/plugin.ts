// The alerts plugin: opens the alert store, builds the evaluator and the outbox deliverer from
// the configuration, runs them on timers when asked (the server does; tests drive them by hand
// with an injected clock), and registers the alerts API.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_ALERTS, compileAlertsConfig, type AlertsConfig } from './config.js';
import { Evaluator } from './evaluator.js';
import { gatherEvidence, type EvidenceSources } from './evidence.js';
import { EvaluatorElection } from './leader.js';
import { OutboxDeliverer } from './outbox.js';
import { alertRoutes } from './routes.js';
import { metricServiceSources, type MetricSources } from './metric-sources.js';
import { RecentSamples, type Wanted } from './recent-samples.js';
import { RemoteSeries } from './remote-series.js';
import type { HostDirectory } from './hosts.js';
import type { CompiledRule } from './rules.js';
import { logStoreSources, type AlertSources } from './sources.js';
import { SYNC_LOGS, type AlertStore } from '../storage/types.js';

const NO_LINES: EvidenceSources['logs'] = { query: () => ({ items: [] }) };

export interface AlertsRuntime {
  store: AlertStore;
  evaluator: Evaluator;
  outbox: OutboxDeliverer;
  sources: AlertSources;
  /** who evaluates among the collectors on a shared store (leader.ts) */
  election: EvaluatorElection;
  /**
   * One turn as the timers run it: takes or renews the evaluator lease; the evaluator runs a
   * cycle with the log store read first (cycle() alone reads nothing ahead), a standby reads the
   * evaluator's states instead. Resolves to whether this collector evaluated.
   */
  evaluate(arrivals?: Map<string, Set<string>>): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    alerts: AlertsRuntime;
  }
}

/** The series metric and absence rules read, how long each is kept, and the longest window among them. */
export function wantedSeries(rules: Iterable<CompiledRule>): Wanted {
  const keys = new Set<string>();
  const names = new Set<string>();
  const keep = new Map<string, number>();
  let keepMs = 60_000;
  let minCount = 1;
  const want = (metric: string, ms: number) => {
    (metric.includes('{') ? keys : names).add(metric);
    keep.set(metric, Math.max(keep.get(metric) ?? 60_000, ms));
    keepMs = Math.max(keepMs, ms);
  };
  for (const r of rules) {
    if (!r.enabled) continue;
    if (r.spec.kind === 'metric') {
      want(r.spec.metric, r.windowMs + 60_000);
      if (r.spec.divide_by !== undefined) want(r.spec.divide_by, r.windowMs + 60_000);
    } else if (r.spec.kind === 'absence' && r.spec.metric !== undefined) want(r.spec.metric, 60_000);
    else if (r.spec.kind === 'check') minCount = Math.max(minCount, r.spec.samples ?? 1);
  }
  return { keys, names, keepMs, keep, minCount };
}

/** Alert gauges beside the collector's own metrics (GET /metrics); events are counted there already. */
function exposeMetrics(app: FastifyInstance, evaluator: Evaluator, store: AlertStore): void {
  const registers = [app.metrics.registry];
  new Gauge({
    name: 'ringtail_alerts',
    help: 'pending and firing alerts, by state and severity',
    labelNames: ['state', 'severity'],
    registers,
    collect() {
      this.reset();
      for (const a of evaluator.current(app.clock())) this.inc({ state: a.state, severity: a.severity ?? '' });
    },
  });
  new Gauge({
    name: 'ringtail_alerts_outbox_pending',
    help: 'notifications waiting for delivery or a retry',
    registers,
    collect() {
      return store.pendingCount().then((n) => this.set(n));
    },
  });
  new Gauge({
    name: 'ringtail_alerts_cycle_seconds',
    help: 'duration of the last evaluation cycle',
    registers,
    collect() {
      this.set((evaluator.lastCycle?.ms ?? 0) / 1000);
    },
  });
}

export interface AlertsPluginOptions {
  config?: Partial<AlertsConfig>;
  /** start the evaluation and delivery timers (the server does; tests call cycle()/drain()) */
  run?: boolean;
  /** where rule values come from; the log store (and no metrics) by default */
  sources?: AlertSources;
  /** host lifecycle for host-scoped rules (ephemeral, retired, down/up transitions); see hosts.ts */
  hosts?: HostDirectory;
  /**
   * evaluate the rules a committed batch can change right away (see arrivals below); on when
   * `run` is, so tests that drive cycle() by hand see only the cycles they ask for; the
   * configuration's `evaluate_on_arrival: false` turns it off in any case
   */
  evaluateOnArrival?: boolean;
  /** this collector's name in the evaluator lease (default: host name, pid and a random part) */
  collectorId?: string;
}

export const alertsPlugin = fp<AlertsPluginOptions>(
  async (app: FastifyInstance, opts) => {
    const cfg: AlertsConfig = {
      ...opts.config,
      evaluation_interval_ms: opts.config?.evaluation_interval_ms ?? DEFAULT_ALERTS.evaluation_interval_ms,
      repeat_interval_s: opts.config?.repeat_interval_s ?? DEFAULT_ALERTS.repeat_interval_s,
      defaults: opts.config?.defaults ?? DEFAULT_ALERTS.defaults,
    };
    const { rules, defaults, notifiers } = compileAlertsConfig(cfg);
    const store = await app.storage.openAlerts();
    for (const [name, d] of await store.disabledNotifiers()) {
      const n = notifiers.find((x) => x.name === name);
      if (n && n.target !== d.url) await store.enableNotifier(name);
    }
    const collectorId = opts.collectorId ?? `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
    // renewed once per turn: a lease shorter than two turns would lapse between them and pass
    // from collector to collector
    const leaseMs = Math.max((cfg.evaluator_lease_s ?? 30) * 1000, 2 * cfg.evaluation_interval_ms);
    const election = new EvaluatorElection({
      role: cfg.evaluator ?? 'auto',
      lease: store.evaluatorLease?.({ collectorId, leaseMs, clock: app.clock }) ?? null,
      leaseMs,
      clock: app.clock,
      events: app.events,
      collectorId,
    });
    // Metric and check rules read the metric series when the metrics plugin is there, through
    // recent samples kept as they are ingested.
    let evaluator: Evaluator | null = null;
    let wanted: { version: number; value: Wanted } | null = null;
    const recent = new RecentSamples(() => {
      if (!evaluator) return { keys: new Set(), keepMs: 0 };
      if (wanted?.version !== evaluator.version) wanted = { version: evaluator.version, value: wantedSeries(evaluator.rules.values()) };
      return wanted.value;
    });
    let metricSources: MetricSources | undefined;
    /** series other collectors consolidate (a shared store), read before each periodic cycle */
    let remote: RemoteSeries | undefined;
    // Evaluation on arrival: committed samples are gathered per host until the next turn of the
    // event loop, then the rules they can change are evaluated for those hosts in one partial
    // cycle (so a burst of batches costs one evaluation per (rule, host), and a rule's state
    // changes when its data does, not up to a periodic interval later). The state machine and
    // its `for`, hysteresis and notification memory are the periodic cycle's; the periodic cycle
    // goes on for absence and log rules and as a safety net.
    let pending: Map<string, Set<string>> | null = null;
    const arrived = (host: string, samples: ReadonlyArray<{ name: string }>) => {
      if (!pending) {
        pending = new Map();
        setImmediate(() => {
          const batch = pending!;
          pending = null;
          // only the evaluator evaluates on arrival (as its lease was last renewed)
          if (!evaluator || closed || !election.evaluating()) return;
          void runCycle(batch).catch((err: Error) => app.events.emit('alerts.cycle.failed', { error: err.message, on: 'arrival' }, 'warn'));
        });
      }
      let names = pending.get(host);
      if (!names) pending.set(host, (names = new Set()));
      for (const s of samples) names.add(s.name);
    };
    let closed = false;
    if (app.hasDecorator('hostMetrics')) {
      const svc = app.hostMetrics;
      remote = new RemoteSeries(svc, recent);
      metricSources = metricServiceSources(svc, recent, undefined, remote.hosts);
      // Fed after each durable ingest, whatever route, caller or store thread did it.
      const onArrival = cfg.evaluate_on_arrival !== false && (opts.evaluateOnArrival ?? opts.run ?? false);
      svc.onCommitted((reqs, acks) => {
        acks.forEach((a, i) => {
          if (a instanceof Error) return;
          const batch = reqs[i]!.batch;
          recent.record(batch);
          if (onArrival) arrived(batch.host, batch.samples);
        });
      });
      const withdraw = svc.withdraw.bind(svc);
      svc.withdraw = (host) => {
        recent.forgetHost(host);
        remote?.forgetHost(host);
        return withdraw(host);
      };
    }
    const sources = opts.sources ?? logStoreSources(app.storage, metricSources, app.clock, app.hasDecorator('hosts') ? app.hosts.registry : undefined);
    const outbox = new OutboxDeliverer({ store, notifiers, clock: app.clock, events: app.events, mayDeliver: () => election.evaluating() });
    evaluator = await Evaluator.open({
      store,
      sources,
      notifiers,
      clock: app.clock,
      events: app.events,
      configRules: rules,
      defaultRules: defaults,
      hosts: opts.hosts,
      repeatIntervalMs: cfg.repeat_interval_s * 1000,
      // Evidence is gathered inside the (synchronous) cycle: its log lines come from a store that
      // answers synchronously (SQLite); on a networked store (ClickHouse) evidence has no lines yet.
      evidence: (rule, host, series, now) => gatherEvidence({ logs: app.storage.logs[SYNC_LOGS] ?? NO_LINES, alerts: sources, externalURL: cfg.external_url ?? '' }, rule, host, series, now),
      onQueued: () => {
        if (opts.run) outbox.kick();
      },
    });
    /** a cycle, with the log store read before it (the cycle itself is one synchronous step) */
    const runCycle = async (arrivals?: Map<string, Set<string>>) => {
      const now = app.clock();
      // what other collectors stored since the last periodic cycle (none on a store of its own);
      // unreadable (ClickHouse away): this cycle goes on with what was read before
      if (!arrivals && remote) {
        await remote.refresh(now).then(
          (r) => r && app.events.add('alerts.remote_rows', r.rows),
          (err: Error) => app.events.emit('alerts.remote.failed', { error: err.message }, 'warn'),
        );
        if (closed) return;
      }
      await sources.prepare?.(now, (hosts) => evaluator!.logReads(now, hosts, arrivals));
      if (closed) return;
      await evaluator!.cycle(arrivals, now);
    };
    /** a periodic turn: the evaluator lease first, then a cycle (evaluator) or the states read (standby) */
    const turn = async (arrivals?: Map<string, Set<string>>): Promise<boolean> => {
      const t = await election.turn();
      if (closed) return false;
      if (!t.evaluate) {
        // a standby follows the evaluator's states (its API answers the same, a takeover starts there)
        if (election.shared) await evaluator!.refresh({ states: true });
        return false;
      }
      // the store is shared: rules and silences may have changed through another collector's API,
      // and a collector that has just taken over starts from the states its predecessor left
      if (election.shared) await evaluator!.refresh({ states: t.took_over });
      await runCycle(arrivals);
      if (t.took_over && opts.run) outbox.kick();
      return true;
    };
    app.decorate('alerts', { store, evaluator, outbox, sources, election, evaluate: turn });
    if (app.hasDecorator('metrics') && app.metrics?.registry) exposeMetrics(app, evaluator, store);

    let timer: NodeJS.Timeout | null = null;
    if (opts.run) {
      const tick = () => {
        void turn().catch((err: Error) => app.events.emit('alerts.cycle.failed', { error: err.message }, 'warn'));
      };
      app.addHook('onReady', async () => {
        outbox.start();
        timer = setInterval(tick, cfg.evaluation_interval_ms);
        setImmediate(tick);
      });
    }
    app.addHook('onClose', async () => {
      closed = true;
      if (timer) clearInterval(timer);
      await outbox.stop();
      // a standby takes over at its next turn instead of when the lease runs out
      await election.release().catch((err: Error) => app.events.emit('alerts.lease.error', { error: err.message, on: 'release' }, 'warn'));
      await store.close();
    });
    await app.register(alertRoutes);
  },
  { name: 'ringtail-alerts', dependencies: ['ringtail-storage', 'ringtail-auth'] },
);
