// One regex worker per app, shared by the query API and the live tail.
import fp from 'fastify-plugin';
import { RegexRunner } from '../query/regex.js';

declare module 'fastify' {
  interface FastifyInstance {
    regex: RegexRunner;
  }
}

export const regexPlugin = fp(
  async (app) => {
    const runner = new RegexRunner();
    app.decorate('regex', runner);
    app.addHook('onClose', async () => runner.close());
  },
  { name: 'ringtail-regex' },
);
