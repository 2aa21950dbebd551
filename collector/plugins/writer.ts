// The one writer path, as a plugin: `app.writer.submit(batch, receivedAt)` resolves with the
// acknowledgement once the group commit holding the batch is durable. The agent route uses it;
// other receivers (syslog) should too, so that their commits share the writer thread instead
// of writing through the main connection next to it.
import fp from 'fastify-plugin';
import { inlineCommitter, workerCommitter, type Committer } from '../ingest/commit.js';
import { LogWriter } from '../ingest/writer.js';
import type { IngestItem } from '../storage/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    writer: LogWriter;
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
    let committer: Committer;
    let commit: (items: IngestItem[]) => ReturnType<Committer['commit']>;
    if (opts.mode === 'worker') {
      const thread = workerCommitter(app.storage.config);
      committer = thread;
      // The pipeline (filters, clamping) runs here; the thread only stores.
      commit = async (items) => {
        const out = await thread.commit(items.map((it) => ({ ...it, batch: app.pipeline.prepare(it.batch, it.receivedAt) })));
        if (out.acks.some((a) => a.accepted > 0)) app.pipeline.committed();
        return out;
      };
    } else {
      committer = inlineCommitter(() => app.storage.logs);
      commit = committer.commit;
    }
    const writer = new LogWriter(
      commit,
      (s) => {
        app.metrics.commitSeconds.observe(s.ms / 1000);
        if (s.ms > 250) app.events.emit('ingest.slow_commit', { batches: s.batches, lines: s.lines, ms: +s.ms.toFixed(1) }, 'warn');
      },
      undefined,
      opts.maxQueuedLines,
    );
    app.decorate('writer', writer);
    app.addHook('onClose', async () => {
      await writer.drain();
      await committer.close();
    });
  },
  { name: 'ringtail-writer', dependencies: ['ringtail-storage', 'ringtail-metrics'] },
);
