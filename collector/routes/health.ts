import type { FastifyPluginAsync } from 'fastify';

// Public (load balancers and supervisors probe it without a token): 503 once a part the
// collector cannot restart in place has failed (collector/health.ts), naming it.
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { config: { public: true } }, async (_req, reply) => {
    const failed = app.health.failed;
    if (failed.length === 0) return { status: 'ok' };
    return reply.code(503).send({ status: 'failing', failed });
  });
};
