// The agent's collector client against real TLS on loopback: a collector certificate signed by a
// private CA is trusted only with the CA file; the bearer token and gzip encoding travel. Then
// the same client behind logs and metrics: one timeout, one reading of the collector's answers.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentConfig } from '../../agent/config.js';
import { createMetricsRunner } from '../../agent/metrics/index.js';
import { clientOptions, collectorClient, type ClientOptions } from '../../agent/transport/client.js';
import { httpTransport, ShipError } from '../../agent/transport/http.js';
import { ConfigError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { tempDir } from '../helpers/proc.js';
import { hasTool } from '../helpers/tools.js';

const dir = tempDir('ringtail-tls-');
let server: Server;
let url = '';
const opts = (extra: Partial<ClientOptions> = {}): ClientOptions => ({ collector: url, token: 'rt_agent_secret_token', timeoutMs: 5000, backoffMaxMs: 1000, gzipLevel: 1, ...extra });
const seen: Array<{ auth: string | undefined; encoding: string | undefined; body: string }> = [];

describe.skipIf(!hasTool('openssl'))('agent transport over TLS', () => {
  beforeAll(async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir.path, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=ringtail test CA');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir.path, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'san.ext');
    server = createServer({ key: readFileSync(join(dir.path, 'srv.key')), cert: readFileSync(join(dir.path, 'srv.pem')) }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const encoding = req.headers['content-encoding'];
        seen.push({ auth: req.headers.authorization, encoding, body: (encoding === 'gzip' ? gunzipSync(raw) : raw).toString() });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ accepted: 1, duplicates: 0, committed: { s1: 10 } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const addr = server.address();
    url = `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });

  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    dir.cleanup();
  });

  it('delivers with the CA file: bearer token and gzip body arrive', async () => {
    const c = collectorClient(opts({ caFile: join(dir.path, 'ca.pem') }));
    const ack = await httpTransport(c).send(gzipSync(Buffer.from('{"hello":1}')), 'gzip');
    c.close();
    expect(ack).toEqual({ accepted: 1, duplicates: 0, committed: { s1: 10 } });
    expect(seen.at(-1)).toEqual({ auth: 'Bearer rt_agent_secret_token', encoding: 'gzip', body: '{"hello":1}' });
  });

  it('refuses the certificate without the CA file, as a retryable failure', async () => {
    const c = collectorClient(opts());
    const err = await httpTransport(c).send(Buffer.from('{}'), 'identity').catch((e: unknown) => e);
    c.close();
    expect(err).toBeInstanceOf(ShipError);
    expect((err as ShipError).permanent).toBe(false);
    expect((err as Error).message).toMatch(/unreachable/);
  });

  it('names the option when the CA file cannot be read', () => {
    expect(() => collectorClient(opts({ caFile: join(dir.path, 'missing.pem') }))).toThrow(ConfigError);
    expect(() => collectorClient(opts({ caFile: join(dir.path, 'missing.pem') }))).toThrow(/--transport-ca-file: cannot read/);
  });
});

// Logs and metrics share the client (issue 12, item 11): metrics once had their own request code
// with a fixed 30 s timeout and their own reading of errors (a 403 dropped the samples for good).
describe('one collector client for logs and metrics', () => {
  let status = 503;
  let hang = false;
  let plain: HttpServer;
  let plainUrl = '';
  const quiet = createLogger({ write: () => true } as unknown as NodeJS.WritableStream, 'error');
  const stateDir = tempDir('ringtail-client-');

  beforeAll(async () => {
    plain = createHttpServer((req, res) => {
      req.resume();
      if (hang) return; // never answers
      req.on('end', () => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"RINGTAIL_ERR_TEST","message":"refused"}}');
      });
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const addr = plain.address();
    plainUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    const closed = new Promise((r) => plain?.close(r));
    plain?.closeAllConnections();
    await closed;
    stateDir.cleanup();
  });

  const config = (transport: Record<string, number> = {}) =>
    Value.Default(AgentConfig, {
      collector: plainUrl,
      token: 'rt_agent_secret_token',
      state: join(stateDir.path, 'state'),
      metrics: { families: [] },
      transport,
    }) as AgentConfig;

  it('metrics give up on a silent collector after transport.timeout_ms, not 30 s', async () => {
    hang = true;
    try {
      const runner = createMetricsRunner(config({ timeout_ms: 1000 }), { log: quiet, agentId: 'agt_t' })!;
      await runner.tick();
      const t0 = performance.now();
      expect(await runner.flush()).toBe(false);
      const took = performance.now() - t0;
      expect(took).toBeGreaterThanOrEqual(990);
      expect(took).toBeLessThan(4000);
      expect(runner.queued).toBeGreaterThan(0);
      await runner.stop();
    } finally {
      hang = false;
    }
  });

  it.each([400, 401, 403, 404, 408, 413, 422, 429, 500, 503])('a %i is read the same way by logs and metrics', async (s) => {
    status = s;
    const c = collectorClient(clientOptions(config()));
    const err = await httpTransport(c).send(Buffer.from('{}'), 'identity').catch((e: unknown) => e);
    c.close();
    expect(err).toBeInstanceOf(ShipError);
    const logsDrop = (err as ShipError).permanent;

    const runner = createMetricsRunner(config(), { log: quiet, agentId: 'agt_t' })!;
    await runner.tick();
    const delivered = await runner.flush();
    const metricsDrop = runner.events.count('metrics.rejected') === 1;
    expect(delivered).toBe(metricsDrop); // a dropped batch counts as done, a kept one as not yet
    expect(metricsDrop, `logs ${logsDrop ? 'drop' : 'keep'} a batch answered ${s}`).toBe(logsDrop);
    expect(logsDrop).toBe([400, 404, 413, 422].includes(s));
    await runner.stop();
  });
});
