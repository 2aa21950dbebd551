// Delivery of metric samples to the collector. Like the log batches: only a 200 with an
// acknowledgement counts; the runner retries anything else with backoff.
import { gzipSync } from 'node:zlib';
import { METRICS_INGEST_PATH, type MetricAck, type MetricBatch } from '../../shared/wire.js';

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

export async function shipMetrics(collector: string, token: string, batch: MetricBatch, signal?: AbortSignal, timeoutMs = 30_000): Promise<MetricAck> {
  const url = new URL(METRICS_INGEST_PATH, collector);
  const json = Buffer.from(JSON.stringify(batch));
  const gzip = json.length > GZIP_ABOVE;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      },
      body: gzip ? gzipSync(json) : json,
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new MetricShipError(`collector ${url.origin} unreachable: ${(err as Error).cause ?? (err as Error).message}`, false);
  }
  const text = await res.text();
  if (res.status !== 200) {
    const permanent = res.status >= 400 && res.status < 500 && ![401, 408, 429].includes(res.status);
    throw new MetricShipError(`collector answered ${res.status}: ${text.slice(0, 300)}`, permanent);
  }
  return JSON.parse(text) as MetricAck;
}
