// POST /api/v1/ingest: the agent's batches. Validated against the shared TypeBox schema
// (unknown fields rejected, no type coercion), checked for consistent byte ranges, then handed
// to the group writer (app.writer); the 200 goes out only after the transaction holding it has committed.
// A request that fails validation is refused whole before anything is queued.
// A request may also carry several batches as NDJSON (INGEST_MULTI_TYPE: the agent sends up to a
// few spooled batches at once, so that one agent's lines make commits of ~20,000 lines instead of
// 5,000): they are committed in order in one transaction and answered with an array of acks.
// A request sent while the agent's previous one is still in flight names, in INGEST_AFTER_HEADER,
// the committed ends it must follow; arriving first, it waits for that one while another request
// is on its way (LogWriter holds it), and is refused with 409 and sent again otherwise.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fp from 'fastify-plugin';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { INGEST_AFTER_HEADER, INGEST_MULTI_TYPE, INGEST_PATH, IngestBatch, type IngestAck } from '../../shared/wire.js';
import { INGESTERS } from '../plugins/auth.js';
import { isIngestBatchFast } from './batch-check.js';

const check = TypeCompiler.Compile(IngestBatch);

export function validateBatch(body: unknown): IngestBatch {
  // Check() is the compiled fast path; Errors() walks the value again with the generic
  // interpreter (≈ 3 µs per line: a third of the main thread's time on 1,000-line batches), so
  // it runs only to explain a body that already failed.
  // isIngestBatchFast first (batch-check.ts): the same answer for what it accepts, without the
  // compiled check's arrays per line; anything else is judged (and explained) by the schema.
  if (!isIngestBatchFast(body) && !check.Check(body)) {
    const first = check.Errors(body).First();
    const at = first?.path || '/';
    throw new RingtailError(ErrorCodes.BAD_REQUEST, `body${at}: ${first?.message ?? 'does not match the batch schema'}`);
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

/** One JSON document per line; JSON.stringify never writes a raw newline inside a document. */
export function parseNdjson(text: string): unknown[] {
  const docs: unknown[] = [];
  let from = 0;
  while (from < text.length) {
    let to = text.indexOf('\n', from);
    if (to < 0) to = text.length;
    if (to > from) {
      try {
        docs.push(JSON.parse(text.slice(from, to)));
      } catch (err) {
        throw new RingtailError(ErrorCodes.BAD_REQUEST, `body: line ${docs.length + 1} is not JSON (${(err as Error).message})`);
      }
    }
    from = to + 1;
  }
  return docs;
}

export const MAX_BATCHES_PER_REQUEST = 64;

/** The INGEST_AFTER_HEADER value: {stream: end}, or undefined when absent. */
export function parseAfter(value: string | string[] | undefined): Record<string, number> | undefined {
  if (value === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(decodeURIComponent(String(value)));
  } catch {
    parsed = undefined;
  }
  const ok =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) &&
    Object.entries(parsed).every(([k, v]) => k.length > 0 && Number.isSafeInteger(v) && (v as number) >= 0);
  if (!ok) throw new RingtailError(ErrorCodes.BAD_REQUEST, `${INGEST_AFTER_HEADER}: expected URI-encoded JSON {"stream": end offset}`);
  return parsed as Record<string, number>;
}

function refuseOutOfOrder(acks: IngestAck[]): void {
  if (acks.some((a) => a.out_of_order)) {
    throw new RingtailError(ErrorCodes.OUT_OF_ORDER, 'the batches this request follows are not committed yet: send it again after them', 409);
  }
}

/** What the NDJSON parser hands the route: a class, so no JSON body can pass for one. */
class MultiBody {
  constructor(readonly docs: unknown[]) {}
}

export const ingestRoutes = fp(
  async (app) => {
    app.addContentTypeParser(INGEST_MULTI_TYPE, { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, new MultiBody(parseNdjson(body as string)));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    // Requests on their way (counted from their first byte until they are submitted or have
    // failed): a request that overtook one of them is held, not refused (LogWriter).
    const arriving = new WeakSet<object>();
    const settle = (req: object) => {
      if (arriving.delete(req)) app.writer.arriving(-1);
    };
    app.addHook('onRequest', async (req) => {
      arriving.add(req);
      app.writer.arriving(1);
    });
    app.addHook('onResponse', async (req) => settle(req));
    app.addHook('onRequestAbort', async (req) => settle(req));
    app.post(INGEST_PATH, { config: { roles: INGESTERS } }, async (req, reply) => {
      const multi = req.body instanceof MultiBody;
      let batches: IngestBatch[];
      if (req.body instanceof MultiBody) {
        const docs = req.body.docs;
        if (docs.length === 0 || docs.length > MAX_BATCHES_PER_REQUEST) {
          throw new RingtailError(ErrorCodes.BAD_REQUEST, `body: ${docs.length} batches (1 to ${MAX_BATCHES_PER_REQUEST} per request)`);
        }
        batches = docs.map((b) => validateBatch(b));
      } else {
        batches = [validateBatch(req.body)];
      }
      // in order, as before they were asynchronous: the first refusal is the one reported
      for (const b of batches) await app.checkHostBinding(req, b.host);
      for (const [i, b] of batches.entries()) await app.checkAgentBinding(req.principal, b.agent_id, multi ? `body/${i}/agent_id` : 'body/agent_id');
      const after = parseAfter(req.headers[INGEST_AFTER_HEADER]);
      const started = performance.now();
      // queued first, then no longer counted: a request held for this one retries behind it
      const submitted = app.writer.submitMany(batches, app.clock(), after);
      settle(req);
      // The writer keeps its own (packed) copy: the parsed lines are let go while the commit is
      // waited for, so they die young rather than being promoted (LogWriter's stage).
      const sent = batches.map((b) => ({ host: b.host, agent_id: b.agent_id, ephemeral: b.ephemeral }));
      batches = [];
      req.body = undefined;
      const acks = await submitted;
      refuseOutOfOrder(acks);
      const ms = performance.now() - started;
      app.metrics.batchSeconds.observe(ms / 1000);
      // what ringtail_ingest_batch_seconds observed for this request (W3C Server-Timing)
      reply.header('server-timing', `ack;dur=${ms.toFixed(2)}`);
      const at = app.clock();
      sent.forEach((batch, i) => {
        const ack = acks[i]!;
        app.hosts.heard(batch.host, at, { source: 'logs', agentId: batch.agent_id, ephemeral: batch.ephemeral });
        app.events.emit('ingest.batches', { host: batch.host, accepted: ack.accepted, duplicates: ack.duplicates, ms: +ms.toFixed(2) }, 'debug');
        app.events.add('ingest.lines', ack.accepted);
        app.events.add('ingest.duplicates', ack.duplicates);
      });
      // a multi-batch request is answered with an array of acks, a single batch with its ack
      return multi ? acks : acks[0]!;
    });
  },
  { name: 'ringtail-ingest', dependencies: ['ringtail-storage', 'ringtail-hosts', 'ringtail-auth', 'ringtail-gzip', 'ringtail-metrics', 'ringtail-writer', 'ringtail-host-binding', 'ringtail-agent-binding'], encapsulate: true },
);
