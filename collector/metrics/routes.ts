// Metric routes: agents post samples; viewers list series and hosts and fetch one series.
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyPluginAsync } from 'fastify';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { METRICS_INGEST_PATH, MetricBatch } from '../../shared/wire.js';
import { checkCertHost, INGESTERS, READERS } from '../plugins/auth.js';

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
const HostQuery = Type.Object({ host: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false });
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

/** ms since epoch or RFC 3339, as in the logs API. */
export function parseTimeParam(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (/^\d+$/.test(raw)) return Number(raw);
  const t = Date.parse(raw);
  if (Number.isNaN(t)) throw new RingtailError(ErrorCodes.BAD_QUERY, `${name}: expected ms since epoch or an RFC 3339 time, got '${raw}'`);
  return t;
}

export const metricRoutes: FastifyPluginAsync = async (app) => {
  app.post(METRICS_INGEST_PATH, { config: { roles: INGESTERS } }, async (req) => {
    const batch = validateMetricBatch(req.body);
    checkCertHost(req.certHosts, batch.host);
    const started = performance.now();
    // answered after the group commit holding it (MetricService.submit)
    const ack = await app.hostMetrics.submit(batch, app.clock());
    app.events.emit('host_metrics.ingest', { host: batch.host, ...ack, ms: +(performance.now() - started).toFixed(2) }, 'debug');
    app.events.add('host_metrics.samples', ack.accepted);
    app.events.add('host_metrics.duplicates', ack.duplicates);
    if (ack.created > 0) app.events.emit('host_metrics.series_created', { host: batch.host, created: ack.created });
    return ack;
  });

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/v1/metrics', { schema: { querystring: ListQuery }, config: { roles: READERS } }, async (req) => ({
    items: app.hostMetrics.list(req.query.host),
  }));

  app.get('/api/v1/metrics/hosts', { config: { roles: READERS } }, async () => ({ items: app.hostMetrics.hosts(app.clock()) }));

  app.delete<{ Querystring: Static<typeof HostQuery> }>('/api/v1/metrics', { schema: { querystring: HostQuery }, config: { roles: ['admin'] } }, async (req) => {
    const deleted = app.hostMetrics.withdraw(req.query.host);
    if (deleted > 0) app.events.emit('host_metrics.host_withdrawn', { host: req.query.host, series: deleted });
    return { host: req.query.host, deleted };
  });

  app.get<{ Querystring: SeriesQuery }>('/api/v1/series', { schema: { querystring: SeriesQuery }, config: { roles: READERS } }, async (req) => {
    const q = req.query;
    // rrdtool's defaults: end now, start one day before end.
    const end = parseTimeParam('end', q.end) ?? app.clock();
    const start = parseTimeParam('start', q.start) ?? end - DAY_MS;
    if (start >= end) throw new RingtailError(ErrorCodes.BAD_QUERY, `start (${start}) must be before end (${end})`);
    const data = app.hostMetrics.fetch(q.host, q.metric, q.cf, start, end, q.resolution);
    if (!data) throw new RingtailError(ErrorCodes.NOT_FOUND, `no series '${q.metric}' for host '${q.host}' (GET /api/v1/metrics?host= lists them)`, 404);
    return data;
  });
};
