// The index backfill of an upgraded database (collector/search-backfill.ts) as a plugin: started
// when the app is ready, through the writer's committer (app.writerBackfill) so that its slices
// run on the connection and the thread that commit ingest, stopped before the writer closes.
// Its state is GET /api/v1/logs/index and the ringtail_search_backfill_remaining_ids gauge.
import fp from 'fastify-plugin';
import { Gauge } from 'prom-client';
import { SearchBackfill, type BackfillOptions } from '../search-backfill.js';
import { READERS } from './auth.js';

declare module 'fastify' {
  interface FastifyInstance {
    searchBackfill: SearchBackfill;
  }
}

export interface SearchBackfillPluginOptions extends BackfillOptions {
  /** default true: a collector indexes its older lines by itself */
  autoStart?: boolean;
}

export const searchBackfillPlugin = fp<SearchBackfillPluginOptions>(
  async (app, opts) => {
    const store = app.storage.logs.backfill;
    const backfill = new SearchBackfill(
      {
        step: (limit) => app.writerBackfill(limit),
        idle: () => app.writer.drain(),
        status: () => store?.status() ?? null,
      },
      app.events,
      app.clock,
      opts,
    );
    app.decorate('searchBackfill', backfill);
    new Gauge({
      name: 'ringtail_search_backfill_remaining_ids',
      help: 'line ids an upgraded database has still to add to the number-run search index (0: every line is indexed)',
      registers: [app.metrics.registry],
      collect() {
        this.set(backfill.status().remaining_ids);
      },
    });
    app.get('/api/v1/logs/index', { config: { roles: READERS } }, async () => ({ number_runs: backfill.status() }));
    if (opts.autoStart ?? true) app.addHook('onReady', async () => backfill.start());
    // preClose: before the writer's onClose closes the connection the slices run on
    app.addHook('preClose', async () => backfill.stop());
  },
  { name: 'ringtail-search-backfill', dependencies: ['ringtail-storage', 'ringtail-metrics', 'ringtail-writer'] },
);
