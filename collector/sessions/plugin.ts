// Cookie sessions for the dashboard. Decorates the app with `sessionAuth(req)`, which the auth
// plugin calls when a request carries no bearer token: it finds the session named by the
// cookie and, for every state-changing method, demands the session's CSRF token in
// `x-csrf-token` (synchronizer token) and a same-origin `Origin` (or `Referer`). A bearer
// token is not ambient authority, so bearer requests need neither.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { SessionLimits, SessionRecord, SessionStore, TokenRecord } from '../storage/types.js';
import { DEFAULT_LIMITS } from './ids.js';
import { createCredentialThrottle, DEFAULT_THROTTLE, type CredentialThrottle, type ThrottleLimits } from './throttle.js';

export const SESSION_COOKIE = 'rt_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyInstance {
    sessions: SessionStore;
    /** failed credentials per client address, for sign-in and bearer tokens alike */
    credentialThrottle: CredentialThrottle;
    sessionLimits: SessionLimits;
    /** the principal of the request's session cookie, or null; throws 403 on a CSRF failure */
    sessionAuth(req: FastifyRequest): Promise<TokenRecord | null>;
  }
  interface FastifyRequest {
    session: SessionRecord | null;
  }
}

export interface SessionsPluginOptions {
  limits?: SessionLimits;
  throttle?: ThrottleLimits;
}

/** Parses a Cookie header; later duplicates do not override the first (as browsers order them). */
export function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The origin this request was addressed to, as a browser on the same site would send it. */
export function expectedOrigin(req: FastifyRequest): string {
  return normalOrigin(`${req.protocol}://${req.headers.host ?? ''}`);
}

/** Origins compared as URLs, so `http://h:80` and `http://h` are the same one. */
function normalOrigin(raw: string): string {
  try {
    const o = new URL(raw).origin;
    return o === 'null' ? 'invalid' : o;
  } catch {
    return 'invalid';
  }
}

/** The request's claimed origin from Origin, else from Referer; null when neither is present. */
export function claimedOrigin(req: FastifyRequest): string | null {
  const origin = req.headers.origin;
  if (typeof origin === 'string' && origin !== '') return normalOrigin(origin);
  const referer = req.headers.referer;
  if (typeof referer === 'string' && referer !== '') return normalOrigin(referer);
  return null;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export const sessionsPlugin = fp<SessionsPluginOptions>(
  async (app, opts) => {
    const limits = opts.limits ?? DEFAULT_LIMITS;
    const store = app.storage.openSessions(limits);
    app.decorate('sessions', store);
    app.decorate('sessionLimits', limits);
    app.decorate('credentialThrottle', createCredentialThrottle(opts.throttle ?? DEFAULT_THROTTLE));
    app.decorateRequest('session', null);
    app.decorate('sessionAuth', async (req: FastifyRequest): Promise<TokenRecord | null> => {
      const id = readCookie(req.headers.cookie, SESSION_COOKIE);
      if (!id) return null;
      const session = await store.get(id, app.clock());
      if (!session) return null;
      if (!SAFE_METHODS.has(req.method)) {
        const origin = claimedOrigin(req);
        if (origin !== expectedOrigin(req)) {
          app.events.emit('session.csrf_rejected', { reason: 'origin', origin }, 'warn');
          throw new RingtailError(ErrorCodes.FORBIDDEN, `cross-origin request refused (Origin ${origin ?? 'missing'})`, 403);
        }
        const sent = req.headers['x-csrf-token'];
        if (typeof sent !== 'string' || !sameSecret(sent, session.csrf)) {
          app.events.emit('session.csrf_rejected', { reason: 'token' }, 'warn');
          throw new RingtailError(ErrorCodes.FORBIDDEN, 'missing or wrong x-csrf-token header', 403);
        }
      }
      req.session = session;
      return { id: session.token_id, name: session.name, role: session.role, created_at: session.created_at, revoked_at: null };
    });

    await store.sweep(app.clock());
    const sweep = () => store.sweep(app.clock()).catch((err: Error) => app.events.emit('session.sweep_failed', { error: err.message }, 'warn'));
    const timer = setInterval(sweep, 10 * 60_000);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      store.close();
    });
  },
  { name: 'ringtail-sessions', dependencies: ['ringtail-storage'] },
);
