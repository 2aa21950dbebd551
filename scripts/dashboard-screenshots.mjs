#!/usr/bin/env node
// `node scripts/dashboard-screenshots.mjs [outdir]` (after `npm run build`): starts a collector
// on loopback with sample logs, metrics and alerts, and writes PNGs of the main pages in the
// dark and light themes (and the logs page at phone width) to docs/ for the README.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = process.argv[2] ?? join(root, 'docs');
const ADMIN = 'rt_admin_screenshots_0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'ringtail-shots-'));
mkdirSync(out, { recursive: true });

const child = spawn(process.execPath, [join(root, 'bin/ringtail'), 'collector', '--data', join(dir, 'data'), '--listen', '127.0.0.1:0', '--admin-token', ADMIN, '--log-level', 'warn', '--alerts-evaluation-interval-ms', '500'], { stdio: ['ignore', 'pipe', 'inherit'] });
let text = '';
child.stdout.on('data', (d) => (text += d));
const url = await new Promise((resolve, reject) => {
  const t = setInterval(() => {
    const m = /listening on (http:\/\/\S+)/.exec(text);
    if (m) (clearInterval(t), resolve(m[1]));
  }, 50);
  setTimeout(() => reject(new Error('collector did not start')), 30_000);
});
const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
const post = (path, body, method = 'POST') => fetch(url + path, { method, headers, body: JSON.stringify(body) });

try {
  const now = Date.now();
  const hosts = ['api-1', 'api-2', 'db-1', 'web-1', 'web-2', 'worker-7'];
  const programs = ['nginx', 'app', 'postgres', 'sshd', 'kernel', 'cron'];
  const messages = [
    [6, 'GET /api/v1/orders 200 12ms'],
    [6, 'accepted publickey for deploy from 10.0.4.17 port 52144'],
    [4, 'slow query: SELECT * FROM orders WHERE customer_id = $1 took 1840 ms'],
    [3, 'upstream timed out (110: Connection timed out) while reading response header'],
    [7, 'cache hit ratio 0.97 over the last 60 s'],
    [2, 'Out of memory: Killed process 4211 (java) total-vm:8123456kB'],
    [6, 'payment webhook delivered in 85 ms'],
    [5, 'configuration reloaded'],
    [6, '<script>alert("log text is data")</script> rendered as text'],
  ];
  for (const [hi, host] of hosts.entries()) {
    const lines = [];
    let offset = 0;
    for (let i = 0; i < 120; i++) {
      const [sev, msg] = messages[(i * 7 + hi) % messages.length];
      lines.push({ offset, ts: now - (120 - i) * 29_000 - hi * 1000, severity: sev, program: programs[(i + hi) % programs.length], message: msg });
      offset += msg.length + 1;
    }
    await post('/api/v1/ingest', { version: 1, agent_id: 'agt_' + host, host, segments: [{ stream: 's', source: `/var/log/${host}.log`, start: 0, end: offset, lines }] });
    const samples = [];
    for (let t = now - 8 * 86_400_000; t < now; t += t < now - 3_600_000 ? 3_600_000 : 300_000) {
      const h = t / 3_600_000;
      samples.push({ name: 'cpu.user', type: 'GAUGE', ts: t, value: Math.max(0, Math.min(100, 35 + 25 * Math.sin(h / 4 + hi) + (hi === 3 ? 30 : 0) + ((h * 13) % 9))) });
      samples.push({ name: 'cpu.system', type: 'GAUGE', ts: t, value: 8 + 4 * Math.cos(h / 3 + hi) });
      samples.push({ name: 'memory.used', type: 'GAUGE', ts: t, value: 2.1e9 + 6e8 * Math.sin(h / 9 + hi) });
      samples.push({ name: 'df.used_pct', type: 'GAUGE', ts: t, value: 40 + hi * 7 + h / 500000, labels: { mount: '/' } });
    }
    await post('/api/v1/metrics/ingest', { version: 1, agent_id: 'agt_' + host, host, interval_ms: 3_600_000, samples });
  }
  await post('/api/v1/alerts/rules/cpu-high', { kind: 'metric', name: 'cpu-high', metric: 'cpu.user', op: 'above', warning: 80, critical: 95, window: '10m', annotations: { summary: 'CPU at {{ $value }}% on {{ $labels.host }}' } }, 'PUT');
  await post('/api/v1/alerts/rules/oom', { kind: 'log', name: 'oom', query: '"Out of memory"', min_count: 1, window: '1h', annotations: { summary: 'OOM killer on {{ $labels.host }}' } }, 'PUT');
  await post('/api/v1/alerts/rules/instance-silent', { kind: 'absence', name: 'instance-silent', seconds: 300 }, 'PUT');
  await post('/api/v1/alerts/silences', { matchers: [{ name: 'host', value: 'worker-7' }], ends_at: now + 2 * 3_600_000, comment: 'planned maintenance' });
  await new Promise((r) => setTimeout(r, 2500)); // a few evaluation cycles for the alerts to fire

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run', '--disable-component-update', '--disable-sync'] });
  const shots = [
    ['hosts', '/#/hosts', '#hosts[data-ready]'],
    ['host', '/#/host/web-1?range=1w', '#charts[data-ready]'],
    ['logs', '/#/logs?q=timed%20OR%20memory%20OR%20script', '#log-list[data-ready]'],
    ['alerts', '/#/alerts', '#alerts-active[data-ready]'],
  ];
  for (const theme of ['dark', 'light']) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: theme });
    await context.addInitScript((t) => localStorage.setItem('ringtail.theme', t), theme);
    const page = await context.newPage();
    await page.goto(url + '/');
    await page.waitForSelector('#login-form');
    await page.screenshot({ path: join(out, `dashboard-login-${theme}.png`) });
    await page.fill('#token', ADMIN);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#nav:not([hidden])');
    for (const [name, hash, ready] of shots) {
      await page.goto(url + hash);
      await page.waitForSelector(ready);
      await page.waitForTimeout(700); // sparklines, histogram and the band arrive after the list
      await page.mouse.move(0, 0);
      await page.screenshot({ path: join(out, `dashboard-${name}-${theme}.png`) });
      process.stdout.write(`${out}/dashboard-${name}-${theme}.png\n`);
    }
    if (theme === 'dark') {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(url + '/#/logs?host=web-1');
      await page.waitForSelector('#log-list[data-ready]');
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(out, 'dashboard-logs-phone-dark.png') });
    }
    await context.close();
  }
  await browser.close();
} finally {
  child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
}
