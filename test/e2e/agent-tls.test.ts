// Logs and metrics over TLS with a private CA, real processes (issue 12, item 11): the README's
// own setup, `https://` + `transport.ca_file`, delivered log lines while every metrics request
// failed with UNABLE_TO_VERIFY_LEAF_SIGNATURE, because metrics had their own request code that
// ignored the CA file. The collector has no TLS itself, so a TLS-terminating proxy made here
// (node:https, a certificate signed by a CA made with openssl at test time) forwards to its
// plain port; the agent trusts the CA only through its config file.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { INGEST_PATH, METRICS_INGEST_PATH } from '../../shared/wire.js';
import { allLogs, api, createToken, ringtail, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';
import { hasTool } from '../helpers/tools.js';

const ADMIN = 'rt_admin_e2e_tls_0123456789abcdef';
const HOST = 'e2e-tls';
const dir = tempDir('ringtail-e2e-tls-');
const procs: Proc[] = [];
let proxy: Server | null = null;

afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  if (proxy) {
    const closed = new Promise((r) => proxy!.close(r));
    proxy.closeAllConnections();
    await closed;
  }
  dir.cleanup();
});

/** A CA and a certificate for 127.0.0.1 signed by it, as the README tells an operator to make them. */
function privateCa(): { ca: string; key: Buffer; cert: Buffer } {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir.path, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=ringtail e2e CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir.path, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'san.ext');
  return { ca: join(dir.path, 'ca.pem'), key: readFileSync(join(dir.path, 'srv.key')), cert: readFileSync(join(dir.path, 'srv.pem')) };
}

/** TLS in front of the collector's plain port; counts the requests it forwards and their answers, per path. */
async function tlsProxy(target: string, key: Buffer, cert: Buffer): Promise<{ url: string; seen: Map<string, number[]> }> {
  const seen = new Map<string, number[]>();
  const upstream = new URL(target);
  proxy = createServer({ key, cert }, (req, res) => {
    const fwd = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        const path = (req.url ?? '').split('?')[0]!;
        seen.set(path, [...(seen.get(path) ?? []), up.statusCode ?? 0]);
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  });
  await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
  const addr = proxy.address();
  return { url: `https://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, seen };
}

describe.skipIf(!hasTool('openssl'))('agent → TLS (private CA) → collector, real processes', () => {
  it('logs and metrics both arrive through one client trusting the CA file', async () => {
    const { ca, key, cert } = privateCa();
    const data = join(dir.path, 'data');
    const agentToken = await createToken(['--data', data]);
        const collector = await startCollectorProc(data, ADMIN, ['--no-syslog-enabled']);
    procs.push(collector.proc);
    const front = await tlsProxy(collector.url, key, cert);

    const logs = join(dir.path, 'logs');
    mkdirSync(logs, { recursive: true });
    const file = join(logs, 'app.log');
    const written = Array.from({ length: 50 }, (_, i) => `tls line ${i}`);
    writeFileSync(file, written.slice(0, 25).join('\n') + '\n');
    const config = join(dir.path, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify({
        collector: front.url,
        transport: { ca_file: ca, timeout_ms: 5000, backoff_max_ms: 1000 },
        watch: [join(logs, '*.log')],
        state: join(dir.path, 'state'),
        host: HOST,
        batch: { linger_ms: 100 },
        scan_interval_ms: 250,
        metrics: { interval_ms: 1000, families: ['cpu', 'memory', 'self'] },
      }),
    );
    const agent = ringtail(['agent', '--config', config], { RINGTAIL_TOKEN: agentToken });
    procs.push(agent);
    await waitFor('agent to start', () => {
      if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.stderr()}`);
      return agent.stderr().includes('"agent started"');
    }, 15_000);
    appendFileSync(file, written.slice(25).join('\n') + '\n');

    const stored = await waitFor(
      'every log line stored',
      async () => {
        const got = (await allLogs(collector.url, ADMIN, `&host=${HOST}`)).map((l) => l.message);
        return written.every((l) => got.includes(l)) && got;
      },
      30_000,
      250,
    );
    expect(stored.sort()).toEqual([...written].sort());
    const series = await waitFor(
      'the agent\'s metric series',
      async () => {
        const items = (await api<{ items: Array<{ metric: string }> }>(collector.url, ADMIN, `/api/v1/metrics?host=${HOST}`)).items.map((i) => i.metric);
        return ['cpu.user', 'memory.used', 'agent.lines_shipped'].every((m) => items.includes(m)) && items;
      },
      30_000,
      250,
    );
    expect(series).toContain('agent.rss_bytes');

    // Both went through the TLS front and were accepted there, none refused or failed on the way.
    expect(front.seen.get(INGEST_PATH)?.length).toBeGreaterThan(0);
    expect(front.seen.get(METRICS_INGEST_PATH)?.length).toBeGreaterThan(0);
    expect([...front.seen.values()].flat().every((s) => s === 200)).toBe(true);
    expect(agent.stderr()).not.toMatch(/metrics\.ship_failed|ship\.failed|UNABLE_TO_VERIFY/);
  });
});
