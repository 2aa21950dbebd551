// The collector's server entry: the only place that opens a port.
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { ensureAdmin, type AdminCredential } from './bootstrap.js';
import { parseListen, type CollectorConfig } from './config.js';
import { openSqliteStorage } from './storage/sqlite/index.js';

export interface RunningCollector {
  app: FastifyInstance;
  url: string;
  admin: AdminCredential;
  close(): Promise<void>;
}

export async function startCollector(config: CollectorConfig, logStream?: NodeJS.WritableStream): Promise<RunningCollector> {
  const storage = openSqliteStorage(config.data);
  const admin = ensureAdmin(storage, config.data, config.admin_token, Date.now());
  const app = await buildApp({
    dataDir: config.data,
    storage,
    bodyLimit: config.body_limit,
    hostMetrics: { layouts: config.metrics?.layouts },
    logger: logStream ? { level: config.log_level, stream: logStream } : { level: config.log_level },
    syslog: config.syslog,
    alerts: { config: config.alerts, run: true },
  });
  const { host, port } = parseListen(config.listen);
  try {
    await app.listen({ host, port });
    await app.syslog.start();
  } catch (err) {
    await app.close();
    storage.close();
    throw err;
  }
  const addr = app.server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    app,
    url: `http://${shownHost}:${actualPort}`,
    admin,
    async close() {
      await app.close();
      storage.close();
    },
  };
}
