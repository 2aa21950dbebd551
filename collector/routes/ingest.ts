// POST /api/v1/ingest: the agent's batches. Validated against the shared TypeBox schema
// (unknown fields rejected, no type coercion), checked for consistent byte ranges, then
// committed in one transaction before the 200 goes out.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyPluginAsync } from 'fastify';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { INGEST_PATH, IngestBatch } from '../../shared/wire.js';
import { INGESTERS } from '../plugins/auth.js';

const check = TypeCompiler.Compile(IngestBatch);

export function validateBatch(body: unknown): IngestBatch {
  const first = check.Errors(body).First();
  if (first) {
    const at = first.path || '/';
    throw new RingtailError(ErrorCodes.BAD_REQUEST, `body${at}: ${first.message}`);
  }
  const batch = body as IngestBatch;
  batch.segments.forEach((seg, i) => {
    if (seg.end < seg.start) {
      throw new RingtailError(ErrorCodes.BAD_REQUEST, `body/segments/${i}: end ${seg.end} is before start ${seg.start}`);
    }
    let prev = -1;
    seg.lines.forEach((line, j) => {
      if (line.offset < seg.start || line.offset >= seg.end || line.offset <= prev) {
        throw new RingtailError(
          ErrorCodes.BAD_REQUEST,
          `body/segments/${i}/lines/${j}/offset: ${line.offset} must increase and lie in [${seg.start}, ${seg.end})`,
        );
      }
      prev = line.offset;
    });
  });
  return batch;
}

export const ingestRoutes: FastifyPluginAsync = async (app) => {
  app.post(INGEST_PATH, { config: { roles: INGESTERS } }, async (req) => {
    const batch = validateBatch(req.body);
    const started = performance.now();
    const ack = app.storage.logs.ingest(batch, app.clock());
    app.events.emit('ingest.batch', { host: batch.host, accepted: ack.accepted, duplicates: ack.duplicates, ms: +(performance.now() - started).toFixed(2) }, 'debug');
    app.events.add('ingest.lines', ack.accepted);
    app.events.add('ingest.duplicates', ack.duplicates);
    return ack;
  });
};
