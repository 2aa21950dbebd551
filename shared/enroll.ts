// The enrollment exchange between an agent at its first start and the collector
// (collector/routes/enroll.ts, agent/enroll.ts): an enrollment token in, an agent token out.
import { Type, type Static } from '@sinclair/typebox';

export const ENROLL_PATH = '/api/v1/enroll';

export const EnrollRequest = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 255, description: 'the host name the agent reports; its token may send for no other' }),
    agent_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type EnrollRequest = Static<typeof EnrollRequest>;

export interface EnrollAnswer {
  /** the new agent token, shown this once */
  token: string;
  token_id: string;
  name: string;
  host: string;
}

export function isEnrollAnswer(v: unknown): v is EnrollAnswer {
  const a = v as Partial<EnrollAnswer> | null;
  return typeof a === 'object' && a !== null && typeof a.token === 'string' && a.token.length >= 8 && typeof a.host === 'string' && typeof a.token_id === 'string';
}
