// Delivery of metric samples through the collector client the log shipper uses (same TLS trust,
// timeout, token and reading of answers). Like the log batches: only a 200 with an
// acknowledgement counts; the runner retries anything else with the client's backoff.
import { gzipSync } from 'node:zlib';
import { METRICS_INGEST_PATH, type MetricAck, type MetricBatch } from '../../shared/wire.js';
import type { CollectorClient } from '../transport/client.js';

export { ShipError as MetricShipError } from '../transport/client.js';

/** Bodies above this are gzipped (at transport.gzip_level): metric names repeat, so they shrink about tenfold. */
const GZIP_ABOVE = 8 * 1024;

const isAck = (v: unknown): v is MetricAck =>
  typeof v === 'object' && v !== null && typeof (v as MetricAck).accepted === 'number' && typeof (v as MetricAck).duplicates === 'number';

export function shipMetrics(client: CollectorClient, batch: MetricBatch, signal?: AbortSignal): Promise<MetricAck> {
  const json = Buffer.from(JSON.stringify(batch));
  const gzip = client.gzipLevel > 0 && json.length > GZIP_ABOVE;
  const body = gzip ? gzipSync(json, { level: client.gzipLevel }) : json;
  return client.post(METRICS_INGEST_PATH, body, { encoding: gzip ? 'gzip' : 'identity', contentType: 'application/json', signal }, isAck);
}
