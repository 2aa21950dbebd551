// The relaunch receiver: an HTTP server that accepts signed Alertmanager-format webhooks,
// verifies them (signature, timestamp within tolerance), drops redeliveries by webhook-id, and
// runs the matching actions. Every bad request gets a 4xx with a reason; nothing crashes it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdirSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { Logger } from '../../shared/logger.js';
import { SignatureError, verify } from '../../shared/webhook-signature.js';
import { compileAction, plan, runCommand, type CompiledAction, type RunResult, type WebhookAlert } from './actions.js';
import { checkActions, parseListen, type RelaunchConfig } from './config.js';
import { loadState, pruneHandled, saveState, type ReceiverState } from './state.js';

const StringMap = Type.Record(Type.String(), Type.String());
const Body = Type.Object({
  version: Type.Literal('4'),
  status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
  alerts: Type.Array(
    Type.Object({
      status: Type.Union([Type.Literal('firing'), Type.Literal('resolved')]),
      labels: StringMap,
      annotations: StringMap,
      startsAt: Type.String(),
      endsAt: Type.String(),
      fingerprint: Type.String(),
    }),
    { maxItems: 10_000 },
  ),
});
const checkBody = TypeCompiler.Compile(Body);

export interface Receiver {
  server: Server;
  url: string;
  /** resolves when every command started so far has exited */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface ReceiverOptions {
  config: RelaunchConfig;
  log: Logger;
  clock?: () => number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Drain a moderately oversized body so the client reads our 413; cut off a flood.
      if (size > limit * 8) req.destroy();
      else if (size <= limit) chunks.push(c);
    });
    req.on('end', () => (size > limit ? reject(new HttpError(413, `body larger than ${limit} bytes`)) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: object): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startReceiver(opts: ReceiverOptions): Promise<Receiver> {
  const { config, log } = opts;
  const clock = opts.clock ?? Date.now;
  checkActions(config.actions);
  mkdirSync(config.state, { recursive: true });
  const state: ReceiverState = loadState(config.state);
  if (config.resume) {
    for (const [name, a] of state.actions) {
      if (a.suspended_at !== null) log.info({ event: 'relaunch.action.resumed', action: name }, `action '${name}' resumed`);
      a.suspended_at = null;
      a.runs = [];
    }
    saveState(config.state, state);
  }
  const actions: CompiledAction[] = config.actions.map(compileAction);
  const recent: RunResult[] = [];
  const inflight = new Set<Promise<void>>();
  const secrets = [config.secret];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') return send(res, 200, { ok: true });
    if (req.method === 'GET' && path === '/status') {
      const now = clock();
      return send(res, 200, {
        actions: config.actions.map((a) => {
          const st = state.actions.get(a.name);
          const runs = (st?.runs ?? []).filter((t) => t > now - (a.within_s ?? 300) * 1000);
          return { name: a.name, runs_in_window: runs.length, max_runs: a.max_runs ?? 3, within_s: a.within_s ?? 300, suspended_at: st?.suspended_at ?? null };
        }),
        // unauthenticated: no command output here (it is in the log), only outcomes
        recent: recent.slice(-20).map(({ output: _output, ...r }) => r),
        handled_ids: state.handled.size,
      });
    }
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} not allowed; POST a webhook`);
    const body = await readBody(req, config.body_limit);
    const now = clock();
    const { id } = verify(secrets, req.headers, body, now, config.tolerance_s);
    if (state.handled.has(id)) {
      log.info({ event: 'relaunch.duplicate', webhook_id: id }, 'webhook already handled; ignored');
      return send(res, 200, { status: 'duplicate', id });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new HttpError(400, `body is not JSON: ${(err as Error).message}`);
    }
    if (!checkBody.Check(parsed)) {
      const first = checkBody.Errors(parsed).First()!;
      throw new HttpError(400, `body${first.path || '/'}: ${first.message} (expected an Alertmanager webhook, version 4)`);
    }
    const alerts = (parsed as { alerts: WebhookAlert[] }).alerts;
    const decided = plan(actions, alerts, state, now, log);
    state.handled.set(id, now);
    pruneHandled(state, now, 2 * config.tolerance_s * 1000 + 60_000);
    // Persist before acting: a crash after this point may miss a run, but a redelivery never doubles one.
    saveState(config.state, state);
    send(res, 202, { status: 'accepted', id, runs: decided.runs.map((r) => ({ action: r.action.spec.name, fingerprint: r.alert.fingerprint })), suspended: decided.suspended });
    for (const run of decided.runs) {
      log.info({ event: 'relaunch.run', action: run.action.spec.name, webhook_id: id, fingerprint: run.alert.fingerprint, status: run.alert.status }, 'running action');
      const p = runCommand(run, id, clock).then((r) => {
        recent.push(r);
        if (recent.length > 100) recent.shift();
        const ok = r.exit_code === 0;
        log[ok ? 'info' : 'warn']({ event: ok ? 'relaunch.run.ok' : 'relaunch.run.failed', ...r }, ok ? 'action succeeded' : 'action failed');
      });
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof SignatureError || err instanceof HttpError) {
        log.warn({ event: 'relaunch.rejected', status: err.status, reason: err.message }, 'webhook rejected');
        return send(res, err.status, { error: err instanceof SignatureError ? 'RINGTAIL_ERR_AUTH' : 'RINGTAIL_ERR_BAD_REQUEST', message: err.message });
      }
      log.error({ event: 'relaunch.error', error: String(err) }, 'internal error');
      send(res, 500, { error: 'RINGTAIL_ERR_INTERNAL', message: 'internal error' });
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const { host, port } = parseListen(config.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    async idle() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    },
  };
}

