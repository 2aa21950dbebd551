// Delivery of one spooled batch to the collector over HTTP(S): the body is already gzipped in
// the spool, the bearer token names the agent, an optional CA file pins the collector's TLS
// certificate authority. A batch counts as delivered only on a 200 with an acknowledgement.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { ConfigError } from '../../shared/errors.js';
import { gzipSync } from 'node:zlib';
import { INGEST_AFTER_HEADER, INGEST_MULTI_TYPE, INGEST_PATH, type IngestAck } from '../../shared/wire.js';
import { lazyHttps } from './lazy-https.js';

export class ShipError extends Error {
  constructor(
    message: string,
    /** the collector refuses this batch itself (400, 413, 415, 422): retrying will not help */
    readonly permanent: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface TransportOptions {
  collector: string;
  token: string;
  caFile?: string;
  timeoutMs: number;
}

export interface Transport {
  /** `after`: committed ends (stream → offset) the batch must follow (INGEST_AFTER_HEADER) */
  send(body: Buffer, encoding: 'gzip' | 'identity', after?: Record<string, number>): Promise<IngestAck>;
  /**
   * Several spooled bodies (same encoding) in one request, as NDJSON: the collector commits them
   * in one transaction and answers one ack per body, in order. `body` is the bodies joined by
   * multiSeparator(encoding): gzip'd ones as gzip members, so nothing is recompressed.
   */
  sendMany(body: Buffer, batches: number, encoding: 'gzip' | 'identity', after?: Record<string, number>): Promise<IngestAck[]>;
  close(): void;
}

const PERMANENT = new Set([400, 404, 405, 413, 415, 422]);
const NEWLINE = Buffer.from('\n');
const GZIP_NEWLINE = gzipSync(NEWLINE);

/** What goes between two spooled bodies in a multi-batch request: a newline, gzip'd if they are. */
export function multiSeparator(encoding: 'gzip' | 'identity'): Buffer {
  return encoding === 'gzip' ? GZIP_NEWLINE : NEWLINE;
}

export function httpTransport(opts: TransportOptions): Transport {
  const url = new URL(INGEST_PATH, opts.collector);
  const secure = url.protocol === 'https:';
  let ca: Buffer | undefined;
  if (opts.caFile !== undefined) {
    try {
      ca = readFileSync(opts.caFile);
    } catch (err) {
      throw new ConfigError('--transport-ca-file', `cannot read '${opts.caFile}': ${(err as NodeJS.ErrnoException).code}`);
    }
  }
  // Two sockets: the shipper may have a second request in flight behind the first (agent.ts).
  const agent = secure ? new (lazyHttps().Agent)({ keepAlive: true, maxSockets: 2, ...(ca ? { ca } : {}) }) : new http.Agent({ keepAlive: true, maxSockets: 2 });
  const request = secure ? lazyHttps().request : http.request;

  const post = <T>(body: Buffer, encoding: 'gzip' | 'identity', contentType: string, accept: (parsed: unknown) => parsed is T, after?: Record<string, number>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            agent,
            headers: {
              authorization: `Bearer ${opts.token}`,
              'content-type': contentType,
              'content-length': body.length,
              ...(encoding === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
              ...(after ? { [INGEST_AFTER_HEADER]: encodeURIComponent(JSON.stringify(after)) } : {}),
            },
            timeout: opts.timeoutMs,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', (err) => reject(new ShipError(`collector ${url.origin}: ${err.message}`, false)));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              const status = res.statusCode ?? 0;
              if (status !== 200) {
                reject(new ShipError(`collector answered ${status}: ${text.slice(0, 300)}`, PERMANENT.has(status), status));
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
  const isAck = (v: unknown): v is IngestAck => typeof v === 'object' && v !== null && !Array.isArray(v);

  return {
    send(body, encoding, after) {
      return post(body, encoding, 'application/json', isAck, after);
    },
    sendMany(body, batches, encoding, after) {
      const isAcks = (v: unknown): v is IngestAck[] => Array.isArray(v) && v.length === batches && v.every(isAck);
      return post(body, encoding, INGEST_MULTI_TYPE, isAcks, after);
    },
    close() {
      agent.destroy();
    },
  };
}
