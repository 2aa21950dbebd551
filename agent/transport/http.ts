// Delivery of one spooled batch to the collector over HTTP(S): the body is already gzipped in
// the spool, the bearer token names the agent, an optional CA file pins the collector's TLS
// certificate authority. A batch counts as delivered only on a 200 with an acknowledgement.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { ConfigError } from '../../shared/errors.js';
import { INGEST_PATH, type IngestAck } from '../../shared/wire.js';
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
  send(body: Buffer, encoding: 'gzip' | 'identity'): Promise<IngestAck>;
  close(): void;
}

const PERMANENT = new Set([400, 404, 405, 413, 415, 422]);

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
  const agent = secure ? new (lazyHttps().Agent)({ keepAlive: true, maxSockets: 1, ...(ca ? { ca } : {}) }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const request = secure ? lazyHttps().request : http.request;

  return {
    send(body, encoding) {
      return new Promise<IngestAck>((resolve, reject) => {
        const req = request(
          url,
          {
            method: 'POST',
            agent,
            headers: {
              authorization: `Bearer ${opts.token}`,
              'content-type': 'application/json',
              'content-length': body.length,
              ...(encoding === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
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
              try {
                resolve(JSON.parse(text) as IngestAck);
              } catch {
                reject(new ShipError(`collector answered 200 with a body that is not an acknowledgement: ${text.slice(0, 100)}`, false, status));
              }
            });
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
        req.on('error', (err) => reject(new ShipError(`collector ${url.origin} unreachable: ${(err as NodeJS.ErrnoException).code ?? err.message}`, false)));
        req.end(body);
      });
    },
    close() {
      agent.destroy();
    },
  };
}
