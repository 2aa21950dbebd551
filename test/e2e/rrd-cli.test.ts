// `ringtail rrd` as a real process: help, the README's create/update/fetch round trip with
// rrdtool's text layout, errors on stderr with exit status 1, series picked with FILE#SERIES.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRingtail, tempDir } from '../helpers/proc.js';

describe('ringtail rrd (process)', () => {
  const dir = tempDir('ringtail-rrd-cli-');
  afterAll(() => dir.cleanup());

  it('prints help', async () => {
    const r = await runRingtail(['rrd', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('create  FILE');
    expect((await runRingtail(['--help'])).stdout).toMatch(/\n {2}rrd +Round-robin/);
  });

  it('creates, updates and fetches, several series in one store', async () => {
    const store = join(dir.path, 'm.db');
    const create = ['--start', '1000000000', '-s', '10', 'DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10'];
    expect((await runRingtail(['rrd', 'create', `${store}#web-1.load`, ...create])).code).toBe(0);
    expect((await runRingtail(['rrd', 'create', `${store}#web-2.load`, ...create])).code).toBe(0);
    expect((await runRingtail(['rrd', 'update', `${store}#web-1.load`, '1000000005:10', '1000000010:20', '1000000020:U'])).code).toBe(0);
    const f = await runRingtail(['rrd', 'fetch', `${store}#web-1.load`, 'AVERAGE', '-s', '1000000000', '-e', '1000000010']);
    expect(f.stdout).toBe(['                              g', '', '1000000010: 1.5000000000e+01', '1000000020: -nan', ''].join('\n'));
    expect((await runRingtail(['rrd', 'list', store])).stdout).toBe('web-1.load\nweb-2.load\n');
    const bad = await runRingtail(['rrd', 'update', `${store}#web-1.load`, '1000000020:5']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`ERROR: ${store}#web-1.load: illegal attempt to update using time 1000000020 when last update time is 1000000020 (minimum one second step)\n`);
    const missing = await runRingtail(['rrd', 'info', `${store}#nope`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no series 'nope'");
  });
});
