// The regex workers, shared by the query API and the live tail, and the per-token cap on
// concurrent `re` queries (each can keep a worker busy for its whole scan budget).
import fp from 'fastify-plugin';
import { RegexRunner } from '../query/regex.js';
import { KeyedSlots } from '../query/slots.js';

declare module 'fastify' {
  interface FastifyInstance {
    regex: RegexRunner;
    /** `re` queries in progress per token */
    reQueries: KeyedSlots;
  }
}

export const DEFAULT_RE_PER_TOKEN = 2;

export interface RegexPluginOptions {
  /** worker threads (config `regex.workers`) */
  workers?: number;
  /** concurrent `re` queries per token (config `regex.max_concurrent_per_token`) */
  maxConcurrentPerToken?: number;
}

export const regexPlugin = fp<RegexPluginOptions>(
  async (app, opts) => {
    const runner = new RegexRunner({ workers: opts.workers });
    app.decorate('regex', runner);
    app.decorate(
      'reQueries',
      new KeyedSlots({ what: 'queries with re', perKey: opts.maxConcurrentPerToken ?? DEFAULT_RE_PER_TOKEN, perKeyName: 'regex.max_concurrent_per_token' }),
    );
    app.addHook('onClose', async () => runner.close());
  },
  { name: 'ringtail-regex' },
);
