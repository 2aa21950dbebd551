// GET /api/v1/logs/stream: live tail as Server-Sent Events, with the filters of /api/v1/logs.
// Events: `log` (data = one line as in /api/v1/logs, id = its id), `skipped` (the client was too
// slow and missed lines), `error` (then the stream ends); comments as heartbeats. A reconnect
// with Last-Event-ID first replays what the client missed, within a window of lines and bytes.
// Clients are capped in total (503) and per token (429), and each may have at most
// `maxBuffered` bytes unsent, so the tail's memory is bounded by maxClients × maxBuffered.
import fp from 'fastify-plugin';
import { READERS } from '../plugins/auth.js';
import { StreamQuery, toFilter } from '../query/filter.js';
import { encodeEvent, TailClient } from '../tail/client.js';
import { TailHub } from '../tail/hub.js';
import { replayStart } from '../tail/rows.js';

export const MAX_REPLAY = 10_000;
export const MAX_REPLAY_BYTES = 4 * 1024 * 1024;
export const MAX_BUFFERED = 1024 * 1024;
export const MAX_CLIENTS = 100;
export const MAX_CLIENTS_PER_TOKEN = 10;

export interface StreamOptions {
  heartbeatMs?: number;
  /** unsent bytes per client, the line being written included; lines beyond are skipped (with a notice) */
  maxBuffered?: number;
  /** connected clients at most (config `tail.max_clients`) */
  maxClients?: number;
  /** connected clients per token (config `tail.max_clients_per_token`) */
  maxClientsPerToken?: number;
  /** a reconnect replays at most this many lines… */
  maxReplayLines?: number;
  /** …and at most this many bytes of events */
  maxReplayBytes?: number;
  /** ms between looks for lines other collectors stored (default: 1000 on a shared store, else 0: commits here wake the tail) */
  pollMs?: number;
}

export const streamRoutes = fp<StreamOptions>(
  async (app, opts) => {
    const maxReplayLines = opts.maxReplayLines ?? MAX_REPLAY;
    const maxReplayBytes = opts.maxReplayBytes ?? MAX_REPLAY_BYTES;
    const hub = new TailHub(() => app.storage.logs, app.regex, app.events, opts.heartbeatMs ?? 15_000, {
      maxClients: opts.maxClients ?? MAX_CLIENTS,
      maxClientsPerToken: opts.maxClientsPerToken ?? MAX_CLIENTS_PER_TOKEN,
    }, opts.pollMs ?? (app.storage.config.backend === 'sqlite' ? 0 : 1000));
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
      const now = await hub.currentId();
      const key = req.principal?.id ?? '';
      const release = hub.admit(key);
      try {
        const lastEvent = Number(req.headers['last-event-id']);
        // a reconnect replays what it missed, but only the newest maxReplayLines lines and maxReplayBytes of it
        const fromId =
          Number.isSafeInteger(lastEvent) && lastEvent >= 0 && lastEvent < now
            ? await replayStart(app.storage.logs, lastEvent, now, maxReplayLines, maxReplayBytes, (r) => encodeEvent(r).length)
            : now;
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          // a connection-specific header is an error in HTTP/2 (Node drops it with a warning)
          ...(req.raw.httpVersionMajor < 2 ? { connection: 'keep-alive' } : {}),
          'x-accel-buffering': 'no',
        });
        res.write(`retry: 2000\n: connected at id ${fromId}\n\n`);
        const client = new TailClient(res, tailFilter, re, fromId, key, { maxBuffered: opts.maxBuffered ?? MAX_BUFFERED }, (n) => app.events.add('tail.skipped', n));
        hub.add(client, release, now);
      } catch (err) {
        release();
        throw err;
      }
      app.metrics.tailClients.set(hub.clients.size);
      reply.raw.on('close', () => app.metrics.tailClients.set(hub.clients.size));
    });
  },
  { name: 'ringtail-stream', dependencies: ['ringtail-storage', 'ringtail-auth', 'ringtail-regex', 'ringtail-metrics'], encapsulate: true },
);
