// The hosts plugin: decorates `app.hosts` (collector/hosts/service.ts), runs its tick every
// hosts.sweep_interval when asked (the server does; tests call tick() with an injected clock),
// and registers the hosts API. Receivers tell it whom they heard (app.hosts.heard).
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import { hostsTiming, type HostsConfig } from './config.js';
import { hostRoutes } from './routes.js';
import { HostsService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    hosts: HostsService;
  }
}

export interface HostsPluginOptions {
  config?: Partial<HostsConfig>;
  /** run the periodic tick (the server does) */
  run?: boolean;
}

export const hostsPlugin = fp<HostsPluginOptions>(
  async (app: FastifyInstance, opts) => {
    const svc = new HostsService({
      store: app.storage.hostStates,
      clock: app.clock,
      events: app.events,
      timing: hostsTiming(opts.config),
      metrics: () => (app.hasDecorator('hostMetrics') ? app.hostMetrics : undefined),
      // on a shared store the designated alert evaluator decides silence transitions (it is the
      // one whose host rules must see them first); without the alerts plugin every collector does
      decides: () => !app.storage.hostStates?.shared || !app.hasDecorator('alerts') || app.alerts.election.evaluating(),
    });
    app.decorate('hosts', svc);
    let timer: NodeJS.Timeout | null = null;
    app.addHook('onReady', async () => {
      // after every plugin: the metric catalog is loaded by now
      await svc.adoptKnown(app.storage.logs);
      if (app.hasDecorator('metrics') && app.metrics?.registry) {
        new Gauge({
          name: 'ringtail_hosts',
          help: 'known hosts by lifecycle state',
          labelNames: ['state'],
          registers: [app.metrics.registry],
          collect() {
            for (const [state, n] of Object.entries(svc.registry.counts())) this.set({ state }, n);
          },
        });
      }
      if (!opts.run) return;
      // one tick at a time: a tick waiting on the store (ClickHouse) is not overtaken by the next
      let running = false;
      const tick = async () => {
        if (running) return;
        running = true;
        try {
          await svc.tick();
        } catch (err) {
          app.events.emit('hosts.tick_failed', { error: (err as Error).message }, 'warn');
        } finally {
          running = false;
        }
      };
      timer = setInterval(() => void tick(), svc.timing.sweepIntervalMs);
      timer.unref();
    });
    // last-seen times are kept in memory between sweeps: saved once more before the store closes
    app.addHook('preClose', async () => {
      if (timer) clearInterval(timer);
      await svc.registry.flush();
    });
    await app.register(hostRoutes);
  },
  { name: 'ringtail-hosts', dependencies: ['ringtail-storage', 'ringtail-auth'] },
);
