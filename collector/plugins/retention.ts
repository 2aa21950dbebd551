import fp from 'fastify-plugin';
import { Retention, type RetentionOptions } from '../retention.js';

declare module 'fastify' {
  interface FastifyInstance {
    retention: Retention;
  }
}

export const retentionPlugin = fp<RetentionOptions & { autoStart: boolean }>(
  async (app, opts) => {
    const retention = new Retention(() => app.storage.logs, app.clock, opts, app.events, (ms) => {
      app.metrics.retentionSliceMaxSeconds.set(retention.maxSliceMs / 1000);
      if (ms > 100) app.events.emit('retention.slow_slice', { ms: +ms.toFixed(1) }, 'warn');
    });
    app.decorate('retention', retention);
    if (opts.autoStart) app.addHook('onReady', async () => retention.start());
    app.addHook('preClose', async () => retention.stop());
  },
  { name: 'ringtail-retention', dependencies: ['ringtail-storage', 'ringtail-metrics'] },
);
