// GET /api/v1/logs/histogram: how many lines match the filters of GET /api/v1/logs in each of
// `buckets` equal intervals of [start, end), counted by the store (SQLite: collector/storage/sqlite/histogram.ts)
// within a time budget, so the dashboard draws its volume bars from one request with exact counts.
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { READERS } from '../plugins/auth.js';
import { fieldsOf, LogsQuery } from '../query/filter.js';
import { validateSearch } from '../query/lang/index.js';
import { parseTimeParam } from '../query/time.js';
import { MAX_BUCKETS, type HistogramFilter } from '../storage/types.js';

export const DEFAULT_RANGE_MS = 3_600_000;

export const HistogramQuery = Type.Composite(
  [
    Type.Omit(LogsQuery, ['limit', 'cursor']),
    Type.Object({ buckets: Type.Integer({ minimum: 1, maximum: MAX_BUCKETS, default: 30 }) }),
  ],
  { additionalProperties: false, patternProperties: LogsQuery.patternProperties, propertyNames: LogsQuery.propertyNames },
);
export type HistogramQuery = Static<typeof HistogramQuery> & { [field: `field.${string}`]: string };

export const histogramRoutes: FastifyPluginAsync = async (app) => {
  app.get<{ Querystring: HistogramQuery }>(
    '/api/v1/logs/histogram',
    { schema: { querystring: HistogramQuery }, config: { roles: READERS } },
    async (req) => {
      const { re, start, end, buckets, ...others } = req.query;
      const rest: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(others)) if (!k.startsWith('field.')) rest[k] = v;
      // A regex can only be counted by reading every line of the range through the worker;
      // the histogram promises a bounded SQL count, so it refuses rather than guess.
      if (re !== undefined && re !== '') {
        throw new RingtailError(ErrorCodes.BAD_QUERY, 're: the histogram counts with SQL and cannot apply a regular expression; use q (full text) or no filter on the text');
      }
      const now = app.clock();
      const e = parseTimeParam('end', end, now) ?? now;
      const s = parseTimeParam('start', start, now) ?? e - DEFAULT_RANGE_MS;
      validateSearch(req.query.q);
      const filter: HistogramFilter = { ...rest, start: s, end: e, buckets, fields: fieldsOf(req.query) };
      for (const k of Object.keys(filter) as Array<keyof HistogramFilter>) if (filter[k] === undefined) delete filter[k];
      return app.storage.logs.histogram(filter);
    },
  );
};
