// SIGHUP to a running `ringtail collector` (what `systemctl reload` sends): the config file is
// read again, filter rules and the file's alert rules change without a restart (same process,
// same port, the lines already stored kept), a bad file is refused as a whole and logged while
// the collector keeps running as it was, and a key that needs a restart is named in the log.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { WIRE_VERSION } from '../../shared/wire.js';
import { allLogs, api, startCollectorProc, tempDir, waitFor, type Proc } from '../helpers/proc.js';

const dir = tempDir('ringtail-reload-');
const ADMIN = 'e2e-admin-token-reload-abcdefgh';
let proc: Proc | undefined;
afterAll(async () => {
  await proc?.kill('SIGTERM');
  dir.cleanup();
});

let offset = 0;
/** One line through the ingest API; true when the collector stored it (not filtered). */
async function send(url: string, message: string, program = 'app'): Promise<void> {
  const start = offset;
  offset += message.length + 1;
  const res = await fetch(url + '/api/v1/ingest', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      version: WIRE_VERSION,
      agent_id: 'agt_reload',
      host: 'reload',
      segments: [{ stream: 's', source: '/x.log', start, end: offset, lines: [{ offset: start, ts: Date.now(), severity: 6, program, message }] }],
    }),
  });
  expect(res.status).toBe(200);
}

const rule = (name: string, query: string) => ({ kind: 'log', name, query, window: '1m' });
type Rules = { items: Array<{ name: string; source: string; spec: { query?: string } }> };

it('re-reads filters and alert rules on SIGHUP, refuses a bad file, names what needs a restart', async () => {
  const cfg = join(dir.path, 'collector.json');
  const write = (c: unknown) => writeFileSync(cfg, JSON.stringify(c));
  write({ filters: [{ action: 'drop', re: '^noise' }], alerts: { rules: [rule('oom', 'OutOfMemoryError'), rule('gone', 'panic')] } });
  const started = await startCollectorProc(join(dir.path, 'data'), ADMIN, ['--config', cfg, '--log-level', 'info']);
  proc = started.proc;
  const url = started.url;
  const pid = proc.child.pid!;
  const stored = async () => (await allLogs(url, ADMIN, '&host=reload')).map((l) => l.message).sort();
  const rules = async () => (await api<Rules>(url, ADMIN, '/api/v1/alerts/rules')).items.filter((r) => r.source === 'config');

  await send(url, 'noise one');
  await send(url, 'chatter one');
  expect(await stored()).toEqual(['chatter one']);
  // a rule made through the API is not the file's: a reload leaves it alone
  const put = await fetch(url + '/api/v1/alerts/rules/from-api', {
    method: 'PUT',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify(rule('from-api', 'segfault')),
  });
  expect(put.status).toBeLessThan(300);

  // now chatter is dropped and noise kept; 'oom' changes, 'gone' goes, 'disk' comes
  write({ filters: [{ action: 'drop', re: '^chatter' }], alerts: { rules: [rule('oom', 'OutOfMemory'), rule('disk', 'No space left')] } });
  process.kill(pid, 'SIGHUP');
  await waitFor('config.reloaded', () => proc!.stdout().includes('"config.reloaded"'), 15_000);
  await send(url, 'noise two');
  await send(url, 'chatter two');
  expect(await stored()).toEqual(['chatter one', 'noise two']);
  expect((await rules()).map((r) => [r.name, r.spec.query])).toEqual([
    ['disk', 'No space left'],
    ['oom', 'OutOfMemory'],
  ]);
  expect((await api<Rules>(url, ADMIN, '/api/v1/alerts/rules')).items.map((r) => r.name)).toContain('from-api');
  const reloaded = JSON.parse(proc.stdout().split('\n').find((l) => l.includes('"config.reloaded"'))!) as { rules: unknown; restart_needed: string[] };
  expect(reloaded.rules).toEqual({ added: ['disk'], changed: ['oom'], removed: ['gone'] });
  expect(reloaded.restart_needed).toEqual([]);

  // a bad regular expression: refused as a whole (the rules stay as they were too), logged, still serving
  write({ filters: [{ action: 'drop', re: '([a-z' }], alerts: { rules: [rule('other', 'x')] } });
  process.kill(pid, 'SIGHUP');
  const failed = await waitFor('config.reload_failed', () => proc!.stdout().split('\n').find((l) => l.includes('"config.reload_failed"')), 15_000);
  expect(failed).toMatch(/RINGTAIL_ERR_CONFIG/);
  expect(failed).toMatch(/filters\.0\.re/);
  await send(url, 'chatter three');
  await send(url, 'noise three');
  expect(await stored()).toEqual(['chatter one', 'noise three', 'noise two']);
  expect((await rules()).map((r) => r.name)).toEqual(['disk', 'oom']);

  // a key that is read only at start-up: applied nothing of it, said so
  write({ filters: [{ action: 'drop', re: '^chatter' }], alerts: { rules: [rule('oom', 'OutOfMemory'), rule('disk', 'No space left')] }, body_limit: 1048576 });
  process.kill(pid, 'SIGHUP');
  const second = await waitFor('a second config.reloaded', () => proc!.stdout().split('\n').filter((l) => l.includes('"config.reloaded"'))[1], 15_000);
  expect((JSON.parse(second) as { restart_needed: string[] }).restart_needed).toEqual(['body_limit']);

  // the same process all along
  expect(proc.child.exitCode).toBeNull();
  expect(proc.child.pid).toBe(pid);
});
