// Self-monitoring in Prometheus text format. Every named event (shared/events.ts) is counted in
// `ringtail_events_total{event}`; the ones that matter most also have their own series. The
// route needs a viewer or admin token (no dedicated role: scraping reads no more than a viewer
// may, and Prometheus sends a bearer token with `authorization: { credentials: … }`).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { residentMemory } from '../memory.js';
import { READERS } from './auth.js';

export interface CollectorMetrics {
  registry: Registry;
  batchSeconds: Histogram;
  commitSeconds: Histogram;
  retentionSliceMaxSeconds: Gauge;
  tailClients: Gauge;
  /** set by the live tail: the most unsent bytes any client has */
  tailBacklog: () => number;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: CollectorMetrics;
  }
}

/** events with a dedicated counter: event name → [metric name, help] */
const COUNTED: Record<string, [string, string]> = {
  'ingest.lines': ['ringtail_ingest_lines_total', 'log lines committed'],
  'ingest.batches': ['ringtail_ingest_batches_total', 'ingest requests committed'],
  'ingest.duplicates': ['ringtail_ingest_duplicate_lines_total', 'redelivered lines dropped by offset'],
  'ingest.filtered': ['ringtail_ingest_filtered_lines_total', 'lines dropped by collector filter rules'],
  'ingest.ts_clamped': ['ringtail_ingest_ts_clamped_lines_total', 'lines whose implausible time was replaced by the received time'],
  'host_metrics.rejected': ['ringtail_host_metrics_rejected_samples_total', 'metric samples rejected (stamped too far in the future)'],
  'retention.deleted': ['ringtail_retention_deleted_lines_total', 'lines deleted by retention'],
  'tail.skipped': ['ringtail_tail_skipped_lines_total', 'live-tail lines skipped for slow clients'],
};

export const metricsPlugin = fp<{ dataDir: string }>(
  async (app, opts) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'ringtail_' });
    const events = new Counter({ name: 'ringtail_events_total', help: 'named events, by name', labelNames: ['event'], registers: [registry] });
    const rejected = new Counter({ name: 'ringtail_requests_rejected_total', help: 'requests refused, by reason', labelNames: ['reason', 'status'], registers: [registry] });
    const metricBatchSeconds = new Histogram({
      name: 'ringtail_metric_batch_seconds',
      help: 'metric ingest request latency from parsed body to acknowledgement (includes the group commit)',
      // finer around the 100 ms target: with ≤ 100 / ≤ 250 / ≤ 500 a p99 of 101 ms read as ≤ 250
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.125, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 10],
      registers: [registry],
    });
    const counters = new Map(Object.entries(COUNTED).map(([ev, [name, help]]) => [ev, new Counter({ name, help, registers: [registry] })]));
    app.events.on((name, n, fields) => {
      events.inc({ event: name }, n);
      counters.get(name)?.inc(n);
      // metric requests' latency, parsed body to acknowledgement (the route's `ms`)
      if (name === 'host_metrics.ingest' && typeof fields?.ms === 'number') metricBatchSeconds.observe(fields.ms / 1000);
      if (name === 'request.rejected') rejected.inc({ reason: String(fields?.reason ?? 'other'), status: String(fields?.status ?? '') }, n);
    });
    const m: CollectorMetrics = {
      registry,
      batchSeconds: new Histogram({
        name: 'ringtail_ingest_batch_seconds',
        help: 'ingest request latency from parsed body to acknowledgement (includes the group commit)',
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
        registers: [registry],
      }),
      commitSeconds: new Histogram({
        name: 'ringtail_commit_seconds',
        help: 'duration of one group-commit transaction',
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
        registers: [registry],
      }),
      retentionSliceMaxSeconds: new Gauge({ name: 'ringtail_retention_slice_max_seconds', help: 'longest retention slice so far (the writer is held this long at most)', registers: [registry] }),
      tailClients: new Gauge({ name: 'ringtail_tail_clients', help: 'connected live-tail clients', registers: [registry] }),
      tailBacklog: () => 0,
    };
    new Gauge({
      name: 'ringtail_tail_max_buffered_bytes',
      help: 'largest unsent backlog of any live-tail client',
      registers: [registry],
      collect() {
        this.set(m.tailBacklog());
      },
    });
    new Gauge({
      name: 'ringtail_db_used_bytes',
      help: 'bytes of the database in use (retention.max_bytes is checked against this)',
      registers: [registry],
      async collect() {
        this.set(await app.storage.logs.retention.usedBytes());
      },
    });
    new Gauge({
      name: 'ringtail_db_file_bytes',
      help: 'size of the database file and its WAL',
      registers: [registry],
      collect() {
        let total = 0;
        for (const f of ['ringtail.db', 'ringtail.db-wal']) {
          try {
            total += statSync(join(opts.dataDir, f)).size;
          } catch {
            // no WAL yet
          }
        }
        this.set(total);
      },
    });
    new Gauge({
      name: 'ringtail_resident_memory_bytes',
      help: 'resident memory by kind: anonymous (JS heaps of every thread, malloc, SQLite caches) and file-backed (the node executable, libraries)',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        const r = residentMemory();
        if (!r) return;
        this.set({ kind: 'anonymous' }, r.anonymous);
        this.set({ kind: 'file' }, r.file);
      },
    });
    app.decorate('metrics', m);
    app.get('/metrics', { config: { roles: READERS } }, async (_req, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'ringtail-metrics', dependencies: ['ringtail-storage', 'ringtail-auth'] },
);
