// The one writer path, as a plugin: `app.writer.submit(batch, receivedAt)` resolves with the
// acknowledgement once the group commit holding the batch is durable. The agent route uses it;
// other receivers (syslog) should too, so that their commits share the writer thread instead
// of writing through the main connection next to it.
import fp from 'fastify-plugin';
import { inlineCommitter, workerCommitter, type Committer } from '../ingest/commit.js';
import { packBatch, restreamPacked, type PackedBatch } from '../ingest/pack.js';
import { LogWriter, type FlushStats, type IngestWriter, type StagedItem } from '../ingest/writer.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** what a batch is staged as depends on the committer (worker: packed); the API takes IngestBatch either way */
    writer: IngestWriter;
    /** one slice of the store's index backfill where commits happen (Committer.backfill; plugins/search-backfill.ts) */
    writerBackfill: (limit: number) => Promise<{ ids: number; ms: number }>;
  }
}

export interface WriterOptions {
  /** 'worker': commit in the writer thread on its own connection to the store (app.storage.config) */
  mode?: 'inline' | 'worker';
  /** queued lines beyond which new requests get 503 + Retry-After (MAX_QUEUED_LINES) */
  maxQueuedLines?: number;
}

export const writerPlugin = fp<WriterOptions>(
  async (app, opts) => {
    const onFlush = (s: FlushStats) => {
      app.metrics.commitSeconds.observe(s.ms / 1000);
      if (s.ms > 250) app.events.emit('ingest.slow_commit', { batches: s.batches, lines: s.lines, ms: +s.ms.toFixed(1) }, 'warn');
    };
    let committer: Committer;
    let writer: IngestWriter;
    if (opts.mode === 'worker') {
      const thread = workerCommitter(app.storage.config, (err) => app.health.fail('log writer thread', err));
      committer = thread;
      // The pipeline (filters, clamping) runs here, when a batch is submitted, and the batch
      // waits packed for its group (LogWriter's stage); the thread only stores.
      const commit = async (items: Array<StagedItem<PackedBatch>>) => {
        const out = await thread.commitPacked(items);
        if (out.acks.some((a) => a.accepted > 0)) app.pipeline.committed();
        return out;
      };
      writer = new LogWriter(commit, onFlush, undefined, opts.maxQueuedLines, (batch, receivedAt) => packBatch(app.pipeline.prepare(batch, receivedAt)), restreamPacked);
    } else {
      committer = inlineCommitter(() => app.storage.logs);
      writer = new LogWriter(committer.commit, onFlush, undefined, opts.maxQueuedLines);
    }
    app.decorate('writer', writer);
    app.decorate('writerBackfill', (limit: number) => committer.backfill(limit));
    app.addHook('onClose', async () => {
      await writer.drain();
      await committer.close();
    });
  },
  { name: 'ringtail-writer', dependencies: ['ringtail-storage', 'ringtail-metrics'] },
);
