// `ringtail up` is the newcomer's first command: it must serve /healthz, print the URL and a
// working admin token, and show an appended line through the API within 2 s.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { allLogs, ringtail, tempDir, waitFor, type Proc } from '../helpers/proc.js';

const dir = tempDir('ringtail-up-');
let up: Proc | undefined;
afterAll(async () => {
  await up?.kill('SIGTERM');
  dir.cleanup();
});

it('ringtail up serves health, the dashboard, and appended lines within 2 s', async () => {
  const logs = join(dir.path, 'logs');
  mkdirSync(logs);
  const file = join(logs, 'app.log');
  writeFileSync(file, 'already there\n');
  const started = Date.now();
  up = ringtail(['up', '--data', join(dir.path, 'data'), '--listen', '127.0.0.1:0', '--watch', join(logs, '*.log')], {}, dir.path);
  const url = await waitFor('up to print its URL', () => /ringtail is up: (http:\/\/\S+)/.exec(up!.stdout())?.[1], 30_000);
  const admin = /admin token:\s+(rt_admin_\S+)/.exec(up.stdout())?.[1];
  expect(admin).toBeDefined();
  expect(readFileSync(join(dir.path, 'data', 'admin-token'), 'utf8').trim()).toBe(admin);
  const health = await fetch(url + '/healthz');
  expect(health.status).toBe(200);
  expect(Date.now() - started).toBeLessThan(60_000);

  const page = await fetch(url + '/');
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<title>ringtail</title>');
  expect((await fetch(url + '/api/v1/logs')).status).toBe(401);

  await waitFor('the existing line', async () => (await allLogs(url, admin!, `&source=${encodeURIComponent(file)}`)).length === 1, 10_000);
  const marker = `up-probe-${Date.now()}`;
  const t0 = Date.now();
  appendFileSync(file, `${marker}\n`);
  await waitFor('appended line', async () => (await allLogs(url, admin!, `&q=${encodeURIComponent('"' + marker + '"')}`)).length === 1, 2000);
  expect(Date.now() - t0).toBeLessThan(2000);

  // ringtail's own log is followed too.
  await waitFor('ringtail.log lines', async () => (await allLogs(url, admin!, `&source=${encodeURIComponent(join(dir.path, 'data', 'ringtail.log'))}`)).length > 0, 10_000);

  // the agent it starts runs with two malloc arenas, as ringtail-agent.service does (docs/deploy.md)
  const pid = up.child.pid!;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  const envs = children.map((c) => readFileSync(`/proc/${c}/environ`, 'utf8').split('\0'));
  expect(envs.filter((e) => e.some((v) => v.startsWith('RINGTAIL_TOKEN='))).map((e) => e.filter((v) => v.startsWith('MALLOC_ARENA_MAX=')))).toEqual([['MALLOC_ARENA_MAX=2']]);

  await up.kill('SIGTERM');
  expect((await up.exited).code).toBe(0);
});
