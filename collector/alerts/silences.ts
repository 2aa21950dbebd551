// Silences: label matchers and a time window, as in Alertmanager. A silenced alert is still
// evaluated and listed (marked silenced); only its firing notifications are held back. A resolved
// notification for an alert that was already announced goes out regardless, so no receiver is
// left believing an alert still fires.
import { Type, type Static } from '@sinclair/typebox';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import type { SilenceRow } from '../storage/types.js';

export const Matcher = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$' }),
    value: Type.String({ maxLength: 1024 }),
    /** value is an anchored regular expression */
    regex: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const NewSilence = Type.Object(
  {
    matchers: Type.Array(Matcher, { minItems: 1, maxItems: 32 }),
    /** ms since epoch or RFC 3339; now when absent */
    starts_at: Type.Optional(Type.Union([Type.Integer(), Type.String({ maxLength: 64 })])),
    ends_at: Type.Union([Type.Integer(), Type.String({ maxLength: 64 })]),
    comment: Type.String({ minLength: 1, maxLength: 1024 }),
  },
  { additionalProperties: false },
);
export type NewSilence = Static<typeof NewSilence>;

export interface CompiledSilence {
  row: SilenceRow;
  tests: Array<(labels: Record<string, string>) => boolean>;
}

function time(name: string, v: number | string): number {
  if (typeof v === 'number') return v;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/${name}: expected ms since epoch or an RFC 3339 time, got '${v}'`);
  return t;
}

export function silenceWindow(s: NewSilence, now: number): { starts_at: number; ends_at: number } {
  const starts_at = s.starts_at === undefined ? now : time('starts_at', s.starts_at);
  const ends_at = time('ends_at', s.ends_at);
  if (ends_at <= starts_at) throw new RingtailError(ErrorCodes.BAD_REQUEST, 'body/ends_at: must be after starts_at');
  if (ends_at <= now) throw new RingtailError(ErrorCodes.BAD_REQUEST, 'body/ends_at: is already in the past');
  return { starts_at, ends_at };
}

export function compileMatchers(matchers: SilenceRow['matchers']): CompiledSilence['tests'] {
  return matchers.map((m, i) => {
    if (!m.regex) return (labels) => labels[m.name] === m.value;
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${m.value})$`);
    } catch (err) {
      throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/matchers/${i}/value: invalid regular expression: ${(err as Error).message}`);
    }
    return (labels) => re.test(labels[m.name] ?? '');
  });
}

export function compileSilence(row: SilenceRow): CompiledSilence {
  return { row, tests: compileMatchers(row.matchers) };
}

export function isActive(s: SilenceRow, now: number): boolean {
  return s.starts_at <= now && now < s.ends_at;
}

export function silencedBy(silences: CompiledSilence[], labels: Record<string, string>, now: number): string | null {
  for (const s of silences) if (isActive(s.row, now) && s.tests.every((t) => t(labels))) return s.row.id;
  return null;
}
