// A collector app with alerts on a real SQLite file (timers off, an injected clock), and a real
// HTTP webhook receiver on loopback that records every request and answers as told.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../collector/app.js';
import type { AlertsConfig } from '../../collector/alerts/config.js';
import type { AlertSources } from '../../collector/alerts/sources.js';

export interface Hook {
  url: string;
  port: number;
  requests: Array<{ headers: IncomingHttpHeaders; body: string; json: any }>;
  /** the next answers, in order; 200 when the list is empty */
  answers: Array<{ status: number; headers?: Record<string, string> }>;
  close(): Promise<void>;
}

export async function hookReceiver(port = 0): Promise<Hook> {
  const hook: Hook = { url: '', port: 0, requests: [], answers: [], close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = null;
      try {
        json = JSON.parse(body);
      } catch {
        /* recorded as is */
      }
      hook.requests.push({ headers: req.headers, body, json });
      const a = hook.answers.shift() ?? { status: 200 };
      res.writeHead(a.status, a.headers ?? {});
      res.end('ok');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  hook.port = (server.address() as AddressInfo).port;
  hook.url = `http://127.0.0.1:${hook.port}/hook`;
  hook.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return hook;
}

export class FakeClock {
  constructor(public t = 1_700_000_000_000) {}
  now = () => this.t;
  advance(ms: number) {
    this.t += ms;
  }
}

export async function alertsApp(dir: string, clock: FakeClock, config: Partial<AlertsConfig>, sources?: AlertSources): Promise<FastifyInstance> {
  const app = await buildApp({ dataDir: dir, clock: clock.now, alerts: { config, run: false, sources } });
  await app.ready();
  return app;
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}
