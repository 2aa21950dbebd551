// Storage: opens the store (or adopts one passed in) and decorates `app.storage`, with the log
// store wrapped in the ingest pipeline (timestamp clamping, filter rules, commit notification)
// so that every receiver goes through it. `app.logsCommitted` is the signal the live tail
// listens to.
import { EventEmitter } from 'node:events';
import fp from 'fastify-plugin';
import type { FilterRule } from '../config.js';
import { compileFilters } from '../ingest/filters.js';
import { prepareBatch, withPipeline } from '../ingest/pipeline.js';
import { openStorage, storageConfig } from '../storage/factory.js';
import type { Storage, WarmOptions, Warmup } from '../storage/types.js';
import type { IngestBatch } from '../../shared/wire.js';

declare module 'fastify' {
  interface FastifyInstance {
    storage: Storage;
    /** emits 'committed' after every commit that stored lines */
    logsCommitted: EventEmitter;
    /** the pipeline's steps, for writers that commit elsewhere (the writer thread) */
    pipeline: {
      prepare(batch: IngestBatch, receivedAt: number): IngestBatch;
      committed(): void;
      /** replaces the filter rules (SIGHUP reload); throws ConfigError, and changes nothing, on a bad rule */
      setFilters(rules: readonly FilterRule[] | undefined): void;
    };
  }
}

export interface StoragePluginOptions {
  dataDir: string;
  /** an already open storage (the server, tests); the app then does not close it. Default: SQLite in dataDir */
  storage?: Storage;
  filters?: readonly FilterRule[];
  /**
   * Read the store's files into the OS cache in the background once the app is ready, so that the
   * first searches after a start do not wait on the disk (storage/sqlite/warm.ts); default: off
   * (the server turns it on). Its end is the self-metric `storage.warmup` (bytes, ms, CPU).
   */
  warmup?: WarmOptions | false;
}

const SEARCHES = /^\/api\/v1\/logs(\/histogram)?(\?|$)/;

export const storagePlugin = fp<StoragePluginOptions>(
  async (app, opts) => {
    const raw = opts.storage ?? openStorage(storageConfig({ data: opts.dataDir }));
    const committed = new EventEmitter();
    committed.setMaxListeners(0);
    // One options object read on every batch, so a reload swaps the filter for every receiver at once.
    const steps = { filter: compileFilters(opts.filters), events: app.events, onCommitted: () => committed.emit('committed') };
    const logs = withPipeline(raw.logs, steps);
    app.decorate('pipeline', {
      prepare: (batch: IngestBatch, receivedAt: number) => prepareBatch(batch, receivedAt, steps.filter, app.events),
      committed: () => committed.emit('committed'),
      setFilters: (rules: readonly FilterRule[] | undefined) => {
        steps.filter = compileFilters(rules);
      },
    });
    app.decorate('storage', { ...raw, logs });
    app.decorate('logsCommitted', committed);
    if (opts.warmup && raw.warm) {
      // it yields to the requests that read the log store: searches and histograms (not the live
      // tail's stream, which stays open for as long as somebody watches)
      // Fastify cannot remove a hook: once the warm-up has ended, these return at once (every
      // ingest request passes through them for the collector's life), and they are callback
      // hooks, not async ones, so as not to cost a promise each.
      let reading = 0;
      let warming = true;
      const counted = new WeakSet<object>();
      app.addHook('onRequest', (req, _reply, next) => {
        if (warming && req.method === 'GET' && SEARCHES.test(req.url)) {
          reading++;
          counted.add(req);
        }
        next();
      });
      const finished = (req: object) => {
        if (counted.delete(req)) reading--;
      };
      app.addHook('onResponse', (req, _reply, next) => {
        finished(req);
        next();
      });
      app.addHook('onRequestAbort', (req, next) => {
        finished(req);
        next();
      });
      const options = { ...opts.warmup, busy: () => reading > 0 };
      let warm: Warmup | null = null;
      // onReady takes well under a millisecond of it: the reads are asynchronous, in libuv's pool
      app.addHook('onReady', async () => {
        warm = raw.warm!(options);
        void warm.done.then((r) => {
          warming = false;
          app.events.emit('storage.warmup', { ...r }, r.state === 'failed' ? 'warn' : 'info');
        });
      });
      // preClose: the warm-up's reads end before the storage closes (a read in flight is one chunk)
      app.addHook('preClose', async () => {
        await warm?.stop();
      });
    }
    if (!opts.storage) app.addHook('onClose', async () => raw.close());
  },
  { name: 'ringtail-storage' },
);
