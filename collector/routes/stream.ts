// GET /api/v1/logs/stream: live tail as Server-Sent Events, with the filters of /api/v1/logs.
// Events: `log` (data = one line as in /api/v1/logs, id = its id), `skipped` (the client was too
// slow and missed lines), `error` (then the stream ends); comments as heartbeats. A reconnect
// with Last-Event-ID first replays what the client missed.
import fp from 'fastify-plugin';
import { READERS } from '../plugins/auth.js';
import { StreamQuery, toFilter } from '../query/filter.js';
import { TailClient } from '../tail/client.js';
import { TailHub } from '../tail/hub.js';

export const MAX_REPLAY = 10_000;

export interface StreamOptions {
  heartbeatMs?: number;
  /** unsent bytes per client beyond which lines are skipped (with a notice) */
  maxBuffered?: number;
}

export const streamRoutes = fp<StreamOptions>(
  async (app, opts) => {
    const hub = new TailHub(() => app.storage.logs, app.regex, app.events, opts.heartbeatMs ?? 15_000);
    app.metrics.tailBacklog = () => {
      let max = 0;
      for (const cl of hub.clients) max = Math.max(max, cl.res.writableLength);
      return max;
    };
    const wake = () => hub.wake();
    app.logsCommitted.on('committed', wake);
    app.addHook('preClose', async () => {
      app.logsCommitted.off('committed', wake);
      hub.closeAll();
    });

    app.get<{ Querystring: StreamQuery }>('/api/v1/logs/stream', { schema: { querystring: StreamQuery }, config: { roles: READERS } }, async (req, reply) => {
      // a bad search is a 400 now (toFilter checks it), not an error event later
      const { filter, re } = toFilter(req.query, app.clock());
      const { limit: _limit, ...tailFilter } = filter;
      const now = hub.currentId();
      const lastEvent = Number(req.headers['last-event-id']);
      // a reconnect replays what it missed, but never more than MAX_REPLAY lines of history
      const fromId = Number.isSafeInteger(lastEvent) && lastEvent >= 0 && lastEvent < now ? Math.max(lastEvent, now - MAX_REPLAY) : now;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 2000\n: connected at id ${fromId}\n\n`);
      const client = new TailClient(res, tailFilter, re, fromId, { maxBuffered: opts.maxBuffered ?? 1024 * 1024 }, (n) => app.events.add('tail.skipped', n));
      hub.add(client);
      app.metrics.tailClients.set(hub.clients.size);
      res.on('close', () => app.metrics.tailClients.set(hub.clients.size));
    });
  },
  { name: 'ringtail-stream', dependencies: ['ringtail-storage', 'ringtail-auth', 'ringtail-regex', 'ringtail-metrics'], encapsulate: true },
);
