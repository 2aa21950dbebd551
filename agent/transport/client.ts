// The agent's one connection to the collector, built once from the `transport` options and used
// by the log shipper and the metrics runner alike: the same trusted CA, timeout, bearer token,
// kept-alive sockets, reading of the collector's answers and retry policy. Metrics once had their
// own request code that ignored ca_file: with a private CA, logs arrived and metrics failed with
// UNABLE_TO_VERIFY_LEAF_SIGNATURE forever (issue 12, item 11).
//
// node:http rather than fetch: undici and its WebAssembly parser cost the agent about 8 MB.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { ConfigError } from '../../shared/errors.js';
import type { AgentConfig } from '../config.js';
import { Backoff, parseRetryAfter } from './backoff.js';
import { lazyHttps } from './lazy-https.js';

export class ShipError extends Error {
  constructor(
    message: string,
    /** the collector refuses this request itself (400, 404, 405, 413, 415, 422): resending cannot help */
    readonly permanent: boolean,
    readonly status?: number,
    /** the wait the collector asked for with Retry-After, in ms */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  collector: string;
  token: string;
  caFile?: string;
  /** client certificate and key for a collector with mutual TLS */
  certFile?: string;
  keyFile?: string;
  timeoutMs: number;
  backoffMaxMs: number;
  /** gzip level of bodies the client's users compress; 0: none */
  gzipLevel: number;
}

export interface PostOptions {
  encoding: 'gzip' | 'identity';
  contentType: string;
  headers?: Record<string, string>;
  /** aborts the request (the metrics runner, on stop) */
  signal?: AbortSignal;
}

export interface CollectorClient {
  readonly gzipLevel: number;
  /** POSTs `body` to `path`; resolves with the parsed answer of a 200 that `accept` takes, rejects with a ShipError. */
  post<T>(path: string, body: Buffer, opts: PostOptions, accept: (parsed: unknown) => parsed is T): Promise<T>;
  /** the retry policy for one sender: its own attempt count, the shared cap */
  backoff(random?: () => number): Backoff;
  close(): void;
}

/**
 * Statuses that refuse the request for what it is. Everything else (401 and 403 for a token being
 * fixed, 408, 429, 5xx, no answer) is retried: dropping data for an operator's mistake or a
 * collector's bad moment would lose it for good.
 */
const PERMANENT = new Set([400, 404, 405, 413, 415, 422]);

/**
 * Sockets to the collector: two for the log shipper's pipeline (agent.ts: a second request in
 * flight behind the first), one for the metrics runner, so that metrics never queue behind logs.
 */
const MAX_SOCKETS = 3;

export function clientOptions(config: AgentConfig): ClientOptions {
  // without --token the agent command resolves one first (agent/enroll.ts)
  if (config.token === undefined) throw new ConfigError('--token', 'required (or --enroll-token for an instance that enrolls itself)');
  return {
    collector: config.collector,
    token: config.token,
    caFile: config.transport.ca_file,
    certFile: config.transport.cert_file,
    keyFile: config.transport.key_file,
    timeoutMs: config.transport.timeout_ms,
    backoffMaxMs: config.transport.backoff_max_ms,
    gzipLevel: config.transport.gzip_level,
  };
}

export function collectorClient(opts: ClientOptions, clock: () => number = Date.now): CollectorClient {
  const base = new URL(opts.collector);
  const secure = base.protocol === 'https:';
  const read = (file: string | undefined, flag: string): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new ConfigError(flag, `cannot read '${file}': ${(err as NodeJS.ErrnoException).code}`);
    }
  };
  const ca = read(opts.caFile, '--transport-ca-file');
  const cert = read(opts.certFile, '--transport-cert-file');
  const key = read(opts.keyFile, '--transport-key-file');
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(cert ? '--transport-key-file' : '--transport-cert-file', 'a client certificate needs both --transport-cert-file and --transport-key-file');
  }
  const agent = secure
    ? new (lazyHttps().Agent)({ keepAlive: true, maxSockets: MAX_SOCKETS, ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) })
    : new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const request = secure ? lazyHttps().request : http.request;

  const post = <T>(path: string, body: Buffer, o: PostOptions, accept: (parsed: unknown) => parsed is T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const url = new URL(path, base);
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${opts.token}`,
            'content-type': o.contentType,
            'content-length': body.length,
            ...(o.encoding === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
            ...o.headers,
          },
          timeout: opts.timeoutMs,
          ...(o.signal ? { signal: o.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (err) => reject(new ShipError(`collector ${url.origin}: ${err.message}`, false)));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (status !== 200) {
              const retryAfter = parseRetryAfter(res.headers['retry-after'], clock());
              reject(new ShipError(`collector answered ${status}: ${text.slice(0, 300)}`, PERMANENT.has(status), status, retryAfter));
              return;
            }
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            if (accept(parsed)) resolve(parsed);
            else reject(new ShipError(`collector answered 200 with a body that is not an acknowledgement: ${text.slice(0, 100)}`, false, status));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
      req.on('error', (err) => reject(new ShipError(`collector ${url.origin} unreachable: ${(err as NodeJS.ErrnoException).code ?? err.message}`, false)));
      req.end(body);
    });

  return {
    gzipLevel: opts.gzipLevel,
    post,
    backoff: (random) => new Backoff(opts.backoffMaxMs, random),
    close() {
      agent.destroy();
    },
  };
}
