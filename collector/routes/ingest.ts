// POST /api/v1/ingest: the agent's batches. Validated against the shared TypeBox schema
// (unknown fields rejected, no type coercion), checked for consistent byte ranges, then handed
// to the group writer; the 200 goes out only after the transaction holding it has committed.
// A request that fails validation is refused whole before anything is queued.
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fp from 'fastify-plugin';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { INGEST_PATH, IngestBatch } from '../../shared/wire.js';
import { inlineCommitter, workerCommitter } from '../ingest/commit.js';
import { GroupWriter } from '../ingest/writer.js';
import { INGESTERS } from '../plugins/auth.js';
import type { IngestItem } from '../storage/types.js';

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

export interface IngestOptions {
  /** 'worker': commit in the writer thread on its own connection (needs the SQLite data dir) */
  writer?: 'inline' | 'worker';
  dataDir?: string;
}

export const ingestRoutes = fp<IngestOptions>(
  async (app, opts) => {
    let commit;
    let thread: ReturnType<typeof workerCommitter> | null = null;
    if (opts.writer === 'worker' && opts.dataDir) {
      thread = workerCommitter(opts.dataDir);
      commit = async (items: IngestItem[]) => {
        const out = await thread!.commit(items.map((it) => ({ batch: app.pipeline.prepare(it.batch, it.receivedAt), receivedAt: it.receivedAt })));
        if (out.acks.some((a) => a.accepted > 0)) app.pipeline.committed();
        return out;
      };
    } else {
      const inline = inlineCommitter(() => app.storage.logs);
      commit = inline.commit;
    }
    const writer = new GroupWriter(
      commit,
      (s) => {
        app.metrics.commitSeconds.observe(s.ms / 1000);
        if (s.ms > 250) app.events.emit('ingest.slow_commit', { batches: s.batches, lines: s.lines, ms: +s.ms.toFixed(1) }, 'warn');
      },
    );
    app.addHook('onClose', async () => {
      await writer.drain();
      await thread?.close();
    });
    app.post(INGEST_PATH, { config: { roles: INGESTERS } }, async (req) => {
      const batch = validateBatch(req.body);
      const started = performance.now();
      const ack = await writer.submit(batch, app.clock());
      const ms = performance.now() - started;
      app.metrics.batchSeconds.observe(ms / 1000);
      app.events.emit('ingest.batches', { host: batch.host, accepted: ack.accepted, duplicates: ack.duplicates, ms: +ms.toFixed(2) }, 'debug');
      app.events.add('ingest.lines', ack.accepted);
      app.events.add('ingest.duplicates', ack.duplicates);
      return ack;
    });
  },
  { name: 'ringtail-ingest', dependencies: ['ringtail-storage', 'ringtail-auth', 'ringtail-gzip', 'ringtail-metrics'], encapsulate: true },
);
