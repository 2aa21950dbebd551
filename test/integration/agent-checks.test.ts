// Checks against real things: child processes started and killed, an HTTP server answering
// right, wrong and never, a TCP listener whose backlog is full.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChecks } from '../../agent/checks/index.js';
import { httpCheck } from '../../agent/checks/http.js';
import { processCheck } from '../../agent/checks/process.js';
import { tcpCheck } from '../../agent/checks/tcp.js';
import type { MetricSource, Sample } from '../../agent/metrics/types.js';
import { ConfigError } from '../../shared/errors.js';
import { tempDir, waitFor } from '../helpers/proc.js';
import { hasTool } from '../helpers/tools.js';

async function figures(src: MetricSource): Promise<Record<string, number>> {
  const out = (await src.collect(Date.now())) as Sample[];
  return Object.fromEntries(out.map((s) => [s.name.split('.').pop()!, s.value]));
}

function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
}
function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('process checks', () => {
  const dir = tempDir('ringtail-pcheck-');
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) await killed(c);
    dir.cleanup();
  });

  it('by name: count 1 with the RSS ps reports, then 0 as soon as it is killed', async () => {
    // A private copy of sleep with a unique name, so other sleeps on the machine do not count.
    const name = 'rts' + randomBytes(4).toString('hex');
    const bin = join(dir.path, name);
    copyFileSync('/bin/sleep', bin);
    execFileSync('chmod', ['+x', bin]);
    const check = processCheck({ name: 'app', process: name });
    expect((await figures(check)).count).toBe(0);
    const child = spawn(bin, ['1000'], { stdio: 'ignore' });
    children.push(child);
    await started(child);
    await waitFor('the child to exec', async () => (await figures(check)).count === 1);
    const f = await figures(check);
    if (hasTool('ps', 'procps')) {
      const psRss = Number(execFileSync('ps', ['-o', 'rss=', '-p', String(child.pid)], { encoding: 'utf8' }).trim()) * 1024;
      // sleep's RSS does not move; one page of slack for the moment between the two reads.
      expect(Math.abs(f.rss_bytes! - psRss)).toBeLessThanOrEqual(4096);
    }
    expect(f.rss_bytes).toBeGreaterThan(0);
    expect(f.cpu_pct).toBeLessThan(5);
    await killed(child);
    const gone = await figures(check);
    expect(gone).toEqual({ count: 0, cpu_pct: 0, rss_bytes: 0 });
  });

  it('by a name longer than the kernel keeps (15 characters): argv[0] decides', async () => {
    const name = 'rt-long-name-' + randomBytes(4).toString('hex'); // 21 characters
    const bin = join(dir.path, name);
    copyFileSync('/bin/sleep', bin);
    execFileSync('chmod', ['+x', bin]);
    const child = spawn(bin, ['1000'], { stdio: 'ignore' });
    children.push(child);
    await started(child);
    const check = processCheck({ name: 'long', process: name });
    await waitFor('the long-named child', async () => (await figures(check)).count === 1);
    // the 15-character prefix alone is another program
    expect((await figures(processCheck({ name: 'prefix', process: name.slice(0, 17) }))).count).toBe(0);
    await killed(child);
    expect((await figures(check)).count).toBe(0);
  });

  it('by command-line regex: several matching processes summed, their CPU counted', async () => {
    const token = 'ringtail-busy-' + randomBytes(4).toString('hex');
    const busy = spawn(process.execPath, ['-e', 'for(;;){}', token], { stdio: 'ignore' });
    const idle = spawn(process.execPath, ['-e', 'setInterval(()=>{},1e6)', token], { stdio: 'ignore' });
    children.push(busy, idle);
    await Promise.all([started(busy), started(idle)]);
    const check = processCheck({ name: 'busy', cmdline: `${token}$` });
    await waitFor('both children', async () => (await figures(check)).count === 2);
    // Over an interval of at least 500 ms the busy loop uses a good share of a core.
    const t0 = Date.now();
    await figures(check);
    await waitFor('500 ms to pass', () => Date.now() - t0 >= 500);
    const f = await figures(check);
    expect(f.count).toBe(2);
    expect(f.cpu_pct).toBeGreaterThan(10);
    expect(f.cpu_pct).toBeLessThan(210);
    await killed(busy);
    expect((await figures(check)).count).toBe(1);
    await killed(idle);
    expect((await figures(check)).count).toBe(0);
  });

  it('by pidfile: the process named there, 0 when the file is stale or missing', async () => {
    const pidfile = join(dir.path, 'app.pid');
    const check = processCheck({ name: 'pid', pidfile });
    expect((await figures(check)).count).toBe(0);
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    children.push(child);
    await started(child);
    writeFileSync(pidfile, `${child.pid}\n`);
    expect((await figures(check)).count).toBe(1);
    // confirmed by name: a pid reused by another program does not count
    expect((await figures(processCheck({ name: 'pid2', pidfile, process: 'nginx' }))).count).toBe(0);
    await killed(child);
    expect((await figures(check)).count).toBe(0);
  });

  it('never counts the agent itself', async () => {
    expect((await figures(processCheck({ name: 'self', cmdline: '.' }))).count).toBeGreaterThan(0);
    expect((await figures(processCheck({ name: 'self', pidfile: '/proc/self/stat' }))).count).toBe(0);
  });

  it.each([
    [{ processes: [{ name: 'x' }] }, /checks\.processes\[0\].*needs at least one of process, cmdline, pidfile/],
    [{ processes: [{ name: 'x', cmdline: '(' }] }, /checks\.processes\[0\]\.cmdline.*regular expression/],
    [{ http: [{ name: 'x', url: 'ftp://h/' }] }, /checks\.http\[0\]\.url.*http:\/\//],
    [{ tcp: [{ name: 'x', address: 'nohost' }] }, /checks\.tcp\[0\]\.address.*HOST:PORT/],
    [{ tcp: [{ name: 'x', address: 'h:1' }, { name: 'x', address: 'h:2' }] }, /checks\.tcp\[1\]\.name.*duplicate/],
  ])('bad configuration %j is a ConfigError naming the entry', (cfg, re) => {
    let err: unknown;
    try {
      createChecks(cfg);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(re);
  });
});

describe('HTTP checks', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') return res.end('fine');
      if (req.url === '/teapot') return res.writeHead(418).end('short and stout');
      if (req.url === '/slow') return; // never answers
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('up with a latency when the expected status comes back', async () => {
    const f = await figures(httpCheck({ name: 'ok', url: `${base}/ok` }));
    expect(f.up).toBe(1);
    expect(f.status).toBe(200);
    expect(f.latency_ms).toBeGreaterThan(0);
    expect(f.latency_ms).toBeLessThan(5000);
  });

  it('down on a wrong status, still with its latency; up when that status is the expected one', async () => {
    const wrong = await figures(httpCheck({ name: 'tea', url: `${base}/teapot` }));
    expect(wrong).toMatchObject({ up: 0, status: 418 });
    expect(wrong.latency_ms).toBeGreaterThan(0);
    expect((await figures(httpCheck({ name: 'tea', url: `${base}/teapot`, expect_status: [418] }))).up).toBe(1);
  });

  it('down, without latency, at the timeout when no answer comes', async () => {
    const t0 = performance.now();
    const f = await figures(httpCheck({ name: 'slow', url: `${base}/slow`, timeout_ms: 300 }));
    const took = performance.now() - t0;
    expect(f).toEqual({ up: 0 });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(3000);
  });

  it('down when nothing listens', async () => {
    const probe = createTcpServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    expect(await figures(httpCheck({ name: 'gone', url: `http://127.0.0.1:${port}/` }))).toEqual({ up: 0 });
  });

  it('reports transitions as events, not every round', async () => {
    const { createEvents } = await import('../../shared/events.js');
    const events = createEvents();
    const check = httpCheck({ name: 'flip', url: `${base}/teapot` }, events);
    await check.collect(0);
    await check.collect(0);
    expect(events.count('check.down')).toBe(1);
  });
});

describe('TCP checks', () => {
  it('up with the connect latency while listening, down once closed', async () => {
    const server = createTcpServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const check = tcpCheck({ name: 'db', address });
    const up = await figures(check);
    expect(up.up).toBe(1);
    expect(up.latency_ms).toBeGreaterThan(0);
    await new Promise((r) => server.close(r));
    expect(await figures(check)).toEqual({ up: 0 });
  });

  it.skipIf(!hasTool('python3', 'python3'))('down at the timeout when the handshake never completes (backlog full)', async () => {
    // A listener that never accepts, with a backlog of 0: once it is full, SYNs are dropped.
    const py = spawn('python3', ['-c', 'import socket,sys,time\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0);print(s.getsockname()[1],flush=True);time.sleep(120)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      py.stdout!.on('data', (d) => (out += d));
      const port = await waitFor('python listener', () => (/^\d+\n/.test(out) ? Number(out.trim()) : undefined));
      const fillers = [];
      for (let i = 0; i < 3; i++) fillers.push((await import('node:net')).connect(port, '127.0.0.1').on('error', () => {}));
      const t0 = performance.now();
      const f = await figures(tcpCheck({ name: 'full', address: `127.0.0.1:${port}`, timeout_ms: 400 }));
      const took = performance.now() - t0;
      for (const s of fillers) s.destroy();
      expect(f).toEqual({ up: 0 });
      expect(took).toBeGreaterThanOrEqual(390);
    } finally {
      py.kill('SIGKILL');
    }
  });
});
