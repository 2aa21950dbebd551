// The query string shared by GET /api/v1/logs and the live tail, and its translation into a
// storage filter plus an optional bounded regular expression.
import { Type, type Static } from '@sinclair/typebox';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { LogFilter } from '../storage/types.js';
import { MAX_PATTERN_LENGTH, parsePattern, type CompiledPattern } from './regex.js';

export const LogsQuery = Type.Object(
  {
    host: Type.Optional(Type.String({ maxLength: 255 })),
    source: Type.Optional(Type.String({ maxLength: 4096 })),
    program: Type.Optional(Type.String({ maxLength: 256 })),
    severity: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 })),
    q: Type.Optional(Type.String({ maxLength: 1024 })),
    re: Type.Optional(Type.String({ maxLength: MAX_PATTERN_LENGTH + 4 })),
    start: Type.Optional(Type.String({ maxLength: 64 })),
    end: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    cursor: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type LogsQuery = Static<typeof LogsQuery>;

/** The live tail takes the same filters; paging makes no sense there. */
export const StreamQuery = Type.Omit(LogsQuery, ['limit', 'cursor'], { additionalProperties: false });
export type StreamQuery = Static<typeof StreamQuery>;

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

export function toFilter(query: Partial<LogsQuery>): { filter: LogFilter; re: CompiledPattern | null } {
  const { start, end, re, limit, ...rest } = query;
  const filter: LogFilter = { ...rest, limit: limit ?? 100, start: parseTime('start', start), end: parseTime('end', end) };
  for (const k of Object.keys(filter) as Array<keyof LogFilter>) if (filter[k] === undefined) delete filter[k];
  return { filter, re: re !== undefined && re !== '' ? parsePattern(re) : null };
}
