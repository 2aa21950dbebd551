// File identity: a file truncated and rewritten is read again from 0 (also when it has grown
// past the old offset before the agent looked: its first bytes changed), and a new file that
// gets a deleted file's inode while the agent is down is not taken for the old one.
import { appendFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tally, rigsFor } from '../helpers/agent-run.js';
import { waitFor } from '../helpers/proc.js';

const rig = rigsFor('id');

const lines = (tag: string, n: number, pad = 20) => Array.from({ length: n }, (_, i) => `${tag} ${i} ${'p'.repeat(pad)}`);

describe('file identity', () => {
  it('reads a truncated and rewritten file again from 0, even when it grew past the old offset', async () => {
    const r = rig('trunc');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    writeFileSync(file, '');
    await r.startAgent(['--watch', file]);
    const first = lines('first', 200);
    appendFileSync(file, first.join('\n') + '\n');
    await waitFor('first lines', async () => (await r.stored()).length >= first.length, 15_000);
    // `> app.log` then a shorter rewrite
    const second = lines('second', 50);
    writeFileSync(file, second.join('\n') + '\n');
    await waitFor('second lines', async () => (await r.stored()).length >= first.length + second.length, 15_000);
    // rewritten in one go to more bytes than were read: only the first bytes tell
    const third = lines('third', 400, 40);
    writeFileSync(file, third.join('\n') + '\n');
    const all = [...first, ...second, ...third];
    await waitFor('third lines', async () => (await r.stored()).length >= all.length, 15_000);
    await r.agentIdle(Date.now());
    expect(tally(all, await r.storedAtLeast(all.length))).toEqual({ written: all.length, stored: all.length, lost: 0, duplicated: 0, foreign: 0 });
    expect(r.agent!.stderr().match(/"event":"file.truncated"/g)?.length).toBe(2);
  });

  it('does not take a new file with a reused inode for the deleted one', async () => {
    const r = rig('inode');
    await r.startCollector();
    const file = join(r.logs, 'app.log');
    const old = lines('old', 300, 40);
    writeFileSync(file, old.join('\n') + '\n');
    const oldIno = statSync(file).ino;
    await r.startAgent(['--watch', file]);
    await waitFor('old lines', async () => (await r.stored()).length >= old.length, 15_000);
    await r.agent!.kill('SIGTERM');
    rmSync(file);
    // A shorter file in its place; ext4 usually hands out the freed inode again.
    const fresh = lines('new', 100);
    writeFileSync(file, fresh.join('\n') + '\n');
    const reused = statSync(file).ino === oldIno;
    await r.startAgent(['--watch', file]);
    const all = [...old, ...fresh];
    await waitFor('new lines', async () => (await r.stored()).length >= all.length, 15_000);
    await r.agentIdle(Date.now());
    expect(tally(all, await r.storedAtLeast(all.length))).toEqual({ written: all.length, stored: all.length, lost: 0, duplicated: 0, foreign: 0 });
    console.log(`inode ${reused ? 'was' : 'was not'} reused`);
  });
});
