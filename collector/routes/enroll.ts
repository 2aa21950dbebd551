// POST /api/v1/enroll: an instance at its first start trades the enrollment token its user data
// carries for an agent token of its own, bound to its host name and shown once. The enrollment
// token can do nothing else (collector/plugins/auth.ts refuses it everywhere else), and each use
// is counted in the same transaction that issues the agent token, so a token limited to N uses
// issues N agent tokens however many instances ask at once. Revoking it stops new instances;
// the agent tokens it issued stay valid until revoked themselves.
import type { FastifyPluginAsync } from 'fastify';
import { ENROLL_PATH, EnrollRequest, type EnrollAnswer } from '../../shared/enroll.js';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { bearerToken } from '../plugins/auth.js';
import type { EnrollRefusal } from '../storage/types.js';

const REFUSALS: Record<EnrollRefusal, { code: (typeof ErrorCodes)[keyof typeof ErrorCodes]; status: number; message: string }> = {
  revoked: { code: ErrorCodes.ENROLL_REVOKED, status: 401, message: 'this enrollment token was revoked: new instances cannot enroll with it' },
  expired: { code: ErrorCodes.ENROLL_EXPIRED, status: 401, message: 'this enrollment token has expired' },
  used_up: { code: ErrorCodes.ENROLL_USED_UP, status: 403, message: 'this enrollment token has been used as many times as it may' },
  unknown: { code: ErrorCodes.AUTH, status: 401, message: 'unknown or revoked token' },
};

export const enrollRoutes: FastifyPluginAsync = async (app) => {
  // admin too: an operator can enroll an instance by hand (no use counted), and every route is
  // open to admin (test/security/auth-matrix.test.ts)
  app.post<{ Body: EnrollRequest }>(ENROLL_PATH, { config: { roles: ['enroll', 'admin'] }, schema: { body: EnrollRequest } }, async (req, reply) => {
    if (!app.storage.tokens.enroll) throw new RingtailError(ErrorCodes.NOT_FOUND, 'this collector cannot enroll agents', 404);
    const byAdmin = req.principal?.role === 'admin';
    const secret = byAdmin ? null : bearerToken(req.headers.authorization);
    if (!byAdmin && secret === null) throw new RingtailError(ErrorCodes.AUTH, 'missing bearer token', 401);
    const { host, agent_id } = req.body;
    const result = await app.storage.tokens.enroll(secret, host, agent_id, app.clock());
    if (!result.ok) {
      const r = REFUSALS[result.reason];
      app.events.emit('enroll.refused', { reason: result.reason, name: result.enroll?.name, token: result.enroll?.id, host, client: req.ip }, 'warn');
      throw new RingtailError(r.code, r.message, r.status);
    }
    app.events.emit('enroll.issued', { name: result.enroll.name, token: result.enroll.id, agent_token: result.record.id, host, uses: result.enroll.uses, uses_max: result.enroll.uses_max ?? null, client: req.ip });
    const answer: EnrollAnswer = { token: result.token, token_id: result.record.id, name: result.record.name, host };
    return reply.send(answer);
  });
};
