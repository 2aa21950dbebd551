// The metrics plugin: opens the round-robin store next to the log database (or takes one given),
// or, when the storage has a shared series store (--storage clickhouse), that one; decorates
// `app.hostMetrics`, registers the metric routes, closes the store with the app.
import { join } from 'node:path';
import fp from 'fastify-plugin';
import { openRrdStore } from '../rrd/sqlite-store.js';
import type { RrdStore } from '../rrd/types.js';
import { createLayouts, type LayoutOverride } from './layout.js';
import { metricRoutes } from './routes.js';
import { MetricService } from './service.js';
import { SharedMetricService } from './shared-service.js';
import { ThreadedRrdStore } from './store-thread.js';
import { METRICS_DB } from './files.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** host metrics as round-robin series (not the collector's own Prometheus metrics) */
    hostMetrics: MetricService;
  }
}

export interface HostMetricsPluginOptions {
  dataDir: string;
  /** an open store (tests, other backends); the app then does not close it */
  store?: RrdStore;
  /** per-metric-pattern layouts, first match wins; the default host layout otherwise */
  layouts?: LayoutOverride[];
  /** samples stamped more than this after the collector's clock are rejected (DEFAULT_MAX_FUTURE_MS) */
  maxFutureMs?: number;
  /** queued values beyond which new requests get 503 + Retry-After (MAX_QUEUED_VALUES) */
  maxQueuedValues?: number;
  /**
   * true: the store lives on a thread of its own (store-thread.ts; the server's choice), so series
   * creation, journaling and fsyncs never hold the event loop; false (default): on the event loop.
   */
  thread?: boolean;
}

export { METRICS_DB } from './files.js';
export const METRICS_CHECKPOINT_SLICE = 2_000;
/**
 * The metric store connection's SQLite page cache (KiB). SQLite's default here is 16 MB, and the
 * store's thread filled it while 1,000 agents created their 60,000 series (load bench: the
 * process's page caches 17-24 MB in all, ~2-9 MB with this connection at 2 MB; read with gdb,
 * sqlite3_status PAGECACHE_OVERFLOW). What it holds is written once and read rarely: new series'
 * rows and chunks, journal rows appended, a chunk read when its series is applied (the OS's page
 * cache serves those as well).
 */
export const METRICS_STORE_CACHE_KB = 4096;

export const hostMetricsPlugin = fp<HostMetricsPluginOptions>(
  async (app, opts) => {
    const layouts = createLayouts(opts.layouts);
    // Past its threshold each update call also applies a journal slice, on the store's thread (or
    // this event loop): a 20,000-update slice (the store's default) held it for 250-350 ms under
    // the load bench, 2,000 for about a tenth of that (the journal still shrinks: twice each
    // call's updates); on the thread a shorter slice also lets waiting reads in sooner.
    const path = join(opts.dataDir, METRICS_DB);
    const storeOptions = { create: true, checkpointSlice: METRICS_CHECKPOINT_SLICE, cacheKb: METRICS_STORE_CACHE_KB };
    const svcOptions = { maxFutureMs: opts.maxFutureMs, events: app.events, maxQueuedValues: opts.maxQueuedValues };
    const shared = opts.store || !app.hasDecorator('storage') ? undefined : await app.storage.openSeries?.();
    const store = shared ? undefined : (opts.store ?? (opts.thread ? await ThreadedRrdStore.open(path, storeOptions, (err) => app.health.fail('metric store thread', err)) : openRrdStore(path, storeOptions)));
    const svc = shared ? new SharedMetricService(shared, layouts, svcOptions) : new MetricService(store!, layouts, svcOptions);
    app.decorate('hostMetrics', svc);
    // Series updated in the far future before such samples were refused: said at every start,
    // since until they are reset their real samples are rejected (README, "Host metrics").
    const poisoned = svc.poisonedSeries(app.clock());
    for (const e of poisoned.slice(0, 20)) {
      app.events.emit('host_metrics.series_in_future', { host: e.host, metric: e.metric, last_update: e.last_update, max_future_ms: svc.maxFutureMs }, 'warn');
    }
    if (poisoned.length > 20) app.events.emit('host_metrics.series_in_future', { more: poisoned.length - 20 }, 'warn');
    app.addHook('onClose', async () => {
      await svc.drain();
      if (shared) await shared.close();
      else if (!opts.store) {
        if (store instanceof ThreadedRrdStore) await store.closeAsync();
        else store?.close();
      }
    });
    await app.register(metricRoutes);
  },
  { name: 'ringtail-host-metrics', dependencies: ['ringtail-auth'] },
);
