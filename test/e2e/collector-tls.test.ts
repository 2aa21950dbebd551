// The collector's own TLS with real processes (issue 15, item 1): `ringtail collector --tls-cert
// --tls-key` refuses bad files with exit 2 naming the key; an agent reaches it over https with no
// proxy in between. The collector starts with an expired certificate: the agent's requests fail
// with a clear logged error while it keeps spooling, then a SIGHUP after the files are replaced
// brings the new certificate in without a restart, and every line and the metrics arrive. Under
// mutual TLS an agent with a client certificate from the CA ships as before.
import { appendFileSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createToken, ringtail, runRingtail, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';
import { makeCa, tlsRequest, type Issued, type PrivateCa } from '../helpers/tls-ca.js';
import { hasTool } from '../helpers/tools.js';

const ADMIN = 'rt_admin_e2e_native_tls_0123456789';
const dir = tempDir('ringtail-e2e-native-tls-');
const procs: Proc[] = [];

afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  dir.cleanup();
});

async function agentToken(data: string): Promise<string> {
  return createToken(['--data', data]);
}

function startAgent(name: string, url: string, ca: string, token: string, host: string, client?: Issued): { proc: Proc; file: string } {
  const logs = join(dir.path, `logs-${name}`);
  mkdirSync(logs, { recursive: true });
  const file = join(logs, 'app.log');
  writeFileSync(file, '');
  const config = join(dir.path, `agent-${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      collector: url,
      transport: { ca_file: ca, timeout_ms: 5000, backoff_max_ms: 1000, ...(client ? { cert_file: client.cert, key_file: client.key } : {}) },
      watch: [join(logs, '*.log')],
      state: join(dir.path, `state-${name}`),
      host,
      batch: { linger_ms: 100 },
      scan_interval_ms: 250,
      metrics: { interval_ms: 1000, families: ['cpu', 'memory', 'self'] },
    }),
  );
  const proc = ringtail(['agent', '--config', config], { RINGTAIL_TOKEN: token });
  procs.push(proc);
  return { proc, file };
}

async function stored(url: string, ca: string, host: string): Promise<string[]> {
  const res = await tlsRequest(url, `/api/v1/logs?limit=1000&host=${host}`, { ca, token: ADMIN });
  if (res.status !== 200) throw new Error(`${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { items: Array<{ message: string }> }).items.map((i) => i.message);
}

async function metrics(url: string, ca: string, host: string): Promise<string[]> {
  const res = await tlsRequest(url, `/api/v1/metrics?host=${host}`, { ca, token: ADMIN });
  if (res.status !== 200) throw new Error(`${res.status} ${res.body}`);
  return (JSON.parse(res.body) as { items: Array<{ metric: string }> }).items.map((i) => i.metric);
}

describe.skipIf(!hasTool('openssl'))('collector TLS, real processes', () => {
  let ca: PrivateCa;

  it('exits 2 naming the key when a certificate or key file is bad', async () => {
    ca = makeCa(dir.path, 'e2e');
    const good = ca.server('cli-good');
    const missing = await runRingtail(['collector', '--data', join(dir.path, 'cli-data'), '--listen', '127.0.0.1:0', '--tls-cert', join(dir.path, 'nope.pem'), '--tls-key', good.key]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/RINGTAIL_ERR_CONFIG --tls-cert: cannot read .*nope\.pem.*ENOENT/);
    const mismatch = await runRingtail(['collector', '--data', join(dir.path, 'cli-data'), '--listen', '127.0.0.1:0', '--tls-cert', good.cert, '--tls-key', ca.server('cli-other').key]);
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toMatch(/RINGTAIL_ERR_CONFIG --tls-key: .* does not belong to the certificate/);
  });

  it('an expired certificate fails the agent clearly while it spools; after SIGHUP with a new one, logs and metrics arrive', async () => {
    ca ??= makeCa(dir.path, 'e2e');
    const expired = ca.server('expired', -1);
    const fresh = ca.server('fresh');
    const cert = join(dir.path, 'collector.pem');
    const key = join(dir.path, 'collector.key');
    copyFileSync(expired.cert, cert);
    copyFileSync(expired.key, key);
    const data = join(dir.path, 'data');
    const token = await agentToken(data);
    const collector = await startCollectorProc(data, ADMIN, ['--no-syslog-enabled', '--log-level', 'info', '--tls-cert', cert, '--tls-key', key]);
    procs.push(collector.proc);
    expect(collector.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(collector.proc.stdout()).toMatch(/"event":"tls.cert_expired".*"code":"RINGTAIL_ERR_TLS"/);

    const host = 'e2e-native-tls';
    const agent = startAgent('native', collector.url, ca.ca, token, host);
    const written = Array.from({ length: 40 }, (_, i) => `native tls line ${i}`);
    appendFileSync(agent.file, written.slice(0, 20).join('\n') + '\n');
    // the agent says why, and so does the collector
    await waitFor('the agent to log the expired certificate', () => /"ship\.failed".*CERT_HAS_EXPIRED/.test(agent.proc.stderr()), 20_000, 100);
    // (Node's client drops the connection without an alert, so the collector sees a reset)
    await waitFor('the collector to log the refused handshake', () => /"tls\.handshake_refused"/.test(collector.proc.stdout()), 10_000, 100);
    appendFileSync(agent.file, written.slice(20).join('\n') + '\n');

    copyFileSync(fresh.cert, cert);
    copyFileSync(fresh.key, key);
    collector.proc.child.kill('SIGHUP');
    await waitFor('the reload logged', () => collector.proc.stdout().includes('"tls.reloaded"'), 10_000, 50);
    expect(collector.proc.child.exitCode).toBeNull();

    const got = await waitFor('every line stored', async () => {
      const s = await stored(collector.url, ca.ca, host);
      return written.every((l) => s.includes(l)) && s;
    }, 30_000, 250);
    expect([...got].sort()).toEqual([...written].sort()); // nothing lost, nothing twice
    const series = await waitFor('the agent\'s metrics', async () => {
      const m = await metrics(collector.url, ca.ca, host);
      return ['cpu.user', 'memory.used', 'agent.lines_shipped'].every((x) => m.includes(x)) && m;
    }, 30_000, 250);
    expect(series).toContain('agent.rss_bytes');
    await agent.proc.kill('SIGTERM');
  });

  it('under mutual TLS an agent with a client certificate from the CA ships logs and metrics', async () => {
    ca ??= makeCa(dir.path, 'e2e');
    const host = 'e2e-mtls-agent';
    const srv = ca.server('mtls-srv');
    const data = join(dir.path, 'data-mtls');
    const token = await agentToken(data);
    const collector = await startCollectorProc(data, ADMIN, ['--no-syslog-enabled', '--tls-cert', srv.cert, '--tls-key', srv.key, '--tls-client-ca', ca.ca]);
    procs.push(collector.proc);
    const client = ca.client('mtls-agent', host);
    const agent = startAgent('mtls', collector.url, ca.ca, token, host, client);
    const written = Array.from({ length: 10 }, (_, i) => `mtls line ${i}`);
    appendFileSync(agent.file, written.join('\n') + '\n');
    // the admin reads with its token, and must bring a certificate too under mutual TLS
    const admin = ca.client('mtls-admin', 'admin-console');
    const read = async (path: string) => {
      const res = await tlsRequest(collector.url, path, { ca: ca.ca, client: admin, token: ADMIN });
      if (res.status !== 200) throw new Error(`${res.status} ${res.body}`);
      return res.body;
    };
    await waitFor('every line stored', async () => {
      const items = (JSON.parse(await read(`/api/v1/logs?host=${host}`)) as { items: Array<{ message: string }> }).items.map((i) => i.message);
      return written.every((l) => items.includes(l));
    }, 30_000, 250);
    await waitFor('metrics stored', async () => (JSON.parse(await read(`/api/v1/metrics?host=${host}`)) as { items: unknown[] }).items.length > 0, 30_000, 250);
    expect(agent.proc.stderr()).not.toMatch(/ship\.failed/);
    await agent.proc.kill('SIGTERM');
  });
});
