// ringtail rrd against the real rrdtool 1.7.2: the same command lines through both, every row of
// every fetch compared (times exactly, values within 1e-9 relative, unknown as unknown).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runRrd } from '../../cli/commands/rrd.js';
import { parseFetch, sameValue, scenario } from '../helpers/rrd-gen.js';
import { tempDir } from '../helpers/proc.js';
import { RrdtoolPipe } from '../helpers/rrdtool-pipe.js';
import { hasTool } from '../helpers/tools.js';

const SEEDS = Number(process.env.RRD_CONFORMANCE_SEEDS ?? 120);
const FIRST_SEED = Number(process.env.RRD_CONFORMANCE_FIRST ?? 1);

async function ringtail(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = {
    out: { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WritableStream,
    err: { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WritableStream,
  };
  const code = await runRrd(argv, io);
  return { code, out, err };
}

describe.skipIf(!hasTool('rrdtool'))('ringtail rrd conforms to rrdtool 1.7.2', () => {
  const dir = tempDir('ringtail-rrd-conf-');
  const pipe = new RrdtoolPipe();
  const rrdtool = (argv: string[]): Promise<{ code: number; out: string; err: string }> => pipe.run(argv);
  afterAll(() => {
    pipe.close();
    dir.cleanup();
  });

  it(`matches every fetched row for ${SEEDS} seeded scenarios`, async () => {
    const started = Date.now();
    let updates = 0;
    let rows = 0;
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      const rrdFile = join(dir.path, `s${seed}.rrd`);
      const storeFile = join(dir.path, `s${seed}.db`);
      const a = scenario(seed, rrdFile);
      const b = scenario(seed, storeFile);
      updates += a.updateCount;
      const ctx = (argv: string[]): string => `seed ${seed}: rrdtool ${argv.join(' ')}`;
      expect((await rrdtool(a.create)).code, ctx(a.create)).toBe(0);
      expect((await ringtail(b.create)).code, ctx(b.create)).toBe(0);
      for (let i = 0; i < a.updates.length; i++) {
        const x = await rrdtool(a.updates[i]!);
        const y = await ringtail(b.updates[i]!);
        expect(y.code, `${ctx(a.updates[i]!)}\n${y.err}`).toBe(x.code);
        expect(y.err.replace(storeFile, 'F'), ctx(a.updates[i]!)).toBe(x.err.replace(rrdFile, 'F'));
      }
      for (let i = 0; i < a.fetches.length; i++) {
        const x = await rrdtool(a.fetches[i]!);
        const y = await ringtail(b.fetches[i]!);
        const what = ctx(a.fetches[i]!);
        expect(y.code, `${what}\n${y.err}`).toBe(x.code);
        expect(y.err, what).toBe(x.err);
        const px = parseFetch(x.out);
        const py = parseFetch(y.out);
        expect(py.header, what).toBe(px.header);
        expect(py.rows.map((r) => r.time), what).toEqual(px.rows.map((r) => r.time));
        px.rows.forEach((rx, k) => {
          const ry = py.rows[k]!;
          rx.values.forEach((v, d) => {
            if (!sameValue(v, ry.values[d]!)) {
              throw new Error(`${what}\nrow ${rx.time} DS ${d}: rrdtool ${v}, ringtail ${ry.values[d]}\nrrdtool:\n${x.out}\nringtail:\n${y.out}`);
            }
          });
        });
        rows += px.rows.length;
      }
    }
    console.log(`rrd conformance: ${SEEDS} seeds, ${updates} updates, ${rows} fetched rows compared in ${Date.now() - started} ms`);
  }, 300_000);

  it('prints fetch output identical to the character for the reference example', async () => {
    const f = join(dir.path, 'ex.rrd');
    const g = join(dir.path, 'ex.db');
    const create = ['--start', '1000000000', '--step', '10', 'DS:g:GAUGE:20:U:U', 'DS:c:COUNTER:20:U:U', 'DS:d:DERIVE:20:U:U', 'DS:a:ABSOLUTE:20:U:U', 'RRA:AVERAGE:0.5:1:10', 'RRA:MAX:0.5:2:5', 'RRA:MIN:0.5:2:5', 'RRA:LAST:0.5:2:5'];
    const upd = ['1000000005:10:100:100:50', '1000000010:20:200:50:50', '1000000015:30:300:0:50', '1000000020:40:400:-100:50', '1000000030:50:500:-100:0', '1000000045:60:600:0:10', '1000000070:70:700:0:10'];
    execFileSync('rrdtool', ['create', f, ...create]);
    execFileSync('rrdtool', ['update', f, ...upd]);
    expect((await ringtail(['create', g, ...create])).code).toBe(0);
    expect((await ringtail(['update', g, ...upd])).code).toBe(0);
    for (const cf of ['AVERAGE', 'MIN', 'MAX', 'LAST']) {
      const want = execFileSync('rrdtool', ['fetch', f, cf, '-s', '1000000000', '-e', '1000000050'], { encoding: 'utf8' });
      expect((await ringtail(['fetch', g, cf, '-s', '1000000000', '-e', '1000000050'])).out).toBe(want);
    }
  });
});
