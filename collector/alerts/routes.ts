// The alerts API: current alerts and their history for readers; rules and silences readable by
// readers, changed by admins only.
import { randomBytes } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { READERS } from '../plugins/auth.js';
import { parseTimeParam } from '../query/time.js';
import { compileRule } from './rules.js';
import { compileMatchers, isActive, NewSilence, silenceWindow } from './silences.js';
import { SourceError } from './sources.js';

const ADMIN = ['admin'] as const;
const NameParam = Type.Object({ name: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }) }, { additionalProperties: false });
const EnabledBody = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false });
const IdParam = Type.Object({ id: Type.String({ pattern: '^sil_[A-Za-z0-9_-]{1,64}$' }) }, { additionalProperties: false });
const HistoryQuery = Type.Object(
  {
    rule: Type.Optional(Type.String({ maxLength: 128 })),
    host: Type.Optional(Type.String({ maxLength: 255 })),
    before: Type.Optional(Type.Integer({ minimum: 1 })),
    /** transitions at or after this time (the forms of every time parameter, collector/query/time.ts) */
    start: Type.Optional(Type.String({ maxLength: 64 })),
    /** transitions before this time */
    end: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

export const alertRoutes: FastifyPluginAsync = async (app) => {
  const { evaluator, store, sources } = app.alerts;

  app.get('/api/v1/alerts', { config: { roles: READERS } }, async () => ({
    items: evaluator.current(app.clock()),
    rule_errors: Object.fromEntries(evaluator.ruleErrors),
    last_cycle: evaluator.lastCycle,
    // which collector evaluates (on a shared store: the lease holder; collector/alerts/leader.ts)
    evaluator: app.alerts.election.status(),
  }));

  app.get<{ Querystring: Static<typeof HistoryQuery> }>(
    '/api/v1/alerts/history',
    { schema: { querystring: HistoryQuery }, config: { roles: READERS } },
    async (req) => {
      const { start, end, ...rest } = req.query;
      const now = app.clock();
      const items = await store.history({ ...rest, start: parseTimeParam('start', start, now), end: parseTimeParam('end', end, now) });
      const last = items[items.length - 1];
      return { items, next_before: items.length === req.query.limit && last ? last.id : null };
    },
  );

  app.get('/api/v1/alerts/rules', { config: { roles: READERS } }, async () => ({
    items: [...evaluator.rules.values()]
      .map((r) => ({ name: r.name, source: r.source, enabled: r.enabled, spec: r.spec, error: evaluator.ruleErrors.get(r.name) ?? null }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  }));

  app.put<{ Params: Static<typeof NameParam> }>(
    '/api/v1/alerts/rules/:name',
    { schema: { params: NameParam }, config: { roles: ADMIN } },
    async (req, reply) => {
      const { name } = req.params;
      const body = req.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new RingtailError(ErrorCodes.BAD_REQUEST, 'body: expected a JSON object (a rule)');
      const spec = { ...(body as Record<string, unknown>) };
      if (spec.name === undefined) spec.name = name;
      if (spec.name !== name) throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/name: '${String(spec.name)}' differs from the path's '${name}'`);
      const existing = evaluator.rules.get(name);
      if (existing?.source === 'config') throw new RingtailError(ErrorCodes.BAD_REQUEST, `rule '${name}' comes from the configuration file; change it there`, 409);
      const rule = compileRule(spec, 'body', 'api');
      if (rule.spec.kind === 'log') {
        try {
          sources.validateLogQuery(rule.spec.query);
        } catch (err) {
          if (err instanceof SourceError) {
            throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/query: ${err.message}`, 400, err.position === undefined ? undefined : { position: err.position });
          }
          throw err;
        }
      }
      await store.putRule(name, rule.spec, app.clock());
      evaluator.setRule(rule);
      return reply.status(existing ? 200 : 201).send({ name, source: 'api', enabled: rule.enabled, spec: rule.spec });
    },
  );

  // Switching a rule off or on without resending it (the dashboard's Disable/Enable). The flag
  // lives in the rule's spec, so PUT with `enabled` does the same and a restart keeps it.
  app.patch<{ Params: Static<typeof NameParam>; Body: Static<typeof EnabledBody> }>(
    '/api/v1/alerts/rules/:name',
    { schema: { params: NameParam, body: EnabledBody }, config: { roles: ADMIN } },
    async (req) => {
      const { name } = req.params;
      const existing = evaluator.rules.get(name);
      if (!existing) throw new RingtailError(ErrorCodes.NOT_FOUND, `no rule '${name}'`, 404);
      if (existing.source === 'config') throw new RingtailError(ErrorCodes.BAD_REQUEST, `rule '${name}' comes from the configuration file; set "enabled" there`, 409);
      const rule = compileRule({ ...existing.spec, enabled: req.body.enabled }, 'body', 'api');
      await store.putRule(name, rule.spec, app.clock());
      evaluator.setRule(rule);
      return { name, source: 'api', enabled: rule.enabled, spec: rule.spec };
    },
  );

  app.delete<{ Params: Static<typeof NameParam> }>(
    '/api/v1/alerts/rules/:name',
    { schema: { params: NameParam }, config: { roles: ADMIN } },
    async (req) => {
      const { name } = req.params;
      const existing = evaluator.rules.get(name);
      if (!existing) throw new RingtailError(ErrorCodes.NOT_FOUND, `no rule '${name}'`, 404);
      if (existing.source === 'config') throw new RingtailError(ErrorCodes.BAD_REQUEST, `rule '${name}' comes from the configuration file; remove it there`, 409);
      if (existing.source === 'default') {
        throw new RingtailError(ErrorCodes.BAD_REQUEST, `rule '${name}' is a default rule; switch it off with PATCH {"enabled": false}, or all of them with alerts.defaults: false`, 409);
      }
      await store.deleteRule(name);
      evaluator.removeRule(name);
      // an API rule that replaced a default rule gives way to it again
      const restored = evaluator.rules.get(name);
      return restored ? { deleted: name, restored: restored.source } : { deleted: name };
    },
  );

  app.get('/api/v1/alerts/silences', { config: { roles: READERS } }, async () => {
    const now = app.clock();
    return { items: (await store.silences()).map((s) => ({ ...s, active: isActive(s, now) })) };
  });

  app.post<{ Body: NewSilence }>('/api/v1/alerts/silences', { schema: { body: NewSilence }, config: { roles: ADMIN } }, async (req, reply) => {
    const now = app.clock();
    const window = silenceWindow(req.body, now);
    compileMatchers(req.body.matchers);
    const row = {
      id: 'sil_' + randomBytes(9).toString('base64url'),
      matchers: req.body.matchers,
      ...window,
      comment: req.body.comment,
      created_by: req.principal?.name ?? 'unknown',
      created_at: now,
    };
    await store.addSilence(row);
    await evaluator.reloadSilences();
    return reply.status(201).send(row);
  });

  app.delete<{ Params: Static<typeof IdParam> }>(
    '/api/v1/alerts/silences/:id',
    { schema: { params: IdParam }, config: { roles: ADMIN } },
    async (req) => {
      if (!(await store.expireSilence(req.params.id, app.clock()))) throw new RingtailError(ErrorCodes.NOT_FOUND, `no silence '${req.params.id}'`, 404);
      await evaluator.reloadSilences();
      return { expired: req.params.id };
    },
  );

  app.get('/api/v1/alerts/outbox', { config: { roles: ADMIN } }, async () => {
    const [rows, disabled] = await Promise.all([store.outbox(200), store.disabledNotifiers()]);
    return { items: rows.map(({ body, ...rest }) => ({ ...rest, bytes: Buffer.byteLength(body) })), disabled_notifiers: Object.fromEntries(disabled) };
  });
};
