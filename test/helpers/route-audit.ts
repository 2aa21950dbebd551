// Every route an app registers, with the auth declarations the auth plugin reads (`config.public`,
// `config.roles`). app.routeTable keeps only method/url/public, so this listens on Fastify's
// documented `fastify.initialization` diagnostics channel: the instance is announced before any
// plugin registers a route, and an onRoute hook added there sees every route, including ones
// added after this file was written.
import { channel } from 'node:diagnostics_channel';
import type { FastifyInstance } from 'fastify';
import type { Role } from '../../collector/storage/types.js';

export interface AuditedRoute {
  method: string;
  url: string;
  public: boolean;
  /** as declared; undefined means the auth plugin's default (admin only) */
  roles: readonly Role[] | undefined;
}

/** Builds an app with `build` while recording its routes; returns both. */
export async function withRouteAudit<T extends { app: FastifyInstance }>(build: () => Promise<T>): Promise<{ built: T; routes: AuditedRoute[] }> {
  const routes: AuditedRoute[] = [];
  const ch = channel('fastify.initialization');
  const onInit = (msg: unknown) => {
    const { fastify } = msg as { fastify: FastifyInstance };
    fastify.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        routes.push({ method, url: route.url, public: route.config?.public === true, roles: route.config?.roles });
      }
    });
  };
  ch.subscribe(onInit);
  try {
    const built = await build();
    return { built, routes };
  } finally {
    ch.unsubscribe(onInit);
  }
}
