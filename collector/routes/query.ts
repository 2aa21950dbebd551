// Read API: logs (newest first, cursor pagination) and hosts.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { READERS } from '../plugins/auth.js';

const LogsQuery = Type.Object(
  {
    host: Type.Optional(Type.String({ maxLength: 255 })),
    source: Type.Optional(Type.String({ maxLength: 4096 })),
    program: Type.Optional(Type.String({ maxLength: 256 })),
    severity: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 })),
    q: Type.Optional(Type.String({ maxLength: 1024 })),
    start: Type.Optional(Type.String({ maxLength: 64 })),
    end: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    cursor: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
type LogsQuery = Static<typeof LogsQuery>;

/** Accepts ms since epoch or an RFC 3339 time, so both scripts and people can write ranges. */
export function parseTime(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (/^-?\d+$/.test(raw)) return Number(raw);
  const t = Date.parse(raw);
  if (Number.isNaN(t)) {
    throw new RingtailError(ErrorCodes.BAD_QUERY, `${name}: expected ms since epoch or an RFC 3339 time, got '${raw}'`);
  }
  return t;
}

export const queryRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: LogsQuery }>(
    '/api/v1/logs',
    { schema: { querystring: LogsQuery }, config: { roles: READERS } },
    async (req) => {
      const { start, end, ...rest } = req.query;
      return app.storage.logs.query({ ...rest, start: parseTime('start', start), end: parseTime('end', end) });
    },
  );

  app.get('/api/v1/hosts', { config: { roles: READERS } }, async () => ({ items: app.storage.logs.hosts() }));
};
