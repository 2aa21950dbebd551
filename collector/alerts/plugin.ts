// The alerts plugin: opens the alert store, builds the evaluator and the outbox deliverer from
// the configuration, runs them on timers when asked (the server does; tests drive them by hand
// with an injected clock), and registers the alerts API.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { DEFAULT_ALERTS, compileAlertsConfig, type AlertsConfig } from './config.js';
import { Evaluator } from './evaluator.js';
import { OutboxDeliverer } from './outbox.js';
import { alertRoutes } from './routes.js';
import { logStoreSources, type AlertSources } from './sources.js';
import { openAlertStore, type AlertStore } from './store.js';

export interface AlertsRuntime {
  store: AlertStore;
  evaluator: Evaluator;
  outbox: OutboxDeliverer;
  sources: AlertSources;
}

declare module 'fastify' {
  interface FastifyInstance {
    alerts: AlertsRuntime;
  }
}

export interface AlertsPluginOptions {
  dataDir: string;
  config?: Partial<AlertsConfig>;
  /** start the evaluation and delivery timers (the server does; tests call cycle()/drain()) */
  run?: boolean;
  /** where rule values come from; the log store (and no metrics) by default */
  sources?: AlertSources;
}

export const alertsPlugin = fp<AlertsPluginOptions>(
  async (app: FastifyInstance, opts) => {
    const cfg: AlertsConfig = {
      ...opts.config,
      evaluation_interval_ms: opts.config?.evaluation_interval_ms ?? DEFAULT_ALERTS.evaluation_interval_ms,
      repeat_interval_s: opts.config?.repeat_interval_s ?? DEFAULT_ALERTS.repeat_interval_s,
    };
    const { rules, notifiers } = compileAlertsConfig(cfg);
    const store = openAlertStore(opts.dataDir);
    for (const [name, d] of store.disabledNotifiers()) {
      const n = notifiers.find((x) => x.name === name);
      if (n && n.target !== d.url) store.enableNotifier(name);
    }
    const sources = opts.sources ?? logStoreSources(app.storage);
    const outbox = new OutboxDeliverer({ store, notifiers, clock: app.clock, events: app.events });
    const evaluator = new Evaluator({
      store,
      sources,
      notifiers,
      clock: app.clock,
      events: app.events,
      configRules: rules,
      repeatIntervalMs: cfg.repeat_interval_s * 1000,
      onQueued: () => {
        if (opts.run) outbox.kick();
      },
    });
    app.decorate('alerts', { store, evaluator, outbox, sources });

    let timer: NodeJS.Timeout | null = null;
    if (opts.run) {
      const tick = () => {
        try {
          evaluator.cycle();
        } catch (err) {
          app.events.emit('alerts.cycle.failed', { error: (err as Error).message }, 'warn');
        }
      };
      app.addHook('onReady', async () => {
        outbox.start();
        timer = setInterval(tick, cfg.evaluation_interval_ms);
        setImmediate(tick);
      });
    }
    app.addHook('onClose', async () => {
      if (timer) clearInterval(timer);
      await outbox.stop();
      store.close();
    });
    await app.register(alertRoutes);
  },
  { name: 'ringtail-alerts', dependencies: ['ringtail-storage', 'ringtail-auth'] },
);
