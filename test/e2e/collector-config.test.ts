// `ringtail collector` with a JSON config file: filter rules and retention reach the running
// server, the writer thread commits, and a bad rule stops start-up with the key named.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { WIRE_VERSION } from '../../shared/wire.js';
import { allLogs, runRingtail, startCollectorProc, tempDir, type Proc } from '../helpers/proc.js';

const dir = tempDir('ringtail-cfg-');
const ADMIN = 'e2e-admin-token-abcdefghijkl';
let proc: Proc | undefined;
afterAll(async () => {
  await proc?.kill('SIGTERM');
  dir.cleanup();
});

it('applies filter rules from --config in the running collector', async () => {
  const cfg = join(dir.path, 'collector.json');
  writeFileSync(cfg, JSON.stringify({ filters: [{ action: 'drop', program: 'CRON' }, { action: 'drop', severity_min: 7 }], retention: { max_age_days: 3650 } }));
  const started = await startCollectorProc(join(dir.path, 'data'), ADMIN, ['--config', cfg]);
  proc = started.proc;
  const lines = [
    { offset: 0, ts: Date.now(), severity: 6, program: 'CRON', message: 'cron ran' },
    { offset: 9, ts: Date.now(), severity: 7, program: 'app', message: 'debug chatter' },
    { offset: 23, ts: Date.now(), severity: 3, program: 'app', message: 'real error' },
  ];
  const res = await fetch(started.url + '/api/v1/ingest', {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ version: WIRE_VERSION, agent_id: 'agt_cfg', host: 'cfg', segments: [{ stream: 's', source: '/x.log', start: 0, end: 34, lines }] }),
  });
  expect(res.status).toBe(200);
  // dropped lines are still acknowledged: the sender's offset moves past them
  expect(await res.json()).toMatchObject({ accepted: 1, committed: { s: 34 } });
  expect((await allLogs(started.url, ADMIN, '&host=cfg')).map((l) => l.message)).toEqual(['real error']);
});

it('refuses a filter rule with a bad regular expression, naming it', async () => {
  const cfg = join(dir.path, 'bad.json');
  writeFileSync(cfg, JSON.stringify({ filters: [{ action: 'drop', re: '([a-z' }] }));
  const r = await runRingtail(['collector', '--data', join(dir.path, 'bad-data'), '--listen', '127.0.0.1:0', '--config', cfg]);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/RINGTAIL_ERR_CONFIG filters\.0\.re: invalid regular expression/);
});
