// The hosts API: every host whatever it sends, with its lifecycle state; a host's transitions;
// retire and forget (admin). Retired hosts are listed only when asked for.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { HOST_PATTERN } from '../../shared/wire.js';
import { READERS } from '../plugins/auth.js';
import { HOST_STATES, type HostState } from '../storage/types.js';

const ADMIN = ['admin'] as const;
const HostParam = Type.Object({ host: Type.String({ minLength: 1, maxLength: 255, pattern: HOST_PATTERN }) }, { additionalProperties: false });
type HostParam = Static<typeof HostParam>;
const ListQuery = Type.Object(
  {
    /** comma-separated states; retired ones are listed when named here */
    state: Type.Optional(Type.String({ maxLength: 64 })),
    include_retired: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const EventsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    /** ms since epoch */
    since: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

function parseStates(raw: string | undefined): Set<HostState> | undefined {
  if (raw === undefined || raw === '') return undefined;
  const out = new Set<HostState>();
  for (const s of raw.split(',')) {
    if (!(HOST_STATES as readonly string[]).includes(s)) {
      throw new RingtailError(ErrorCodes.BAD_QUERY, `state: '${s}' is not a host state (expected ${HOST_STATES.join(', ')}, comma-separated)`);
    }
    out.add(s as HostState);
  }
  return out;
}

export const hostRoutes: FastifyPluginAsync = async (app) => {
  const unknown = (host: string) =>
    new RingtailError(ErrorCodes.NOT_FOUND, `host '${host}' is not known (GET /api/v1/hosts?include_retired=true lists them)`, 404);

  app.get<{ Querystring: Static<typeof ListQuery> }>('/api/v1/hosts', { schema: { querystring: ListQuery }, config: { roles: READERS } }, async (req, reply) => {
    const states = parseStates(req.query.state);
    // { items, counts } as text: the items' JSON is kept per host between listings (listJson)
    const items = app.hosts.registry.listJson({ states, includeRetired: req.query.include_retired === true });
    reply.type('application/json; charset=utf-8');
    return `{"items":${items},"counts":${JSON.stringify(app.hosts.registry.counts())}}`;
  });

  app.get<{ Params: HostParam }>('/api/v1/hosts/:host', { schema: { params: HostParam }, config: { roles: READERS } }, async (req) => {
    const h = app.hosts.get(req.params.host);
    if (!h) throw unknown(req.params.host);
    return h;
  });

  app.get<{ Params: HostParam; Querystring: Static<typeof EventsQuery> }>(
    '/api/v1/hosts/:host/events',
    { schema: { params: HostParam, querystring: EventsQuery }, config: { roles: READERS } },
    async (req) => {
      if (!app.hosts.registry.has(req.params.host)) throw unknown(req.params.host);
      return { items: await app.hosts.registry.events(req.params.host, req.query.limit, req.query.since) };
    },
  );

  app.post<{ Params: HostParam }>('/api/v1/hosts/:host/retire', { schema: { params: HostParam }, config: { roles: ADMIN } }, async (req) => {
    if ((await app.hosts.retire(req.params.host)) !== 'ok') throw unknown(req.params.host);
    return app.hosts.get(req.params.host)!;
  });

  app.delete<{ Params: HostParam }>('/api/v1/hosts/:host', { schema: { params: HostParam }, config: { roles: ADMIN } }, async (req) => {
    if ((await app.hosts.forget(req.params.host)) !== 'ok') throw unknown(req.params.host);
    return { host: req.params.host, forgotten: true };
  });
};
