// SIGHUP to a running `ringtail agent`: the config file is read again and the agent restarts its
// pipeline with it in the same process (sources and their filters change), with nothing lost or
// sent twice across the switch; a bad file is refused, logged, and the agent goes on as it was.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rigsFor, tally } from '../helpers/agent-run.js';
import { waitFor } from '../helpers/proc.js';

const rig = rigsFor('reload');

describe('agent SIGHUP', () => {
  it('re-reads sources and filters, same process, every line once; a bad file changes nothing', async () => {
    const r = rig('agent');
    await r.startCollector();
    const a = join(r.logs, 'a.log');
    const b = join(r.logs, 'b.log');
    const cfg = join(r.dir, 'agent.json');
    writeFileSync(cfg, JSON.stringify({ sources: [{ paths: [a] }] }));
    const lines = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} ${i}`);
    const expected: string[] = [];
    const put = (file: string, ls: string[], kept = true) => {
      appendFileSync(file, ls.join('\n') + '\n');
      if (kept) expected.push(...ls);
    };
    await r.startAgent(['--config', cfg]);
    const pid = r.agent!.child.pid!;
    put(a, lines('a1', 500));
    put(b, lines('b-before', 50), false); // not a source yet; but it will be, and is read whole then
    await waitFor('a1 stored', async () => (await r.stored()).length >= 500, 20_000, 100);

    // b becomes a source, with a filter; a keeps going while the agent switches
    writeFileSync(cfg, JSON.stringify({ sources: [{ paths: [a] }, { paths: [b], exclude: ['^skip'] }] }));
    expected.push(...lines('b-before', 50));
    const writing = (async () => {
      for (let i = 0; i < 10; i++) {
        put(a, lines(`a2-${i}`, 100));
        await new Promise((res) => setImmediate(res));
      }
    })();
    process.kill(pid, 'SIGHUP');
    await writing;
    await waitFor('config.reloaded', () => r.agent!.stderr().includes('"config.reloaded"'), 20_000);
    put(b, lines('b-after', 100));
    put(b, lines('skip', 20), false);

    // a bad regular expression: refused, logged, the running configuration stays
    writeFileSync(cfg, JSON.stringify({ sources: [{ paths: [a], include: ['([a-z'] }] }));
    process.kill(pid, 'SIGHUP');
    const failed = await waitFor('config.reload_failed', () => r.agent!.stderr().split('\n').find((l) => l.includes('"config.reload_failed"')), 20_000);
    expect(failed).toMatch(/RINGTAIL_ERR_CONFIG/);
    put(a, lines('a3', 100));
    put(b, lines('b3', 100));

    await r.agentIdle(Date.now());
    const stored = await r.stored();
    expect(tally(expected, stored)).toEqual({ written: expected.length, stored: expected.length, lost: 0, duplicated: 0, foreign: 0 });
    expect(r.agent!.child.pid).toBe(pid);
    expect(r.agent!.child.exitCode).toBeNull();
  });
});
