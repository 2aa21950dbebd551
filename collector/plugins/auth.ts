// Deny by default: every route needs a bearer token (or a dashboard session cookie, see
// collector/sessions/) whose role the route lists in `config.roles`; only routes that say
// `config.public: true` (health, the login page and its assets, the sign-in call) are open.
// Under mutual TLS (config tls.client_ca) a request without either is authenticated by the
// client certificate the handshake verified: role `agent`, and its batches may only name a host
// the certificate names (CN or a DNS/IP subject alternative name; see certificateHosts).
// A bearer token that matches nothing counts against the client's address, as a failed sign-in
// does (collector/sessions/throttle.ts): past the limit the address is answered 429.
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { Role, TokenRecord } from '../storage/types.js';
import { certificateNames } from '../tls.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    public?: boolean;
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    principal: TokenRecord | null;
    /** set when the client certificate alone authenticated the request: the hosts it may send as */
    certHosts: string[] | null;
  }
}

export const READERS: readonly Role[] = ['viewer', 'admin'];
export const INGESTERS: readonly Role[] = ['agent', 'admin'];

export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}

/** 429 with Retry-After for a client past its failed-credential limit. */
export function refuseThrottled(app: FastifyInstance, reply: FastifyReply, client: string, waitMs: number, path: 'bearer' | 'sign-in'): FastifyReply {
  // debug: past the limit every request lands here, and a guesser must not flood the log
  app.events.emit('auth.throttled', { client, path }, 'debug');
  const s = Math.ceil(waitMs / 1000);
  return reply
    .status(429)
    .header('retry-after', String(s))
    .send({ error: ErrorCodes.RATE_LIMITED, message: `too many failed credentials from this address; try again in ${s} s`, retry_after_s: s });
}

/** The agent a verified client certificate stands for, or null (no TLS, no certificate, or not verified). */
function certificatePrincipal(socket: TLSSocket | undefined): { principal: TokenRecord; hosts: string[] } | null {
  if (!socket || socket.encrypted !== true || !socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.fingerprint256) return null;
  const hosts = certificateNames(cert);
  if (hosts.length === 0) return null;
  return {
    principal: { id: `cert:${cert.fingerprint256}`, name: `cert:${hosts[0]}`, role: 'agent', created_at: 0, revoked_at: null },
    hosts,
  };
}

export const authPlugin = fp(
  async (app) => {
    app.decorateRequest('principal', null);
    app.decorateRequest('certHosts', null);
    app.addHook('onRequest', async (req, reply) => {
      const config = req.routeOptions.config;
      if (config?.public) return;
      const token = bearerToken(req.headers.authorization);
      let principal: TokenRecord | null;
      if (token) {
        // decided before the token is looked at, so a refused guess learns nothing
        const client = req.ip;
        const now = app.clock();
        const wait = app.credentialThrottle.retryAfter(client, now);
        if (wait > 0) return refuseThrottled(app, reply, client, wait, 'bearer');
        principal = await app.storage.tokens.verify(token);
        if (!principal) {
          // a revoked token is no guess: an agent retrying with one must not lock its address out
          const revoked = await app.storage.tokens.isRevoked(token);
          if (!revoked) {
            app.credentialThrottle.fail(client, now);
            app.events.emit('auth.failed', { client, path: 'bearer' }, 'warn');
          } else if (config?.roles?.includes('enroll') && token.startsWith('rt_enroll_')) {
            // the one refusal an instance's boot log should name exactly: the operator revoked it
            app.events.emit('enroll.refused', { reason: 'revoked', client }, 'warn');
            throw new RingtailError(ErrorCodes.ENROLL_REVOKED, 'this enrollment token was revoked: new instances cannot enroll with it', 401);
          }
          throw new RingtailError(ErrorCodes.AUTH, 'unknown or revoked token', 401);
        }
      } else {
        // sessionAuth also enforces CSRF on state changes (throws 403).
        principal = app.hasDecorator('sessionAuth') ? await app.sessionAuth(req) : null;
        if (!principal) {
          const cert = certificatePrincipal(req.raw.socket as TLSSocket);
          if (cert) {
            principal = cert.principal;
            req.certHosts = cert.hosts;
          }
        }
        if (!principal) throw new RingtailError(ErrorCodes.AUTH, 'missing bearer token (Authorization: Bearer <token>) or session', 401);
      }
      const roles = config?.roles ?? ['admin'];
      if (!roles.includes(principal.role)) {
        // an enrollment token may only enroll; anything else it tries is worth an operator's look
        if (principal.role === 'enroll' || roles.includes('enroll')) {
          app.events.emit('enroll.refused', { reason: 'wrong_role', role: principal.role, name: principal.name, url: req.url.split('?')[0] }, 'warn');
        }
        throw new RingtailError(ErrorCodes.FORBIDDEN, `role '${principal.role}' may not use this route`, 403);
      }
      req.principal = principal;
    });
  },
  { name: 'ringtail-auth', dependencies: ['ringtail-storage', 'ringtail-sessions'] },
);
