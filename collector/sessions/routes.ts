// Sign in, who am I, sign out. POST /api/v1/session is the one public API route: it trades a
// viewer or admin token for a session cookie. A token that matches nothing counts against the
// client's address like a wrong bearer token (throttle.ts).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { READERS, refuseThrottled } from '../plugins/auth.js';
import { claimedOrigin, expectedOrigin, readCookie, SESSION_COOKIE } from './plugin.js';

const LoginBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 512 }) }, { additionalProperties: false });
type LoginBody = Static<typeof LoginBody>;

function cookie(req: FastifyRequest, value: string, maxAgeS: number): string {
  // SameSite=Strict: the page shell is public and static, so a link from elsewhere loses
  // nothing — the API calls the page then makes are same-site and carry the cookie.
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

export const sessionRoutes: FastifyPluginAsync = async (app) => {
  app.post<{ Body: LoginBody }>('/api/v1/session', { schema: { body: LoginBody }, config: { public: true } }, async (req, reply) => {
    const now = app.clock();
    // Login CSRF: a foreign page must not sign a victim in under the attacker's token.
    const origin = claimedOrigin(req);
    if (origin !== null && origin !== expectedOrigin(req)) {
      throw new RingtailError(ErrorCodes.FORBIDDEN, `cross-origin sign-in refused (Origin ${origin})`, 403);
    }
    const client = req.ip;
    const wait = app.credentialThrottle.retryAfter(client, now);
    if (wait > 0) return refuseThrottled(app, reply, client, wait, 'sign-in');
    const principal = await app.storage.tokens.verify(req.body.token);
    if (!principal || !READERS.includes(principal.role)) {
      // an agent token or a revoked one is a known token, not a guess
      if (!principal && !(await app.storage.tokens.isRevoked(req.body.token))) app.credentialThrottle.fail(client, now);
      app.events.emit('session.login_failed', { client }, 'warn');
      const message = principal ? `role '${principal.role}' may not sign in to the dashboard` : 'unknown or revoked token';
      throw new RingtailError(ErrorCodes.AUTH, message, 401);
    }
    const { id, record } = await app.sessions.create(principal.id, now);
    app.events.emit('session.login', { name: record.name, role: record.role });
    return reply
      .header('set-cookie', cookie(req, id, Math.floor(app.sessionLimits.ttlMs / 1000)))
      .header('cache-control', 'no-store')
      .send({ name: record.name, role: record.role, csrf: record.csrf, expires_at: record.expires_at });
  });

  app.get('/api/v1/session', { config: { roles: READERS } }, async (req, reply) => {
    const p = req.principal!;
    reply.header('cache-control', 'no-store');
    return { name: p.name, role: p.role, csrf: req.session?.csrf ?? null, via: req.session ? 'cookie' : 'bearer' };
  });

  app.delete('/api/v1/session', { config: { roles: READERS } }, async (req, reply: FastifyReply) => {
    const id = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (id) await app.sessions.destroy(id);
    return reply.header('set-cookie', cookie(req, '', 0)).status(204).send();
  });
};
