// The journal's fast validation must accept and reject exactly what the full path (rrdtool's
// checks) does, with the same error text: tricky cases and a seeded fuzz.
import { describe, expect, it } from 'vitest';
import { parseDefs } from '../../collector/rrd/defs.js';
import { checkUpdate, validateUpdate } from '../../collector/rrd/engine.js';
import type { SeriesDef } from '../../collector/rrd/types.js';
import { rng } from '../helpers/rrd-gen.js';

const def = parseDefs(['DS:g:GAUGE:20:0:100', 'DS:c:COUNTER:20:U:U', 'DS:d:DERIVE:20:U:U', 'DS:a:ABSOLUTE:20:U:U', 'DS:f:DDERIVE:20:U:U', 'RRA:AVERAGE:0.5:1:10'], 10);
const LAST = 1_000_000_000;
const now = (): number => 1_000_000_100;

function full(d: SeriesDef, arg: string): number | string {
  try {
    const probe = { lastUp: LAST, ds: d.ds.map(() => ({ lastDs: 'U', scratch: NaN, unknSec: 0 })), cdp: [] };
    return checkUpdate(d, probe, arg, now).parsed.time;
  } catch (err) {
    return (err as Error).message;
  }
}
function fast(d: SeriesDef, arg: string): number | string {
  try {
    return validateUpdate(d, LAST, arg, now);
  } catch (err) {
    return (err as Error).message;
  }
}

describe('fast update validation agrees with the full path', () => {
  const cases = [
    '1000000010:1:2:3:4:5',
    '1000000010:U:U:U:U:U',
    '1000000010:Ux:1:1:1:1',
    '1000000010:.5:1:-1:1:-0.5',
    '1000000010:5.:1:1:1:1',
    '1000000010:+5:1:1:1:1',
    '1000000010:1e3:1:1:1:1',
    '1000000010:1:1.5:1:1:1',
    '1000000010:1:-1:1:1:1',
    '1000000010:1:1:-:1:1',
    '1000000010:1:1:1:1',
    '1000000010:1:1:1:1:1:1',
    '1000000010:1:1:1:1:',
    '1000000010::1:1:1:1',
    '1000000000:1:1:1:1:1',
    '0001000000010:1:1:1:1:1',
    '1000000010.5:1:1:1:1:1',
    'N:1:2:3:4:5',
    '1000000030:1:1.5:x:1:1', // beyond the heartbeat: readings are not checked
    '1000000010',
    '',
    // beyond ASCII: checked on UTF-8 bytes, where 'ĺ' (U+013A) must not pass for ':' (0x3A)
    '1000000010:Uĺ1:1:1:1:1',
    '1000000010:Ué:1:1:1:1',
    '1000000010:U\u{1F600}:1:1:1:1',
    '1000000010:1ĺ1:1:1:1:1',
    '1000000010:1:1:1:1:1é',
    '1000000010ĺ1:1:1:1:1',
  ];
  it.each(cases)('%j', (arg) => expect(fast(def, arg)).toEqual(full(def, arg)));

  it('on 20,000 seeded random arguments', () => {
    const r = rng(42);
    const pieces = ['', 'U', '-', '.', '1', '23', '-4', '5.5', 'e', 'x', '+', '9999999999999999999999', ':'];
    for (let i = 0; i < 20_000; i++) {
      let arg = String(LAST - 2 + Math.floor(r() * 40));
      const n = 3 + Math.floor(r() * 5);
      for (let k = 0; k < n; k++) arg += ':' + pieces[Math.floor(r() * pieces.length)]! + (r() < 0.5 ? pieces[Math.floor(r() * pieces.length)]! : '');
      expect(fast(def, arg), arg).toEqual(full(def, arg));
    }
  });
});
