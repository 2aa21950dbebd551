// buildApp assembles the collector from encapsulated plugins; it never listens, so tests can
// drive it with inject() and only the server entry (collector/server.ts) opens a port.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ErrorCodes, RingtailError } from '../shared/errors.js';
import { createEvents, type EventSink } from '../shared/events.js';
import { STORAGE_RETRY_S, UnavailableError } from './ingest/unavailable.js';
import { authPlugin } from './plugins/auth.js';
import { dashboardPlugin } from './plugins/dashboard.js';
import { gzipPlugin } from './plugins/gzip.js';
import { hostBindingPlugin } from './plugins/host-binding.js';
import { agentBindingPlugin } from './plugins/agent-binding.js';
import { metricsPlugin } from './plugins/metrics.js';
import { regexPlugin, type RegexPluginOptions } from './plugins/regex.js';
import { retentionPlugin } from './plugins/retention.js';
import { searchBackfillPlugin, type SearchBackfillPluginOptions } from './plugins/search-backfill.js';
import { securityHeadersPlugin } from './plugins/security-headers.js';
import { storagePlugin } from './plugins/storage.js';
import { writerPlugin } from './plugins/writer.js';
import type { FilterRule } from './config.js';
import type { Storage, WarmOptions } from './storage/types.js';
import { healthRoutes } from './routes/health.js';
import { enrollRoutes } from './routes/enroll.js';
import { ingestRoutes } from './routes/ingest.js';
import { queryRoutes, type QueryOptions } from './routes/query.js';
import { streamRoutes, type StreamOptions } from './routes/stream.js';
import { sessionsPlugin } from './sessions/plugin.js';
import { sessionRoutes } from './sessions/routes.js';
import { syslogPlugin, type SyslogOptions, type SyslogTuning } from './receivers/syslog/index.js';
import type { TlsContexts } from './tls.js';
import { hostMetricsPlugin, type HostMetricsPluginOptions } from './metrics/plugin.js';
import { alertsPlugin, type AlertsPluginOptions } from './alerts/plugin.js';
import { hostsPlugin, type HostsPluginOptions } from './hosts/plugin.js';
import { clientErrorHandler } from './client-error.js';
import { Health } from './health.js';

declare module 'fastify' {
  interface FastifyInstance {
    clock: () => number;
    events: EventSink;
    /** parts that failed for good (a storage thread): /healthz and the server entry read it */
    health: Health;
    /** every registered route, for the auth audit test and the API docs */
    routeTable: Array<{ method: string; url: string; public: boolean }>;
  }
}

export interface AppOptions {
  dataDir: string;
  storage?: Storage;
  /** injected clock (ms since epoch) so tests control time */
  clock?: () => number;
  /** largest accepted request body in bytes */
  bodyLimit?: number;
  logger?: FastifyServerOptions['logger'];
  /** syslog receiver; its sockets open only on app.syslog.start() (server.ts, or a test) */
  syslog?: Partial<SyslogOptions> & { tuning?: SyslogTuning; tls?: TlsContexts };
  /** collector-side drop/keep rules (config key `filters`) */
  filters?: readonly FilterRule[];
  /** absent: no retention (tests keep their lines); the server passes config `retention` */
  retention?: { max_age_days: number; max_bytes: number; slice_rows?: number; interval_ms?: number; auto_start?: boolean };
  tail?: StreamOptions;
  query?: QueryOptions;
  /** regex workers and the per-token cap on concurrent `re` queries (config `regex`) */
  regex?: RegexPluginOptions;
  /** where ingest commits: 'inline' (default) or 'worker' (the writer thread; the server uses it) */
  writer?: 'inline' | 'worker';
  /** config `auth.bind_agent_hosts`: an agent token may only send for the first host it announced */
  bindAgentHosts?: boolean;
  /** queued log lines beyond which ingest answers 503 + Retry-After (MAX_QUEUED_LINES) */
  writerMaxQueuedLines?: number;
  /** round-robin metric store and per-metric layouts (collector/metrics) */
  hostMetrics?: Omit<HostMetricsPluginOptions, 'dataDir'>;
  /** alert rules, notifiers and whether to run the evaluation timers (collector/alerts/) */
  alerts?: AlertsPluginOptions;
  /** the background index backfill of an upgraded database (collector/search-backfill.ts); default: on */
  searchBackfill?: SearchBackfillPluginOptions;
  /** read the store's files into the OS cache in the background once ready (storage/sqlite/warm.ts); default off, the server's on */
  warmup?: WarmOptions | false;
  /** host lifecycle (config `hosts`) and whether to run its sweep timer (collector/hosts/) */
  hosts?: HostsPluginOptions;
  /** the server entry's own server (collector/server.ts: https when `tls` is configured); absent: Fastify's plain http */
  serverFactory?: FastifyServerOptions['serverFactory'];
}

/** What a refused request is counted under in ringtail_requests_rejected_total{reason}. */
function rejectReason(code: string | undefined, status: number, message: string): string {
  if (status === 401) return 'auth';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 413) return 'too_large';
  if (status === 415) return 'encoding';
  if (/gzip/i.test(message)) return 'gzip';
  if (/JSON/.test(message)) return 'json';
  if (code === ErrorCodes.BAD_QUERY) return 'query';
  return 'invalid';
}

export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;
export const PLUGIN_TIMEOUT_MS = 300_000;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // One log line per request would drown the collector's own log (and, under `ringtail up`,
    // feed itself through the local agent); errors are still logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Host names are path parameters (/api/v1/hosts/:host) of up to 255 characters; a longer one
    // must reach the route's schema and be refused by name (400), not miss the route (404).
    routerOptions: { maxParamLength: 16_384 },
    // Unknown fields must be rejected, not silently dropped, and bodies are not type-coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
    // errors before a request exists (431 for a URL over 16 KiB) answer with a coded body too
    clientErrorHandler,
    // A plugin's start may read a large store: the metric catalog of a month of a fleet (2.5 M
    // series) took longer than Fastify's default 10 s on a loaded machine, and the collector then
    // refused to start at all. A start that is slow is still a start; one that hangs is said after 5 min.
    pluginTimeout: PLUGIN_TIMEOUT_MS,
    ...(options.serverFactory ? { serverFactory: options.serverFactory } : {}),
  });
  app.decorate('clock', options.clock ?? Date.now);
  app.decorate('events', createEvents(app.log));
  app.decorate('health', new Health(app.events));
  app.decorate('routeTable', []);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) app.routeTable.push({ method, url: route.url, public: route.config?.public === true });
  });

  const refuse = (req: { url: string }, reply: import('fastify').FastifyReply, status: number, code: string, message: string, details?: Record<string, unknown>) => {
    app.events.emit('request.rejected', { reason: rejectReason(code, status, message), code, status, url: req.url.split('?')[0] }, 'debug');
    return reply.status(status).send({ ...details, error: code, message });
  };
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof RingtailError && err.status < 500) return refuse(req, reply, err.status, err.code, err.message, err.details);
    if (err instanceof UnavailableError) {
      // Said when to come back (collector/ingest/unavailable.ts). A saturated writer refuses many
      // requests a second: counted, logged at debug only; a full disk or failed commit is a warning.
      const fields = { reason: err.reason, retry_after_s: err.retryAfterS, url: req.url.split('?')[0], message: err.message };
      app.events.emit('ingest.unavailable', fields, err.reason === 'saturated' ? 'debug' : 'warn');
      return reply.status(503).header('retry-after', String(err.retryAfterS)).send({ error: err.code, message: err.message });
    }
    if (err instanceof RingtailError) {
      app.events.emit('request.failed', { code: err.code, status: err.status, url: req.url.split('?')[0], message: err.message }, 'warn');
      // every 503 says when to come back
      if (err.status === 503) reply.header('retry-after', String(STORAGE_RETRY_S));
      return reply.status(err.status).send({ error: err.code, message: err.message });
    }
    const e = err as { statusCode?: number; code?: string; validation?: unknown; message: string; validationContext?: string };
    if (e.validation) return refuse(req, reply, 400, ErrorCodes.BAD_REQUEST, `${e.validationContext ?? 'request'}: ${e.message}`);
    if (e.statusCode === 413) return refuse(req, reply, 413, ErrorCodes.TOO_LARGE, `body larger than ${app.initialConfig.bodyLimit} bytes`);
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return refuse(req, reply, e.statusCode, ErrorCodes.BAD_REQUEST, e.message);
    req.log.error({ err }, 'internal error');
    return reply.status(500).send({ error: ErrorCodes.INTERNAL, message: 'internal error' });
  });
  // Our own JSON parser, so that a malformed body is answered with the parser's reason (where it
  // broke) rather than a generic sentence. Invalid UTF-8 has already become U+FFFD when the body
  // is decoded as a string. A `__proto__` key stays an own property (JSON.parse never sets
  // prototypes) and is then refused by the schema like any unknown field.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(new RingtailError(ErrorCodes.BAD_REQUEST, `body: invalid JSON: ${(err as Error).message}`), undefined);
    }
  });
  app.setNotFoundHandler((req, reply) => refuse(req, reply, 404, ErrorCodes.NOT_FOUND, `no route ${req.method} ${req.url.split('?')[0]}`));

  // A plugin that fails (a bad option, a port in use) leaves those before it open: their
  // databases, the writer thread. Closing the app runs their onClose hooks, so a caller that
  // handles the error (a test, `ringtail up` retrying) does not leak them.
  try {
    // first, so that its hook runs before authentication can refuse a request
    await app.register(securityHeadersPlugin);
    await app.register(storagePlugin, { dataDir: options.dataDir, storage: options.storage, filters: options.filters, warmup: options.warmup });
    await app.register(sessionsPlugin, {});
    await app.register(authPlugin);
    await app.register(hostBindingPlugin, { enabled: options.bindAgentHosts });
    await app.register(agentBindingPlugin);
    await app.register(gzipPlugin);
    await app.register(hostsPlugin, options.hosts ?? {});
    await app.register(metricsPlugin, { dataDir: options.dataDir });
    await app.register(regexPlugin, options.regex ?? {});
    const r = options.retention;
    await app.register(retentionPlugin, {
      maxAgeDays: r?.max_age_days ?? 0,
      maxBytes: r?.max_bytes ?? 0,
      sliceRows: r?.slice_rows,
      intervalMs: r?.interval_ms,
      autoStart: r?.auto_start ?? r !== undefined,
    });
    await app.register(healthRoutes);
    await app.register(writerPlugin, { mode: options.writer, maxQueuedLines: options.writerMaxQueuedLines });
    await app.register(searchBackfillPlugin, options.searchBackfill ?? {});
    await app.register(ingestRoutes);
    await app.register(enrollRoutes);
    await app.register(queryRoutes, options.query ?? {});
    await app.register(streamRoutes, options.tail ?? {});
    await app.register(hostMetricsPlugin, { dataDir: options.dataDir, ...options.hostMetrics });
    await app.register(alertsPlugin, { ...options.alerts });
    await app.register(sessionRoutes);
    await app.register(dashboardPlugin);
    await app.register(syslogPlugin, { syslog: options.syslog, tuning: options.syslog?.tuning, tls: options.syslog?.tls });
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}
