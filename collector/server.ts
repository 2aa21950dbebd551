// The collector's server entry: the only place that opens a port.
import { totalmem } from 'node:os';
import type { Server as HttpServer } from 'node:http';
import { createSecureServer, type ServerHttp2Session } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { Value } from '@sinclair/typebox/value';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { checkAlertsConfig } from './alerts/config.js';
import { ensureAdmin, type AdminCredential } from './bootstrap.js';
import { CollectorConfig, parseListen } from './config.js';
import { checkStorage, openStorageAsync, storageConfig, storagePlaces } from './storage/factory.js';
import { readTls, refusePlaintext, TlsContexts, warnIfExpired } from './tls.js';

/** pending connections the kernel may queue for the API's listener (see listen below) */
export const LISTEN_BACKLOG = 4096;

export interface RunningCollector {
  app: FastifyInstance;
  url: string;
  admin: AdminCredential;
  /** the certificate in force when `tls` is configured; reloadTls() re-reads its files (SIGHUP) */
  tls: TlsContexts | null;
  close(): Promise<void>;
}

/** `retention`, `tail`, `regex`, `hosts`, `tls`, `storage` and `clickhouse` may be left out (e.g. by `ringtail up`); they then take the schema's defaults */
type Defaulted = 'retention' | 'tail' | 'regex' | 'hosts' | 'tls' | 'storage' | 'clickhouse' | 'memory';
export type ServerConfig = Omit<CollectorConfig, Defaulted> & Partial<Pick<CollectorConfig, Defaulted>>;

function defaults<K extends Defaulted>(config: ServerConfig, key: K): CollectorConfig[K] {
  return (config[key] ?? Value.Default(CollectorConfig.properties[key], {})) as CollectorConfig[K];
}

/** a URL without its credentials, for the log */
function shownUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(not a URL)';
  }
}

export async function startCollector(config: ServerConfig, logStream?: NodeJS.WritableStream): Promise<RunningCollector> {
  const retention = defaults(config, 'retention');
  const tail = defaults(config, 'tail');
  const regex = defaults(config, 'regex');
  const memory = defaults(config, 'memory');
  checkAlertsConfig(config.alerts); // before anything opens: a bad rule must not leave threads behind
  const stored = storageConfig(config); // storage and clickhouse.database take their defaults there
  checkStorage(stored); // likewise: a backend that cannot work is a config error before anything opens
  const tlsFiles = defaults(config, 'tls');
  const material = readTls(tlsFiles); // likewise: a bad certificate is a config error before anything opens
  const tls = material ? new TlsContexts(tlsFiles, material) : null;
  const h2Sessions = new Set<ServerHttp2Session>();
  let closing = false;
  const storage = await openStorageAsync(stored);
  const admin = await ensureAdmin(storage, config.data, config.admin_token, Date.now());
  const app = await buildApp({
    dataDir: config.data,
    storage,
    bodyLimit: config.body_limit,
    bindAgentHosts: config.auth?.bind_agent_hosts ?? false,
    filters: config.filters,
    // the inline writers (logs, metrics) stay selectable for the load benchmark's comparison (BENCHMARKS.md)
    // (a networked store commits inline: its inserts wait on the network, not the event loop)
    writer: process.env.RINGTAIL_BENCH_WRITER === 'inline' || stored.backend !== 'sqlite' ? 'inline' : 'worker',
    retention,
    hostMetrics: { layouts: config.metrics?.layouts, maxFutureMs: config.metrics?.max_future_ms, thread: process.env.RINGTAIL_BENCH_METRICS !== 'inline' },
    logger: logStream ? { level: config.log_level, stream: logStream } : { level: config.log_level },
    syslog: tls ? { ...config.syslog, tls } : config.syslog,
    // TLS only changes the server object; with it off Fastify makes its plain http server as before.
    // HTTP/2 beside HTTP/1.1 (ALPN picks) through Node's compatibility API, which hands Fastify
    // the same request and response interface; `tls.http2: false` keeps to HTTP/1.1.
    ...(tls
      ? {
          serverFactory: (handler: Parameters<typeof createHttpsServer>[1]) => {
            if (!tlsFiles.http2) return createHttpsServer(tls.options(), handler) as unknown as HttpServer;
            const server = createSecureServer({ ...tls.options(), allowHTTP1: true }, handler as never);
            // server.close() waits for every HTTP/2 session to end, and Node 20 does not end
            // them (nor does Fastify given a server of ours): close() below asks each to finish.
            server.on('session', (session) => {
              if (closing) session.close();
              h2Sessions.add(session);
              session.once('close', () => h2Sessions.delete(session));
            });
            return server as unknown as HttpServer;
          },
        }
      : {}),
    tail: {
      maxClients: tail.max_clients,
      maxClientsPerToken: tail.max_clients_per_token,
      maxBuffered: tail.max_buffered_bytes,
      maxReplayLines: tail.max_replay_lines,
      maxReplayBytes: tail.max_replay_bytes,
    },
    regex: { workers: regex.workers, maxConcurrentPerToken: regex.max_concurrent_per_token },
    alerts: { config: config.alerts, run: true },
    hosts: { config: config.hosts, run: true },
    // the first searches after a start should not read every page from disk (storage/sqlite/warm.ts)
    warmup: memory.warmup_percent_of_ram > 0 ? { maxBytes: Math.floor((totalmem() * memory.warmup_percent_of_ram) / 100) } : false,
  });
  if (stored.backend !== 'sqlite') {
    // an honest intermediate state: say what is shared and what is still this collector's own
    const places = storagePlaces(stored);
    app.events.emit('storage.backend', { backend: stored.backend, url: shownUrl(stored.clickhouse?.url), database: stored.clickhouse?.database, shared: places.shared.join(','), local_sqlite: places.local.join(','), data: config.data }, 'info');
  }
  const { host, port } = parseListen(config.listen);
  if (tls) {
    const server = app.server as unknown as import('node:tls').Server;
    tls.register(server, app.events, 'api');
    refusePlaintext(server, app.events);
    warnIfExpired(material!, app.events);
  }
  try {
    // Fastify names the scheme from its own `https` option, which the server factory bypasses
    // backlog: connections the kernel holds until the event loop accepts them. Node's 511 is
    // full when 1,000 agents (a log and a metric connection each) appear while the loop is busy
    // a few hundred ms; the kernel then drops their handshakes and each client waits 1, 3, 7 …
    // seconds for its retransmission (load benchmark: an agent's first request p99 9.2 s at the
    // client, ≤ 420 ms in the collector). Capped by net.core.somaxconn (4096 on current kernels).
    await app.listen({ host, port, backlog: LISTEN_BACKLOG, ...(tls ? { listenTextResolver: (address: string) => `Server listening at ${address.replace(/^http:/, 'https:')}` } : {}) });
    await app.syslog.start();
  } catch (err) {
    try {
      await app.close();
    } finally {
      storage.close();
    }
    throw err;
  }
  const addr = app.server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    app,
    url: `${tls ? 'https' : 'http'}://${shownHost}:${actualPort}`,
    admin,
    tls,
    async close() {
      // graceful: a session's open streams (a live tail, an ingest) finish first; the tail's
      // own preClose hook ends its streams
      closing = true;
      for (const session of h2Sessions) session.close();
      // the store's threads must end even when a plugin's onClose hook fails, or they keep the
      // process alive after the error is reported
      try {
        await app.close();
      } finally {
        storage.close();
      }
    },
  };
}
