// The query string shared by GET /api/v1/logs and the live tail, and its translation into a
// storage filter plus an optional bounded regular expression.
import { Type, type Static } from '@sinclair/typebox';
import { MAX_FIELD_NAME_BYTES as MAX_FIELD_KEY_BYTES, MAX_FIELD_VALUE_BYTES } from '../ingest/pipeline.js';
import type { LogFilter } from '../storage/types.js';
import { MAX_QUERY_LENGTH, validateSearch } from './lang/index.js';
import { MAX_PATTERN_LENGTH, parsePattern, type CompiledPattern } from './regex.js';
import { parseTimeParam } from './time.js';

/** `?field.user_id=42`: a structured field equal to a value (as `field.user_id:42` in q). */
export const FIELD_PARAM = /^field\.(.+)$/;
const fieldParams = {
  patternProperties: { '^field\\.': Type.String({ maxLength: MAX_FIELD_VALUE_BYTES }) },
  propertyNames: { maxLength: MAX_FIELD_KEY_BYTES + 6 },
};

export const LogsQuery = Type.Object(
  {
    host: Type.Optional(Type.String({ maxLength: 255 })),
    source: Type.Optional(Type.String({ maxLength: 4096 })),
    program: Type.Optional(Type.String({ maxLength: 256 })),
    severity: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 })),
    // the parser has its own, clearer bound (MAX_QUERY_LENGTH); this one only stops the absurd
    q: Type.Optional(Type.String({ maxLength: 4 * MAX_QUERY_LENGTH })),
    re: Type.Optional(Type.String({ maxLength: MAX_PATTERN_LENGTH + 4 })),
    start: Type.Optional(Type.String({ maxLength: 64 })),
    end: Type.Optional(Type.String({ maxLength: 64 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
    cursor: Type.Optional(Type.String({ maxLength: 128 })),
  },
  { additionalProperties: false, ...fieldParams },
);
export type LogsQuery = Static<typeof LogsQuery> & { [field: `field.${string}`]: string };

/** The live tail takes the same filters; paging makes no sense there. */
export const StreamQuery = Type.Omit(LogsQuery, ['limit', 'cursor'], { additionalProperties: false, ...fieldParams });
export type StreamQuery = Static<typeof StreamQuery> & { [field: `field.${string}`]: string };

/** The `field.*` parameters of a query, as key → value. */
export function fieldsOf(query: Record<string, unknown>): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const [k, v] of Object.entries(query)) {
    const m = FIELD_PARAM.exec(k);
    if (m && typeof v === 'string') (out ??= Object.create(null) as Record<string, string>)[m[1]!] = v;
  }
  return out;
}

/** The storage filter of a query: times resolved against `now`, q checked (QueryError with its position). */
export function toFilter(query: Partial<LogsQuery>, now: number): { filter: LogFilter; re: CompiledPattern | null } {
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) if (!FIELD_PARAM.test(k) && !['start', 'end', 're', 'limit'].includes(k)) rest[k] = v;
  const filter = { ...rest, limit: query.limit ?? 100, start: parseTimeParam('start', query.start, now), end: parseTimeParam('end', query.end, now), fields: fieldsOf(query) } as LogFilter;
  for (const k of Object.keys(filter) as Array<keyof LogFilter>) if (filter[k] === undefined) delete filter[k];
  validateSearch(filter.q);
  const re = query.re;
  return { filter, re: re !== undefined && re !== '' ? parsePattern(re) : null };
}
