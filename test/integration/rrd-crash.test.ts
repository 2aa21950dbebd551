// A store is never half-written: a child applying rounds of updateMany is killed with SIGKILL
// mid-stream; the store then opens, passes SQLite's integrity check, every acknowledged round
// is there, and every series is at the same round (each round is one transaction).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openRrdStore } from '../../collector/rrd/sqlite-store.js';
import { tempDir, waitFor } from '../helpers/proc.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/rrd-writer.mjs', import.meta.url));
const T0 = 1_000_000_000;

async function killMidway(path: string, mode: string, afterRounds: number): Promise<number> {
  const child = spawn(process.execPath, [FIXTURE, path, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.on('exit', r));
  await waitFor(`${afterRounds} acknowledged rounds`, () => {
    if (child.exitCode !== null) throw new Error('writer exited early');
    const m = [...out.matchAll(/acked (\d+)/g)];
    return m.length > 0 && Number(m[m.length - 1]![1]) >= afterRounds;
  }, 60_000, 5);
  child.kill('SIGKILL');
  await exited;
  const acks = [...out.matchAll(/acked (\d+)/g)];
  return Number(acks[acks.length - 1]![1]);
}

describe('SIGKILL during updates', () => {
  const dir = tempDir('ringtail-rrd-crash-');
  afterAll(() => dir.cleanup());

  it.each([
    ['journal', 60],
    ['journal', 130],
    ['direct', 40],
  ])('%s mode, killed after ≥ %i rounds: consistent and nothing acknowledged lost', async (mode, rounds) => {
    const path = join(dir.path, `${mode}-${rounds}.db`);
    const acked = await killMidway(path, mode as string, rounds as number);
    const db = new Database(path);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    const store = openRrdStore(path);
    try {
      const lasts = store.list().map((n) => store.info(n).state.lastUp);
      expect(lasts).toHaveLength(50);
      expect(new Set(lasts).size).toBe(1); // every series at the same round
      const round = (lasts[0]! - T0) / 10;
      expect(round).toBeGreaterThanOrEqual(acked);
      expect(round).toBeLessThanOrEqual(acked + 1); // the round in flight may have committed
      const f = store.fetch('s3', 'AVERAGE', { start: T0, end: T0 + 10 * round });
      for (let i = 1; i < round; i++) expect(f.data[i * 2]).toBeCloseTo(i + 1, 9); // PDP ending at T0+10(i+1) holds the value of round i+1
      store.update('s3', [`${T0 + 10 * (round + 1)}:1:1`]);
    } finally {
      store.close();
    }
  });
});
