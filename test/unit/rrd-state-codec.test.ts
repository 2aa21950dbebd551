// A series' state survives the store's text encoding exactly: NaN, ±infinity, -0, fractions,
// any last reading; the fast state path and the generic JSON path read each other's text.
import { describe, expect, it } from 'vitest';
import { decodeState, encodeJson, encodeState } from '../../collector/rrd/state-codec.js';
import type { SeriesState } from '../../collector/rrd/types.js';
import { rng } from '../helpers/rng.js';

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-300, 1.7976931348623157e308, 0.1 + 0.2, -42.5, 2 ** 53 + 2];

function randomState(seed: number): SeriesState {
  const r = rng(seed);
  const v = (): number => (r() < 0.5 ? SPECIAL[Math.floor(r() * SPECIAL.length)]! : (r() - 0.5) * 10 ** Math.floor(r() * 20));
  const nds = 1 + Math.floor(r() * 3);
  return {
    lastUp: 1_000_000_000 + Math.floor(r() * 1e6),
    ds: Array.from({ length: nds }, (_, i) => ({ lastDs: ['U', 'NaN', '12', '-inf', 'a"b\\c', `${i}.5e3`][Math.floor(r() * 6)]!, scratch: v(), unknSec: Math.floor(r() * 300) })),
    cdp: Array.from({ length: 1 + Math.floor(r() * 8) }, () => Array.from({ length: nds }, () => ({ val: v(), unkn: Math.floor(r() * 10), primary: v(), secondary: v() }))),
  };
}

describe('state codec', () => {
  it('encodeState and encodeJson round-trip every value, and each decodes the other', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const st = randomState(seed);
      const fast = decodeState(encodeState(st));
      const slow = decodeState(encodeJson(st));
      // toEqual tells NaN from NaN as equal and 0 from -0 apart: JSON keeps -0 as 0 either way
      const norm = (s: SeriesState): unknown => JSON.parse(JSON.stringify(s, (_k, x) => (typeof x === 'number' ? (Object.is(x, -0) ? 0 : Number.isNaN(x) ? 'NaN' : Number.isFinite(x) ? x : String(x)) : x)));
      expect(norm(fast), `seed ${seed}`).toEqual(norm(st));
      expect(slow).toEqual(fast);
      expect(JSON.parse(encodeState(st))).toEqual(JSON.parse(encodeJson(st)));
      expect(fast.ds.map((d) => d.lastDs)).toEqual(st.ds.map((d) => d.lastDs));
    }
  });
});
