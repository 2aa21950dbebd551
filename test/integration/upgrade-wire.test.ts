// An agent and a collector one version apart interoperate (issue 15, item 6; docs/upgrades.md).
// test/fixtures/wire/previous/ holds the previous version's shared/wire.ts, verbatim, and the
// requests its real agent sent to its real collector with the acks it got
// (scripts/compat/make-fixtures.mjs):
// - today's collector takes the previous agent's requests and answers them as the previous
//   collector did, with acks the previous schemas accept (the old agent reads them);
// - today's agent, run for real against today's collector through a recording proxy, sends only
//   bodies the previous schemas accept (an older collector takes them): logs, a structured line,
//   metrics, check results in their rounds and a check's change sent at once.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { spawn } from 'node:child_process';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../collector/app.js';
import * as previous from '../fixtures/wire/previous/wire.js';
import { ringtail, tempDir, waitFor, type Proc } from '../helpers/proc.js';

interface Recorded {
  path: string;
  content_type: string;
  after: string | null;
  bodies: unknown[];
  status: number;
  answer: unknown;
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/wire/previous/bodies.json', import.meta.url), 'utf8')) as { commit: string; recorded_at: number; requests: Recorded[] };

const prevBody: Record<string, TSchema> = { [previous.INGEST_PATH]: previous.IngestBatch, [previous.METRICS_INGEST_PATH]: previous.MetricBatch };
const prevAck: Record<string, TSchema> = { [previous.INGEST_PATH]: previous.IngestAck, [previous.METRICS_INGEST_PATH]: previous.MetricAck };
const compiled = new Map<TSchema, ReturnType<typeof TypeCompiler.Compile>>();
/** the first error of `value` against a previous schema, or null */
function previousError(schema: TSchema, value: unknown): string | null {
  let c = compiled.get(schema);
  if (!c) compiled.set(schema, (c = TypeCompiler.Compile(schema)));
  const e = c.Errors(value).First();
  return e ? `${e.path}: ${e.message}` : null;
}

let app: FastifyInstance | null = null;
let dir: { path: string; cleanup(): void } | null = null;
const procs: Proc[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const p of procs.splice(0)) await p.kill('SIGKILL');
  for (const s of servers.splice(0)) s.close();
  await app?.close();
  app = null;
  dir?.cleanup();
  dir = null;
});

describe('the previous agent → today’s collector', () => {
  it('every recorded request is taken and answered as the previous collector answered it', async () => {
    expect(fixture.requests.map((r) => r.path)).toEqual(expect.arrayContaining([previous.INGEST_PATH, previous.METRICS_INGEST_PATH]));
    dir = tempDir('ringtail-wire-prev-');
    app = await buildApp({ dataDir: dir.path, clock: () => fixture.recorded_at });
    await app.ready();
    const token = (await app.storage.tokens.create('agent', 'previous agent', fixture.recorded_at)).token;
    let checks = 0;
    for (const r of fixture.requests) {
      for (const b of r.bodies) expect(previousError(prevBody[r.path]!, b)).toBeNull();
      checks += r.bodies.flatMap((b) => (b as { samples?: Array<{ name: string }> }).samples ?? []).filter((s) => s.name.startsWith('check.')).length;
      const payload = r.content_type.startsWith(previous.INGEST_MULTI_TYPE) ? r.bodies.map((b) => JSON.stringify(b)).join('\n') + '\n' : JSON.stringify(r.bodies[0]);
      const res = await app.inject({
        method: 'POST',
        url: r.path,
        headers: { authorization: `Bearer ${token}`, 'content-type': r.content_type, ...(r.after ? { [previous.INGEST_AFTER_HEADER]: r.after } : {}) },
        payload,
      });
      expect(res.statusCode, res.body).toBe(r.status);
      const ack = res.json();
      // the previous agent reads today's ack with its own schema
      expect(previousError(prevAck[r.path]!, ack)).toBeNull();
      expect(ack).toEqual(r.answer);
    }
    expect(checks).toBeGreaterThan(0);
    // and the lines are there, searchable
    const viewer = (await app.storage.tokens.create('viewer', 'v', fixture.recorded_at)).token;
    const logs = (await app.inject({ url: '/api/v1/logs?q=payment', headers: { authorization: `Bearer ${viewer}` } })).json() as { items: Array<{ message: string }> };
    expect(logs.items.map((i) => i.message)).toEqual(['{"level":"error","msg":"payment failed","order":1234}']);
  });
});

/** A proxy that keeps every POST body (gunzipped, ndjson split) on its way to `target`. */
async function recordingProxy(target: string): Promise<{ url: string; records: Array<{ path: string; type: string; bodies: unknown[]; status: number; answer: unknown }> }> {
  const records: Array<{ path: string; type: string; bodies: unknown[]; status: number; answer: unknown }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const up = request(target + req.url, { method: req.method, headers: req.headers }, (ures) => {
        const back: Buffer[] = [];
        ures.on('data', (c: Buffer) => back.push(c));
        ures.on('end', () => {
          const answer = Buffer.concat(back).toString('utf8');
          if (req.method === 'POST') {
            const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
            const type = req.headers['content-type'] ?? '';
            const bodies = type.startsWith('application/x-ndjson') ? text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown) : [JSON.parse(text) as unknown];
            records.push({ path: req.url ?? '', type, bodies, status: ures.statusCode ?? 0, answer: answer ? (JSON.parse(answer) as unknown) : null });
          }
          res.writeHead(ures.statusCode ?? 502, ures.headers);
          res.end(answer);
        });
      });
      up.on('error', (e) => res.writeHead(502).end(String(e)));
      up.end(raw);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, records };
}

describe('today’s agent → the previous collector’s schemas', () => {
  it('logs, structured lines, metrics, check rounds and a change sent at once all validate against the previous wire', async () => {
    dir = tempDir('ringtail-wire-now-');
    app = await buildApp({ dataDir: join(dir.path, 'data') });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const token = (await app.storage.tokens.create('agent', 'today agent', Date.now())).token;
    const proxy = await recordingProxy(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);

    const sleeper = spawn('sleep', ['300'], { stdio: 'ignore' });
    procs.push({ child: sleeper, stdout: () => '', stderr: () => '', exited: new Promise((r) => sleeper.on('exit', (code, signal) => r({ code, signal }))), kill: async () => void sleeper.kill('SIGKILL') });
    const pidfile = join(dir.path, 'app.pid');
    writeFileSync(pidfile, `${sleeper.pid}\n`);
    const log = join(dir.path, 'app.log');
    writeFileSync(log, 'plain line one\n{"level":"error","msg":"payment failed","order":1234}\nlevel=warn msg="disk low" mount=/var\n');
    writeFileSync(
      join(dir.path, 'agent.json'),
      JSON.stringify({
        collector: proxy.url,
        watch: [log],
        state: join(dir.path, 'agent-state'),
        host: 'wire-now',
        metrics: { interval_ms: 1000, families: ['load', 'memory', 'self'] },
        checks: { processes: [{ name: 'app', pidfile }], tcp: [{ name: 'closed', address: '127.0.0.1:9', timeout_ms: 500 }] },
      }),
    );
    const agent = ringtail(['agent', '--config', join(dir.path, 'agent.json')], { RINGTAIL_TOKEN: token });
    procs.push(agent);
    const samples = () => proxy.records.filter((r) => r.path === previous.METRICS_INGEST_PATH).flatMap((r) => r.bodies as Array<{ samples: Array<{ name: string; value: number }> }>).flatMap((b) => b.samples);
    await waitFor('lines, metrics and check results through the proxy', () => {
      if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.stderr()}`);
      return proxy.records.some((r) => r.path === previous.INGEST_PATH) && samples().some((s) => s.name === 'check.process.count' && s.value === 1);
    }, 30_000);
    // the process dies: its change goes out of band, at once
    sleeper.kill('SIGKILL');
    await waitFor('the check’s change', () => samples().some((s) => s.name === 'check.process.count' && s.value === 0), 15_000);

    expect(proxy.records.length).toBeGreaterThan(2);
    for (const r of proxy.records) {
      expect(Object.keys(prevBody), `${r.path} is a path the previous collector has`).toContain(r.path);
      expect(r.status, JSON.stringify(r.answer)).toBe(200);
      for (const b of r.bodies) expect(previousError(prevBody[r.path]!, b), `${r.path} ${JSON.stringify(b).slice(0, 300)}`).toBeNull();
    }
    const lines = proxy.records.filter((r) => r.path === previous.INGEST_PATH).flatMap((r) => r.bodies as Array<{ segments: Array<{ lines: Array<{ fields?: unknown }> }> }>).flatMap((b) => b.segments.flatMap((s) => s.lines));
    expect(lines.some((l) => l.fields !== undefined)).toBe(true);
  }, 60_000);
});
