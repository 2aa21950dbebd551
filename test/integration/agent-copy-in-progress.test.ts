// copytruncate, step by step, with a glob that matches the copies: logrotate creates the copy,
// fills it, then truncates the live file. A scan that catches the copy while it is still empty
// or shorter than the live file's fingerprint must hold it back like a complete copy; taken as a
// new file, it was read again from 0 and every line the live file had already given was stored
// twice (seen ~1 in 10 runs of the logrotate e2e test on a loaded machine: 1,560 duplicates).
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { Checkpoints } from '../../agent/checkpoints.js';
import { AgentConfig } from '../../agent/config.js';
import type { PulledSegment } from '../../agent/sources/types.js';
import { FileSource } from '../../agent/sources/file/source.js';
import { loadState } from '../../agent/state.js';
import { createEvents } from '../../shared/events.js';
import { createLogger } from '../../shared/logger.js';

let dir = '';
let source: FileSource | null = null;
afterEach(async () => {
  await source?.stop();
  source = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const lines = (tag: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${tag} line ${from + i} of the generation, long enough to pass the fingerprint soon`);

describe('file source: a copytruncate copy caught while logrotate writes it', () => {
  it.each([
    ['empty', 0],
    ['shorter than the fingerprint', 100],
  ])('a copy found %s is held back, then carries on its generation: every line once', async (_name, partial) => {
    dir = mkdtempSync(join(tmpdir(), 'rt-copy-'));
    const live = join(dir, 'app.log');
    const copy = join(dir, 'app.log.1');
    const config = Value.Default(AgentConfig, { collector: 'http://127.0.0.1:9', token: 'rt_agent_test_token', watch: [join(dir, 'app.log*')], state: join(dir, 'state') }) as AgentConfig;
    const state = loadState(config.state);
    let now = 1_000_000;
    source = new FileSource(
      { config, events: createEvents(), log: createLogger(process.stderr, 'error'), clock: () => now, checkpoints: new Checkpoints(config.state, state), spooledEnds: new Map(), wake: () => {} },
      [{ paths: [join(dir, 'app.log*')] } as never],
    );
    const got: string[] = [];
    const pull = () => {
      const out: PulledSegment[] = [];
      source!.pull({ lines: 1_000_000, bytes: 1 << 30 }, out);
      for (const seg of out) for (const l of seg.lines) got.push(l.message);
    };

    const first = lines('gen1', 0, 20);
    writeFileSync(live, first.join('\n') + '\n');
    await source.start();
    pull();
    expect(got).toEqual(first);

    // the writer goes on; logrotate creates the copy and has written `partial` bytes of it
    const more = lines('gen1', 20, 5);
    appendFileSync(live, more.join('\n') + '\n');
    const generation = [...first, ...more].join('\n') + '\n';
    writeFileSync(copy, generation.slice(0, partial));
    now += 300;
    await source.scan();
    pull();
    // then the copy is complete, the live file truncated and written anew
    writeFileSync(copy, generation);
    truncateSync(live, 0);
    const next = lines('gen2', 0, 3);
    appendFileSync(live, next.join('\n') + '\n');
    now += 300;
    await source.scan();
    pull();
    now += 300;
    await source.scan();
    pull();

    expect(got.filter((l) => l.startsWith('gen1'))).toEqual([...first, ...more]);
    expect(got.filter((l) => l.startsWith('gen2'))).toEqual(next);
  });
});
