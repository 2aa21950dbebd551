// buildApp assembles the collector from encapsulated plugins; it never listens, so tests can
// drive it with inject() and only the server entry (collector/server.ts) opens a port.
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { ErrorCodes, RingtailError } from '../shared/errors.js';
import { createEvents, type EventSink } from '../shared/events.js';
import { authPlugin } from './plugins/auth.js';
import { dashboardPlugin } from './plugins/dashboard.js';
import { gzipPlugin } from './plugins/gzip.js';
import { storagePlugin } from './plugins/storage.js';
import type { Storage } from './storage/types.js';
import { healthRoutes } from './routes/health.js';
import { ingestRoutes } from './routes/ingest.js';
import { queryRoutes } from './routes/query.js';
import { sessionsPlugin } from './sessions/plugin.js';
import { sessionRoutes } from './sessions/routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    clock: () => number;
    events: EventSink;
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
}

export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // One log line per request would drown the collector's own log (and, under `ringtail up`,
    // feed itself through the local agent); errors are still logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // Unknown fields must be rejected, not silently dropped, and bodies are not type-coerced.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });
  app.decorate('clock', options.clock ?? Date.now);
  app.decorate('events', createEvents(app.log));
  app.decorate('routeTable', []);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) app.routeTable.push({ method, url: route.url, public: route.config?.public === true });
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof RingtailError) {
      app.events.emit('request.rejected', { code: err.code, status: err.status, url: req.url }, 'debug');
      return reply.status(err.status).send({ error: err.code, message: err.message });
    }
    const e = err as { statusCode?: number; code?: string; validation?: unknown; message: string; validationContext?: string };
    if (e.validation) {
      return reply.status(400).send({ error: ErrorCodes.BAD_REQUEST, message: `${e.validationContext ?? 'request'}: ${e.message}` });
    }
    if (e.statusCode === 413) {
      return reply.status(413).send({ error: ErrorCodes.TOO_LARGE, message: `body larger than ${app.initialConfig.bodyLimit} bytes` });
    }
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.status(e.statusCode).send({ error: ErrorCodes.BAD_REQUEST, message: e.message });
    }
    req.log.error({ err }, 'internal error');
    return reply.status(500).send({ error: ErrorCodes.INTERNAL, message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: ErrorCodes.NOT_FOUND, message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  await app.register(storagePlugin, { dataDir: options.dataDir, storage: options.storage });
  await app.register(sessionsPlugin, { dataDir: options.dataDir });
  await app.register(authPlugin);
  await app.register(gzipPlugin);
  await app.register(healthRoutes);
  await app.register(ingestRoutes);
  await app.register(queryRoutes);
  await app.register(sessionRoutes);
  await app.register(dashboardPlugin);
  return app;
}
