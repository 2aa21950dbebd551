// History moves over: `rrdtool dump old.rrd | ringtail rrd restore - new.store` (real processes,
// real pipe), after which fetches agree and further updates keep agreeing (so the PDP and CDP
// preparation state came across too); and ringtail's dump is accepted by `rrdtool restore`.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRrd } from '../../cli/commands/rrd.js';
import { BIN, tempDir } from '../helpers/proc.js';
import { parseFetch, sameValue, scenario } from '../helpers/rrd-gen.js';
import { hasTool } from '../helpers/tools.js';

function ringtailSync(args: string[], input?: Buffer | string): string {
  return execFileSync(process.execPath, [BIN, 'rrd', ...args], { encoding: 'utf8', input });
}

/** In-process `ringtail rrd` (the same code the binary runs), to keep the test fast. */
async function ringtail(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = {
    out: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
    err: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
  };
  return { code: await runRrd(argv, io), out, err };
}

/** Runs a fetch through both; when rrdtool refuses it (no RRA for that CF), ringtail must too. */
async function compareFetch(rrdArgv: string[], ringtailArgv: string[], what: string): Promise<void> {
  const x = spawnSync('rrdtool', rrdArgv, { encoding: 'utf8' });
  const y = await ringtail(ringtailArgv);
  expect(y.code, what).toBe(x.status);
  expect(y.err, what).toBe(x.stderr);
  if (x.status === 0) expectSameFetch(x.stdout, y.out, what);
}

const argsOf = (updates: string[][]): string[] => updates.flatMap((u) => u.slice(2));

function pipeline(from: string[], to: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const a = spawn(from[0]!, from.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
    const b = spawn(to[0]!, to.slice(1), { stdio: ['pipe', 'inherit', 'inherit'] });
    a.stdout.pipe(b.stdin);
    a.on('error', reject);
    b.on('error', reject);
    b.on('exit', (code) => resolve(code ?? -1));
  });
}

function expectSameFetch(x: string, y: string, what: string): void {
  const px = parseFetch(x);
  const py = parseFetch(y);
  expect(py.header, what).toBe(px.header);
  expect(py.rows.map((r) => r.time), what).toEqual(px.rows.map((r) => r.time));
  px.rows.forEach((r, i) => r.values.forEach((v, d) => expect(sameValue(v, py.rows[i]!.values[d]!), `${what} row ${r.time} DS ${d}: ${v} vs ${py.rows[i]!.values[d]}`).toBe(true)));
}

describe.skipIf(!hasTool('rrdtool'))('dump and restore', () => {
  const dir = tempDir('ringtail-rrd-restore-');
  afterAll(() => dir.cleanup());

  it.each([7, 12, 33])('rrdtool dump | ringtail rrd restore - (seed %i), then both take the same updates', async (seed) => {
    const rrd = join(dir.path, `r${seed}.rrd`);
    const store = join(dir.path, `r${seed}.db`);
    const s = scenario(seed, rrd, 160);
    execFileSync('rrdtool', s.create);
    const half = Math.floor(s.updates.length / 2);
    execFileSync('rrdtool', ['update', rrd, ...argsOf(s.updates.slice(0, half))]);
    expect(await pipeline(['rrdtool', 'dump', rrd], [process.execPath, BIN, 'rrd', 'restore', '-', store])).toBe(0);
    for (const f of s.fetches) await compareFetch(f, [f[0]!, store, ...f.slice(2)], `after restore: ${f.join(' ')}`);
    execFileSync('rrdtool', ['update', rrd, ...argsOf(s.updates.slice(half))]);
    expect((await ringtail(['update', store, ...argsOf(s.updates.slice(half))])).code).toBe(0);
    for (const f of s.fetches) await compareFetch(f, [f[0]!, store, ...f.slice(2)], `after more updates: ${f.join(' ')}`);
  });

  it("ringtail rrd dump | rrdtool restore - gives rrdtool the same archives", async () => {
    const store = join(dir.path, 'd.db');
    const back = join(dir.path, 'back.rrd');
    const s = scenario(5, store, 100);
    expect((await ringtail(s.create)).code).toBe(0);
    expect((await ringtail(['update', store, ...argsOf(s.updates)])).code).toBe(0);
    expect(await pipeline([process.execPath, BIN, 'rrd', 'dump', store], ['rrdtool', 'restore', '-', back])).toBe(0);
    for (const f of s.fetches) await compareFetch([f[0]!, back, ...f.slice(2)], f, f.join(' '));
  });

  it('restore refuses an existing series without -f and reports malformed XML (real processes)', () => {
    const store = join(dir.path, 'x.db');
    const rrd = join(dir.path, 'x.rrd');
    execFileSync('rrdtool', ['create', rrd, 'DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10']);
    const xml = execFileSync('rrdtool', ['dump', rrd]);
    ringtailSync(['restore', '-', store], xml);
    expect(() => ringtailSync(['restore', '-', store], xml)).toThrow(/already exists/);
    ringtailSync(['restore', '-f', '-', store], xml);
    expect(() => ringtailSync(['restore', '-', join(dir.path, 'y.db')], '<rrd><step>10</step>')).toThrow(/dump XML/);
  });
});
