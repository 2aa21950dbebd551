// Per-source options through the real agent and collector: include/exclude and minimum
// severity (filtered lines counted), multiline joining, an overlong line cut and marked while
// the file goes on, invalid UTF-8 replaced; and drop_oldest, which discards and reports.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ADMIN, rigsFor, type AgentStatsLine } from '../helpers/agent-run.js';
import { api, runRingtail, waitFor } from '../helpers/proc.js';

const rig = rigsFor('src');

function lastStats(stderr: string): AgentStatsLine | undefined {
  const lines = stderr.split('\n').filter((l) => l.includes('"agent.stats"'));
  const last = lines[lines.length - 1];
  return last ? (JSON.parse(last) as AgentStatsLine) : undefined;
}

describe('agent sources from a config file', () => {
  it('exits 2 naming --watch when neither --watch nor sources is given, and names a bad pattern', async () => {
    const d = { path: rig('none').dir };
    const none = await runRingtail(['agent', '--collector', 'http://127.0.0.1:1', '--token', 'abcdefghij', '--state', join(d.path, 'st')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/RINGTAIL_ERR_CONFIG --watch: is required/);
    const config = join(d.path, 'bad.json');
    writeFileSync(config, JSON.stringify({ sources: [{ paths: ['/tmp/x.log'], include: ['(oops'] }] }));
    const bad = await runRingtail(['agent', '--collector', 'http://127.0.0.1:1', '--token', 'abcdefghij', '--state', join(d.path, 'st'), '--config', config]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/sources\.0\.include\.0: invalid regular expression '\(oops'/);
  });

  it('filters, joins stack traces, cuts long lines and replaces bad bytes', async () => {
    const r = rig('filters');
    await r.startCollector();
    const app = join(r.logs, 'app.log');
    const java = join(r.logs, 'java.log');
    writeFileSync(app, '');
    writeFileSync(java, '');
    const config = join(r.dir, 'agent.json');
    writeFileSync(
      config,
      JSON.stringify({
        sources: [
          { paths: [app], exclude: ['healthz'], min_severity: 'warning' },
          { paths: [java], multiline: { start: '^\\d{4}-\\d\\d-\\d\\d ', timeout_ms: 300 } },
        ],
        max_line_bytes: 1024,
      }),
    );
    await r.startAgent(['--config', config]);
    appendFileSync(app, 'INFO started\nERROR disk full\nWARN GET /healthz slow\nWARN cache cold\n');
    appendFileSync(app, Buffer.concat([Buffer.from('ERROR bad byte '), Buffer.from([0xff, 0xfe]), Buffer.from(' end\n')]));
    appendFileSync(app, `ERROR ${'L'.repeat(5000)}\nERROR after the long line\n`);
    appendFileSync(java, '2026-11-23 10:00:00 ERROR boom\njava.lang.IllegalStateException: x\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)\n2026-11-23 10:00:01 INFO next\n');

    const stored = await waitFor('lines', async () => {
      const page = await api<{ items: Array<{ message: string; source: string }> }>(r.url, ADMIN, `/api/v1/logs?host=${r.host}&limit=100`);
      return page.items.length >= 7 ? page.items : undefined;
    }, 15_000);
    await r.agentIdle(Date.now());
    const final = (await api<{ items: Array<{ message: string; source: string }> }>(r.url, ADMIN, `/api/v1/logs?host=${r.host}&limit=100`)).items;
    expect(final.length).toBe(stored.length);
    const fromApp = final.filter((l) => l.source === app).map((l) => l.message).sort();
    expect(fromApp).toEqual(
      ['ERROR disk full', 'WARN cache cold', 'ERROR bad byte \ufffd\ufffd end', `ERROR ${'L'.repeat(1018)}`, 'ERROR after the long line'].sort(),
    );
    const fromJava = final.filter((l) => l.source === java).map((l) => l.message).sort();
    expect(fromJava).toEqual(
      ['2026-11-23 10:00:00 ERROR boom\njava.lang.IllegalStateException: x\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)', '2026-11-23 10:00:01 INFO next'].sort(),
    );
    const stats = lastStats(r.agent!.stderr())!;
    expect(stats.lines_filtered).toBe(2);
    expect(stats.lines_truncated).toBe(1);
  });

  it('drop_oldest discards the oldest spooled batches when full, counts and reports them', async () => {
    const r = rig('drop');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    writeFileSync(file, '');
    await r.startAgent([
      '--watch', file, '--spool-max-bytes', String(1024 * 1024), '--spool-when-full', 'drop_oldest',
      '--transport-gzip-level', '0', '--batch-max-lines', '500',
    ]);
    await r.collector!.kill('SIGTERM');
    const COUNT = 40_000;
    let chunk = '';
    for (let i = 0; i < COUNT; i++) chunk += `line ${i} ${'p'.repeat(60)}\n`;
    appendFileSync(file, chunk);
    await waitFor('spool.dropped reported', () => /"spool.dropped"/.test(r.agent!.stderr()), 20_000);
    await waitFor('everything read', () => {
      const s = lastStats(r.agent!.stderr());
      return s !== undefined && s.lines_read === COUNT;
    }, 20_000);
    await r.startCollector();
    await r.agentIdle(Date.now());
    const stats = lastStats(r.agent!.stderr())!;
    const stored = await r.stored();
    expect(stats.lines_dropped).toBeGreaterThan(0);
    expect(new Set(stored).size).toBe(stored.length);
    // every line read is either stored or counted as dropped: none vanishes unreported
    expect(stored.length + stats.lines_dropped).toBe(COUNT);
  });
});
