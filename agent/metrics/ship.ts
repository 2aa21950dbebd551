// Delivery of metric samples to the collector. Like the log batches: only a 200 with an
// acknowledgement counts; the runner retries anything else with backoff. node:http with one
// kept-alive connection rather than fetch: undici and its WebAssembly parser cost the agent
// about 8 MB of memory, and a request every 10 s needs none of it.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { gzipSync } from 'node:zlib';
import { METRICS_INGEST_PATH, type MetricAck, type MetricBatch } from '../../shared/wire.js';
import { lazyHttps } from '../transport/lazy-https.js';

export class MetricShipError extends Error {
  constructor(
    message: string,
    /** the collector refused the batch itself (a 4xx other than 401/408/429): resending cannot help */
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** Bodies above this are gzipped: metric names repeat, so they shrink about tenfold. */
const GZIP_ABOVE = 8 * 1024;

const keepAlive: { http: HttpAgent; https?: HttpsAgent } = { http: new HttpAgent({ keepAlive: true, maxSockets: 1 }) };

export function shipMetrics(collector: string, token: string, batch: MetricBatch, signal?: AbortSignal, timeoutMs = 30_000): Promise<MetricAck> {
  const url = new URL(METRICS_INGEST_PATH, collector);
  const json = Buffer.from(JSON.stringify(batch));
  const gzip = json.length > GZIP_ABOVE;
  const body = gzip ? gzipSync(json) : json;
  const tls = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (tls ? lazyHttps().request : httpRequest)(
      url,
      {
        method: 'POST',
        agent: tls ? (keepAlive.https ??= new (lazyHttps().Agent)({ keepAlive: true, maxSockets: 1 })) : keepAlive.http,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': body.length,
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        },
        signal,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(new MetricShipError(`collector ${url.origin}: ${err.message}`, false)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const permanent = status >= 400 && status < 500 && ![401, 408, 429].includes(status);
            return reject(new MetricShipError(`collector answered ${status}: ${text.slice(0, 300)}`, permanent));
          }
          try {
            resolve(JSON.parse(text) as MetricAck);
          } catch {
            reject(new MetricShipError(`collector answered 200 with no acknowledgement: ${text.slice(0, 300)}`, false));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => reject(new MetricShipError(`collector ${url.origin} unreachable: ${err.code ?? err.message}`, false)));
    req.end(body);
  });
}
