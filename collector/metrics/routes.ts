// Metric routes: agents post samples; viewers list series and hosts and fetch one series.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyPluginAsync } from 'fastify';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { METRICS_INGEST_PATH, MetricBatch } from '../../shared/wire.js';
import { INGESTERS, READERS } from '../plugins/auth.js';
import { parseTimeParam } from '../query/time.js';
import type { MetricTiming } from './service.js';

const check = TypeCompiler.Compile(MetricBatch);

export function validateMetricBatch(body: unknown): MetricBatch {
  // As for log batches: Check() is the compiled fast path; Errors() walks the value again with
  // the generic interpreter (2 % of the main thread under the load bench), so it runs only to
  // explain a body that already failed.
  if (check.Check(body)) return body;
  const first = check.Errors(body).First();
  throw new RingtailError(ErrorCodes.BAD_REQUEST, `body${first?.path || '/'}: ${first?.message ?? 'does not match the metric batch schema'}`);
}

const ListQuery = Type.Object({ host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) }, { additionalProperties: false });
const HostQuery = Type.Object(
  { host: Type.String({ minLength: 1, maxLength: 255 }), metric: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })) },
  { additionalProperties: false },
);
/** a host whose agent keeps sending future samples is reported at most this often */
const FUTURE_WARN_EVERY_MS = 60_000;
const SeriesQuery = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 255 }),
    metric: Type.String({ minLength: 1, maxLength: 2048 }),
    start: Type.Optional(Type.String({ maxLength: 64 })),
    end: Type.Optional(Type.String({ maxLength: 64 })),
    cf: Type.Union([Type.Literal('AVERAGE'), Type.Literal('MIN'), Type.Literal('MAX'), Type.Literal('LAST')], { default: 'AVERAGE' }),
    /** ms per row wanted: the archive nearest to it among those reaching back to start */
    resolution: Type.Optional(Type.Integer({ minimum: 1000, maximum: 366 * 86_400_000 })),
  },
  { additionalProperties: false },
);
type SeriesQuery = Static<typeof SeriesQuery>;

const DAY_MS = 86_400_000;

/** One Server-Timing metric (W3C): `name;dur=ms`, or nothing when the phase did not happen. */
const phase = (name: string, ms: number | undefined): string => (ms === undefined ? '' : `, ${name};dur=${ms.toFixed(2)}`);

export const metricRoutes: FastifyPluginAsync = async (app) => {
  const warned = new Map<string, number>();
  /** ms from the request's arrival to its body's parsing (after the onRequest hooks: authentication) */
  const parsingAt = new WeakMap<object, number>();
  const preParsing = async (req: object, reply: { elapsedTime: number }) => {
    parsingAt.set(req, reply.elapsedTime);
  };
  app.post(METRICS_INGEST_PATH, { config: { roles: INGESTERS }, preParsing }, async (req, reply) => {
    const handlerAt = reply.elapsedTime;
    const checking = performance.now();
    const batch = validateMetricBatch(req.body);
    await app.checkHostBinding(req, batch.host);
    const started = performance.now();
    // answered after the group commit holding it (MetricService.submit)
    const timing: MetricTiming = { submitted: started };
    const ack = await app.hostMetrics.submit(batch, app.clock(), timing);
    const resumed = performance.now();
    if (app.hasDecorator('hosts')) {
      app.hosts.heard(batch.host, app.clock(), { source: 'metrics', agentId: batch.agent_id, ephemeral: batch.ephemeral, intervalMs: batch.interval_ms });
    }
    const end = performance.now();
    const ms = +(end - started).toFixed(2);
    app.events.emit('host_metrics.ingest', { host: batch.host, ...ack, ms }, 'debug');
    // `ack` is the value ringtail_metric_batch_seconds observes for this request, so that a
    // client can put its own time beside the collector's request by request (W3C Server-Timing);
    // the others say where the request's time went: before the body (authentication), reading
    // and parsing the body, validation and host binding, then within `ack` the writer's queue,
    // its group's planning, the store's thread (waiting there, creating series, the durable
    // commit), the event loop taking the answer back to this handler, and the hosts' registry.
    const pre = parsingAt.get(req);
    const t = timing;
    reply.header(
      'server-timing',
      `ack;dur=${ms}` +
        phase('auth', pre) +
        phase('body', pre === undefined ? undefined : handlerAt - pre) +
        phase('check', started - checking) +
        phase('queue', t.queue) +
        phase('plan', t.plan) +
        phase('store', t.store) +
        phase('twait', t.phases?.wait) +
        phase('create', t.phases?.create) +
        phase('commit', t.phases?.commit) +
        phase('resume', t.answered === undefined ? undefined : resumed - t.answered) +
        phase('heard', end - resumed),
    );
    app.events.add('host_metrics.samples', ack.accepted);
    app.events.add('host_metrics.duplicates', ack.duplicates);
    if (ack.rejected) {
      app.events.add('host_metrics.rejected', ack.rejected);
      // counted always, logged once a minute per host: a bad clock sends every interval
      const now = app.clock();
      if (now - (warned.get(batch.host) ?? -Infinity) >= FUTURE_WARN_EVERY_MS) {
        warned.set(batch.host, now);
        app.events.emit('host_metrics.samples_rejected', { host: batch.host, agent_id: batch.agent_id, rejected: ack.rejected, first: ack.reasons?.[0]?.message }, 'warn');
      }
    }
    if (ack.created > 0) app.events.emit('host_metrics.series_created', { host: batch.host, created: ack.created });
    return ack;
  });

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/v1/metrics', { schema: { querystring: ListQuery }, config: { roles: READERS } }, async (req) => ({
    items: await app.hostMetrics.listSeries(req.query.host),
  }));

  app.get('/api/v1/metrics/hosts', { config: { roles: READERS } }, async () => ({ items: await app.hostMetrics.listHosts(app.clock()) }));

  app.delete<{ Querystring: Static<typeof HostQuery> }>('/api/v1/metrics', { schema: { querystring: HostQuery }, config: { roles: ['admin'] } }, async (req) => {
    const { host, metric } = req.query;
    const deleted = await app.hostMetrics.remove(host, metric);
    if (deleted > 0) app.events.emit(metric === undefined ? 'host_metrics.host_withdrawn' : 'host_metrics.series_deleted', { host, ...(metric !== undefined ? { metric } : {}), series: deleted });
    return { host, ...(metric !== undefined ? { metric } : {}), deleted };
  });

  app.get<{ Querystring: SeriesQuery }>('/api/v1/series', { schema: { querystring: SeriesQuery }, config: { roles: READERS } }, async (req) => {
    const q = req.query;
    // rrdtool's defaults: end now, start one day before end.
    const now = app.clock();
    const end = parseTimeParam('end', q.end, now) ?? now;
    const start = parseTimeParam('start', q.start, now) ?? end - DAY_MS;
    if (start >= end) throw new RingtailError(ErrorCodes.BAD_QUERY, `start: must be before end (start ${start}, end ${end})`, 400, { parameter: 'start' });
    const data = await app.hostMetrics.read(q.host, q.metric, q.cf, start, end, q.resolution);
    if (!data) throw new RingtailError(ErrorCodes.NOT_FOUND, `no series '${q.metric}' for host '${q.host}' (GET /api/v1/metrics?host= lists them)`, 404);
    return data;
  });
};
