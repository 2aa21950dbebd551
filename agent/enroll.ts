// The agent's own token, for an instance nobody touches: at the first start, with no --token
// configured and none stored, it trades the enrollment token its user data carries
// (`enroll_token`, RINGTAIL_ENROLL_TOKEN) for an agent token bound to its host name
// (collector/routes/enroll.ts) and keeps it in its state directory. From then on, restarts
// included, it uses the stored one: the enrollment token may expire, be used up or revoked
// without stopping an instance that has enrolled. Neither token is ever logged.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomic } from '../shared/atomic-file.js';
import { ENROLL_PATH, isEnrollAnswer, type EnrollAnswer } from '../shared/enroll.js';
import { ConfigError, ErrorCodes, RingtailError, type ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { AgentConfig } from './config.js';
import { clientOptions, collectorClient, ShipError } from './transport/client.js';

export const TOKEN_FILE = 'agent-token.json';

interface StoredToken {
  token: string;
  token_id: string;
  host: string;
  collector: string;
  enrolled_at: number;
}

export function storedTokenPath(stateDir: string): string {
  return join(stateDir, TOKEN_FILE);
}

/** The token stored by an earlier enrollment, or undefined. */
export function readStoredToken(stateDir: string): StoredToken | undefined {
  const text = readFileIfExists(storedTokenPath(stateDir));
  if (text === undefined) return undefined;
  try {
    const t = JSON.parse(text) as Partial<StoredToken>;
    if (typeof t.token === 'string' && typeof t.host === 'string') return t as StoredToken;
  } catch {
    // reported below
  }
  throw new ConfigError('--state', `'${storedTokenPath(stateDir)}' is not a stored agent token; move it away to enroll again`);
}

/** A refusal the collector will repeat whatever we do: asking again cannot help. */
function isRefusal(err: unknown): err is ShipError {
  return err instanceof ShipError && err.status !== undefined && err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 429;
}

function codeOf(err: ShipError): ErrorCode {
  const code = /RINGTAIL_ERR_[A-Z_]+/.exec(err.message)?.[0];
  return (Object.values(ErrorCodes) as string[]).includes(code ?? '') ? (code as ErrorCode) : ErrorCodes.AUTH;
}

/** A signal ended the first start before the collector answered: a clean stop, not an error. */
export class EnrollStopped extends Error {
  constructor() {
    super('stopped before enrollment completed');
  }
}

export interface EnrollDeps {
  log: Logger;
  /** waits `ms` between attempts (tests pass their own) */
  wait?: (ms: number) => Promise<void>;
  /** stops the retries (SIGTERM during a first start) */
  signal?: AbortSignal;
}

/**
 * The token the agent sends with: `token` when configured, else the stored one, else one traded
 * for `enroll_token` now. An unreachable or failing collector is retried with backoff, for as
 * long as it takes (an instance may boot before its collector); a refusal (used up, expired,
 * revoked, unknown token) ends the start with the collector's reason.
 */
export async function resolveAgentToken(config: AgentConfig, deps: EnrollDeps): Promise<string> {
  if (config.token !== undefined) return config.token;
  mkdirSync(config.state, { recursive: true, mode: 0o700 });
  const stored = readStoredToken(config.state);
  if (stored) {
    if (stored.host !== config.host) {
      throw new ConfigError('--host', `the stored agent token (${storedTokenPath(config.state)}) was enrolled for host '${stored.host}', not '${config.host}'; move it away to enroll again`);
    }
    return stored.token;
  }
  if (config.enroll_token === undefined) throw new ConfigError('--token', 'required (or --enroll-token, RINGTAIL_ENROLL_TOKEN, for an instance that enrolls itself)');

  const client = collectorClient({ ...clientOptions({ ...config, token: config.enroll_token }), gzipLevel: 0 });
  const backoff = client.backoff();
  const wait =
    deps.wait ??
    ((ms: number) =>
      new Promise<void>((r) => {
        const t = setTimeout(done, ms);
        function done() {
          clearTimeout(t);
          deps.signal?.removeEventListener('abort', done);
          r();
        }
        deps.signal?.addEventListener('abort', done, { once: true });
      }));
  const body = Buffer.from(JSON.stringify({ host: config.host }));
  try {
    for (;;) {
      if (deps.signal?.aborted) throw new EnrollStopped();
      let answer: EnrollAnswer;
      try {
        answer = await client.post(ENROLL_PATH, body, { encoding: 'identity', contentType: 'application/json', signal: deps.signal }, isEnrollAnswer);
      } catch (err) {
        if (deps.signal?.aborted) throw new EnrollStopped();
        if (isRefusal(err)) {
          deps.log.error({ event: 'agent.enroll_refused', status: err.status, code: codeOf(err), collector: config.collector }, 'agent.enroll_refused');
          throw new RingtailError(codeOf(err), `enrollment refused by the collector: ${err.message}`, 1);
        }
        const ms = backoff.next(err instanceof ShipError ? err.retryAfterMs : undefined);
        deps.log.warn({ event: 'agent.enroll_retry', error: (err as Error).message, attempt: backoff.attempts, wait_ms: ms, collector: config.collector }, 'agent.enroll_retry');
        await wait(ms);
        continue;
      }
      if (answer.host !== config.host) throw new RingtailError(ErrorCodes.INTERNAL, `the collector enrolled host '${answer.host}', not '${config.host}'`, 1);
      const record: StoredToken = { token: answer.token, token_id: answer.token_id, host: answer.host, collector: config.collector, enrolled_at: Date.now() };
      // temp, fsync, rename, mode 0600: a crash leaves no torn token and no readable one
      writeFileAtomic(storedTokenPath(config.state), JSON.stringify(record) + '\n', 0o600);
      deps.log.info({ event: 'agent.enrolled', host: answer.host, token_id: answer.token_id, name: answer.name, file: storedTokenPath(config.state) }, 'agent.enrolled');
      return answer.token;
    }
  } finally {
    client.close();
  }
}
