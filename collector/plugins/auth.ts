// Deny by default: every route needs a bearer token (or a dashboard session cookie, see
// collector/sessions/) whose role the route lists in `config.roles`; only routes that say
// `config.public: true` (health, the login page and its assets, the sign-in call) are open.
import fp from 'fastify-plugin';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { Role, TokenRecord } from '../storage/types.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    principal: TokenRecord | null;
  }
}

export const READERS: readonly Role[] = ['viewer', 'admin'];
export const INGESTERS: readonly Role[] = ['agent', 'admin'];

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

export const authPlugin = fp(
  async (app) => {
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (req) => {
      const config = req.routeOptions.config;
      if (config?.public) return;
      const token = bearerToken(req.headers.authorization);
      let principal: TokenRecord | null;
      if (token) {
        principal = app.storage.tokens.verify(token);
        if (!principal) throw new RingtailError(ErrorCodes.AUTH, 'unknown or revoked token', 401);
      } else {
        // sessionAuth also enforces CSRF on state changes (throws 403).
        principal = app.hasDecorator('sessionAuth') ? app.sessionAuth(req) : null;
        if (!principal) throw new RingtailError(ErrorCodes.AUTH, 'missing bearer token (Authorization: Bearer <token>) or session', 401);
      }
      const roles = config?.roles ?? ['admin'];
      if (!roles.includes(principal.role)) {
        throw new RingtailError(ErrorCodes.FORBIDDEN, `role '${principal.role}' may not use this route`, 403);
      }
      req.principal = principal;
    });
  },
  { name: 'ringtail-auth', dependencies: ['ringtail-storage'] },
);
