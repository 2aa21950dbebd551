// Delivery of spooled log batches through the collector client: the body is already gzipped in
// the spool; a batch counts as delivered only on a 200 with an acknowledgement.
import { gzipSync } from 'node:zlib';
import { INGEST_AFTER_HEADER, INGEST_MULTI_TYPE, INGEST_PATH, type IngestAck } from '../../shared/wire.js';
import type { CollectorClient } from './client.js';

export { ShipError } from './client.js';

export interface Transport {
  /** `after`: committed ends (stream → offset) the batch must follow (INGEST_AFTER_HEADER) */
  send(body: Buffer, encoding: 'gzip' | 'identity', after?: Record<string, number>): Promise<IngestAck>;
  /**
   * Several spooled bodies (same encoding) in one request, as NDJSON: the collector commits them
   * in one transaction and answers one ack per body, in order. `body` is the bodies joined by
   * multiSeparator(encoding): gzip'd ones as gzip members, so nothing is recompressed.
   */
  sendMany(body: Buffer, batches: number, encoding: 'gzip' | 'identity', after?: Record<string, number>): Promise<IngestAck[]>;
}

const NEWLINE = Buffer.from('\n');
const GZIP_NEWLINE = gzipSync(NEWLINE);

/** What goes between two spooled bodies in a multi-batch request: a newline, gzip'd if they are. */
export function multiSeparator(encoding: 'gzip' | 'identity'): Buffer {
  return encoding === 'gzip' ? GZIP_NEWLINE : NEWLINE;
}

const isAck = (v: unknown): v is IngestAck => typeof v === 'object' && v !== null && !Array.isArray(v);
const afterHeader = (after?: Record<string, number>) => (after ? { [INGEST_AFTER_HEADER]: encodeURIComponent(JSON.stringify(after)) } : undefined);

export function httpTransport(client: CollectorClient): Transport {
  return {
    send(body, encoding, after) {
      return client.post(INGEST_PATH, body, { encoding, contentType: 'application/json', headers: afterHeader(after) }, isAck);
    },
    sendMany(body, batches, encoding, after) {
      const isAcks = (v: unknown): v is IngestAck[] => Array.isArray(v) && v.length === batches && v.every(isAck);
      return client.post(INGEST_PATH, body, { encoding, contentType: INGEST_MULTI_TYPE, headers: afterHeader(after) }, isAcks);
    },
  };
}
