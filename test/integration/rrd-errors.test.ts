// Bad input: the same bad command lines through rrdtool and ringtail rrd give the same error
// text and a nonzero exit; a failed create leaves nothing behind; a failed update keeps the
// arguments before the bad one and nothing after it; a file that is not a store is named.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRrd } from '../../cli/commands/rrd.js';
import { tempDir } from '../helpers/proc.js';
import { hasTool } from '../helpers/tools.js';

async function ringtail(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = {
    out: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
    err: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
  };
  return { code: await runRrd(argv, io), out, err };
}

function rrdtool(argv: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('rrdtool', argv, { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const GOOD = ['--start', '1000000000', '--step', '10', 'DS:g:GAUGE:20:0:100', 'DS:c:COUNTER:20:U:U', 'DS:d:DERIVE:20:U:U', 'DS:a:ABSOLUTE:20:U:U', 'RRA:AVERAGE:0.5:1:20', 'RRA:MAX:0.5:2:10'];

describe.skipIf(!hasTool('rrdtool'))('ringtail rrd reports bad input as rrdtool does', () => {
  const dir = tempDir('ringtail-rrd-err-');
  afterAll(() => dir.cleanup());
  let n = 0;
  const files = (): { rrd: string; store: string } => {
    n++;
    return { rrd: join(dir.path, `e${n}.rrd`), store: join(dir.path, `e${n}.db`) };
  };

  const badCreates: string[][] = [
    ['DS:g:GAUGE:20:U:U'],
    ['RRA:AVERAGE:0.5:1:10'],
    ['DS:g', 'RRA:AVERAGE:0.5:1:10'],
    ['DS:g:GAUG:20:U:U', 'RRA:AVERAGE:0.5:1:10'],
    ['DS:g:GAUGE:x:U:U', 'RRA:AVERAGE:0.5:1:10'],
    ['DS:g:GAUGE:0:U:U', 'RRA:AVERAGE:0.5:1:10'],
    ['DS:g:GAUGE:20', 'RRA:AVERAGE:0.5:1:10'],
    ['DS:g:GAUGE:20:U', 'RRA:AVERAGE:0.5:1:10'],
    ['DS:g:GAUGE:20:abc:U', 'RRA:AVERAGE:0.5:1:10'],
    ['DS:g:GAUGE:20:5:1', 'RRA:AVERAGE:0.5:1:10'],
    ['DS:g:GAUGE:20:U:U', 'DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10'],
    ['DS:g:GAUGE:20:U:U', 'RRA:AVG:0.5:1:10'],
    ['DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:1:1:10'],
    ['DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:0:10'],
    ['DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:x'],
    ['DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1'],
    ['DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10:3'],
    ['-s', '0', 'DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10'],
    ['-b', 'abc', 'DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10'],
    ['DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10', 'junk'],
  ];
  it.each(badCreates)('create %s …: same error, nothing left behind', async (...args) => {
    const f = files();
    const x = rrdtool(['create', f.rrd, ...args]);
    const y = await ringtail(['create', f.store, ...args]);
    expect(x.code).not.toBe(0);
    expect(y.code).toBe(1);
    expect(y.err).toBe(x.err);
    expect(existsSync(f.store)).toBe(false);
  });

  const badUpdates: string[][] = [
    ['1000000010:1:1.5:1:1'],
    ['1000000010:1:-5:1:1'],
    ['1000000010:1:5:+1:1'],
    ['1000000010:1:5:1-1:1'],
    ['1000000010:1:5:1:x'],
    ['1000000010:1x:5:1:1'],
    ['1000000010:1:5:1:'],
    ['1000000010:1:5:1'],
    ['1000000010'],
    ['abc:1:1:1:1'],
    ['1000000000:1:1:1:1'],
    ['999999999:1:1:1:1'],
    // the arguments before the bad one stay applied, nothing after it
    ['1000000010:1:1:1:1', '1000000020:2:2:2:2', '1000000020:3:3:3:3', '1000000030:4:4:4:4'],
    ['1000000010:1:1:1:1', '1000000025:2:2.5:2:2', '1000000030:4:4:4:4'],
  ];
  it.each(badUpdates)('update %s …: same error, same archive afterwards', async (...args) => {
    const f = files();
    rrdtool(['create', f.rrd, ...GOOD]);
    expect((await ringtail(['create', f.store, ...GOOD])).code).toBe(0);
    const x = rrdtool(['update', f.rrd, ...args]);
    const y = await ringtail(['update', f.store, ...args]);
    expect(x.code).not.toBe(0);
    expect(y.code).toBe(1);
    expect(y.err.replace(f.store, 'FILE')).toBe(x.err.replace(f.rrd, 'FILE'));
    for (const cf of ['AVERAGE', 'MAX']) {
      const fx = rrdtool(['fetch', f.rrd, cf, '-s', '1000000000', '-e', '1000000040']);
      const fy = await ringtail(['fetch', f.store, cf, '-s', '1000000000', '-e', '1000000040']);
      expect(fy.out).toBe(fx.out);
    }
  });

  const badFetches: string[][] = [
    ['AVG'],
    [],
    ['AVERAGE', '-s', '1000000040', '-e', '1000000010'],
    ['AVERAGE', '-r', '0'],
    ['AVERAGE', '-s', 'abc'],
    ['LAST'],
  ];
  it.each(badFetches)('fetch %s …: same error', async (...args) => {
    const f = files();
    rrdtool(['create', f.rrd, '--start', '1000000000', 'DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:2:10']);
    await ringtail(['create', f.store, '--start', '1000000000', 'DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:2:10']);
    const x = rrdtool(['fetch', f.rrd, ...args]);
    const y = await ringtail(['fetch', f.store, ...args]);
    expect(x.code).not.toBe(0);
    expect(y.code).toBe(1);
    expect(y.err.replace('ringtail rrd fetch', 'rrdtool fetch')).toBe(x.err);
  });

  it('a missing store and a file that is not a store are named', async () => {
    const missing = join(dir.path, 'missing.db');
    const y = await ringtail(['fetch', missing, 'AVERAGE']);
    expect(y.code).toBe(1);
    expect(y.err).toBe(`ERROR: opening '${missing}': No such file or directory\n`);
    expect(existsSync(missing)).toBe(false);
    const text = join(dir.path, 'notes.txt');
    writeFileSync(text, 'not a database\n'.repeat(100));
    for (const argv of [['fetch', text, 'AVERAGE'], ['update', text, 'N:1'], ['info', text], ['create', text, 'DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10']]) {
      const r = await ringtail(argv);
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.err, argv.join(' ')).toContain(`'${text}' is not a ringtail store`);
    }
    const rrdFile = join(dir.path, 'real.rrd');
    rrdtool(['create', rrdFile, 'DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10']);
    expect((await ringtail(['info', rrdFile])).err).toContain(`'${rrdFile}' is not a ringtail store`);
  });

  it('--no-overwrite refuses an existing series; create replaces it by default, as rrdtool does', async () => {
    const f = files();
    expect((await ringtail(['create', f.store, ...GOOD])).code).toBe(0);
    expect((await ringtail(['update', f.store, '1000000010:1:1:1:1'])).code).toBe(0);
    const refused = await ringtail(['create', f.store, '-O', ...GOOD]);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(`ERROR: creating '${f.store}': File exists\n`);
    expect((await ringtail(['info', f.store])).out).toContain('last_update = 1000000010');
    expect((await ringtail(['create', f.store, ...GOOD])).code).toBe(0);
    expect((await ringtail(['info', f.store])).out).toContain('last_update = 1000000000');
  });
});
