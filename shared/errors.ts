// Every error ringtail reports to a person or a client carries a stable code, so that
// scripts and alert rules can match on it without parsing prose.
export const ErrorCodes = {
  CONFIG: 'RINGTAIL_ERR_CONFIG',
  USAGE: 'RINGTAIL_ERR_USAGE',
  AUTH: 'RINGTAIL_ERR_AUTH',
  FORBIDDEN: 'RINGTAIL_ERR_FORBIDDEN',
  BAD_REQUEST: 'RINGTAIL_ERR_BAD_REQUEST',
  BAD_QUERY: 'RINGTAIL_ERR_BAD_QUERY',
  TOO_LARGE: 'RINGTAIL_ERR_TOO_LARGE',
  NOT_FOUND: 'RINGTAIL_ERR_NOT_FOUND',
  STORAGE: 'RINGTAIL_ERR_STORAGE',
  INTERNAL: 'RINGTAIL_ERR_INTERNAL',
  RATE_LIMITED: 'RINGTAIL_ERR_RATE_LIMITED',
  /** a pipelined batch arrived before the batch it follows was committed: send it again */
  OUT_OF_ORDER: 'RINGTAIL_ERR_OUT_OF_ORDER',
  /** a TLS refusal: handshake failed, plain text on a TLS port, an expired certificate */
  TLS: 'RINGTAIL_ERR_TLS',
  /** an enrollment token that was revoked: new instances cannot enroll with it */
  ENROLL_REVOKED: 'RINGTAIL_ERR_ENROLL_REVOKED',
  /** an enrollment token past its lifetime (--ttl, --expires) */
  ENROLL_EXPIRED: 'RINGTAIL_ERR_ENROLL_EXPIRED',
  /** an enrollment token that has issued as many agent tokens as it may (--uses) */
  ENROLL_USED_UP: 'RINGTAIL_ERR_ENROLL_USED_UP',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class RingtailError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** HTTP status when the error crosses the API. */
    readonly status = 400,
    /** extra members of the JSON error body (e.g. a query error's `position`) */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'RingtailError';
  }
}

/** Configuration errors name the key that is wrong; the CLI prints them on one line and exits 2. */
export class ConfigError extends RingtailError {
  constructor(
    readonly key: string,
    readonly problem: string,
  ) {
    super(ErrorCodes.CONFIG, `${key}: ${problem}`, 2);
    this.name = 'ConfigError';
  }
}
