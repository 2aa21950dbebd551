import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/ringtail', import.meta.url));
const leak = fileURLToPath(new URL('../fixtures/leaked-handle.mjs', import.meta.url));

function run(args: string[], preload: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [...preload, bin, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr, ms: Date.now() - started }));
  });
}

describe('bin/ringtail after the command ends', () => {
  it('exits with an error naming the cause when a handle is left open, instead of hanging', async () => {
    const r = await run(['--help'], ['--import', leak]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/RINGTAIL_ERR_INTERNAL still running 10 s after the command ended/);
    expect(r.ms).toBeGreaterThanOrEqual(9_500);
  }, 30_000);

  it('exits at once, with the command status, when nothing is left open', async () => {
    const r = await run(['--help'], []);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.ms).toBeLessThan(5_000);
  }, 30_000);
});
