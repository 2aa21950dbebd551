// A collector app with alerts on a real SQLite file (timers off, an injected clock), and a real
// HTTP webhook receiver on loopback that records every request and answers as told.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach } from 'vitest';
import { buildApp } from '../../collector/app.js';
import type { AlertsConfig } from '../../collector/alerts/config.js';
import type { HostDirectory } from '../../collector/alerts/hosts.js';
import type { AlertSources } from '../../collector/alerts/sources.js';
import { generateSecret } from '../../shared/webhook-signature.js';
import { tempDir } from './proc.js';

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

/** The default rules stay off unless the test's config asks for them (`defaults: true`): each test watches its own rules. */
export async function alertsApp(dir: string, clock: FakeClock, config: Partial<AlertsConfig>, sources?: AlertSources, hosts?: HostDirectory): Promise<FastifyInstance> {
  const app = await buildApp({ dataDir: dir, clock: clock.now, alerts: { config: { defaults: false, ...config }, run: false, sources, hosts } });
  await app.ready();
  return app;
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

/**
 * Per test: a fresh data directory, a fake clock and a webhook receiver; `start()` builds an app
 * whose webhook `ops` points at the receiver, and every app started is closed after the test.
 * `stopApps()` closes them in the middle of a test: a collector restart.
 */
export function alertsRig(prefix: string, webhook: Record<string, unknown> = {}) {
  const rig = {
    dir: undefined as unknown as { path: string; cleanup(): void },
    clock: undefined as unknown as FakeClock,
    hook: undefined as unknown as Hook,
    apps: [] as FastifyInstance[],
    async start(config: Record<string, unknown> = {}, sources?: AlertSources, hosts?: HostDirectory): Promise<FastifyInstance> {
      const app = await alertsApp(rig.dir.path, rig.clock, { webhooks: [{ name: 'ops', url: rig.hook.url, secret: generateSecret(), ...webhook }], ...config }, sources, hosts);
      rig.apps.push(app);
      return app;
    },
    /** an app on the same data directory and clock, with this config as is */
    async startWith(config: Partial<AlertsConfig>, sources?: AlertSources): Promise<FastifyInstance> {
      const app = await alertsApp(rig.dir.path, rig.clock, config, sources);
      rig.apps.push(app);
      return app;
    },
    async stopApps(): Promise<void> {
      for (const a of rig.apps.splice(0)) await a.close();
    },
  };
  beforeEach(async () => {
    rig.dir = tempDir(prefix);
    rig.clock = new FakeClock();
    rig.hook = await hookReceiver();
  });
  afterEach(async () => {
    await rig.stopApps();
    await rig.hook.close();
    rig.dir.cleanup();
  });
  return rig;
}
