// An update call's journal text built in one piece (collector/rrd/journal-text.ts): for the plain
// case it must be the text, line places and times the general path produces (the journal is
// replayed from that text), and everything else must be left to the general path.
import { describe, expect, it } from 'vitest';
import { parseDefs } from '../../collector/rrd/defs.js';
import { validateUpdate } from '../../collector/rrd/engine.js';
import { JournalLines, type JournalSeries } from '../../collector/rrd/journal-text.js';
import type { UpdateManyItem } from '../../collector/rrd/types.js';
import { rng } from '../helpers/rrd-gen.js';

const T = 1_000_000_000;
const one = parseDefs(['DS:g:GAUGE:20:U:U', 'RRA:AVERAGE:0.5:1:10'], 10);
const two = parseDefs(['DS:g:GAUGE:20:0:100', 'DS:c:COUNTER:20:U:U', 'RRA:AVERAGE:0.5:1:10'], 10);

function fleet(): Map<string, JournalSeries> {
  const m = new Map<string, JournalSeries>();
  [
    ['a', 1, one],
    ['b', 22, one],
    ['c', 333, two],
  ].forEach(([name, id, def]) => m.set(name as string, { id: id as number, def: def as typeof one, prefix: `${id}\t`, nlPrefix: `\n${id}\t`, lastUp: T, callLastUp: 0, call: 0 }));
  return m;
}

/** The general path's text and times: each argument checked on its own, lines appended. */
function reference(items: UpdateManyItem[], series: Map<string, JournalSeries>): { text: string; lines: Array<[number, string]>; last: Map<string, number> } | undefined {
  const last = new Map<string, number>();
  const lines: Array<[number, string]> = [];
  for (const it of items) {
    const m = series.get(it.series);
    if (!m) return undefined;
    for (const arg of it.args) {
      let t: number;
      try {
        t = validateUpdate(m.def, last.get(it.series) ?? m.lastUp, arg, () => T + 1000);
      } catch {
        return undefined;
      }
      if (arg.startsWith('N')) return undefined;
      last.set(it.series, t);
      lines.push([m.id, arg]);
    }
  }
  if (lines.length === 0) return undefined;
  return { text: lines.map(([id, arg]) => `${id}\t${arg}`).join('\n'), lines, last };
}

function run(items: UpdateManyItem[], call = 7): { text: string | undefined; lines: JournalLines; series: Map<string, JournalSeries> } {
  const series = fleet();
  const lines = new JournalLines();
  const text = lines.plain(items, (n) => series.get(n), call);
  return { text, lines, series };
}

function expectSameAsGeneral(items: UpdateManyItem[]): void {
  const { text, lines, series } = run(items);
  const ref = reference(items, fleet());
  if (text === undefined) return;
  // whatever plain() takes, the general path takes the same way
  expect(ref, JSON.stringify(items)).toBeDefined();
  expect(text).toBe(ref!.text);
  expect(lines.count).toBe(ref!.lines.length);
  ref!.lines.forEach(([id, arg], k) => {
    expect(lines.ids[k]).toBe(id);
    expect(text.slice(lines.starts[k], lines.ends[k])).toBe(arg);
  });
  for (const [name, t] of ref!.last) expect(series.get(name)!.callLastUp).toBe(t);
  expect(new Set(lines.touched.map((m) => m.id))).toEqual(new Set(items.map((it) => series.get(it.series)!.id)));
}

describe('journal text in one piece', () => {
  // [what, items, taken by plain()]
  const cases: Array<[string, UpdateManyItem[], boolean]> = [
    ['one argument per series', [{ series: 'a', args: [`${T + 10}:1.5`] }, { series: 'b', args: [`${T + 10}:U`] }], true],
    ['two readings', [{ series: 'c', args: [`${T + 10}:50:123`] }], true],
    ['several arguments per series', [{ series: 'a', args: [`${T + 10}:1`, `${T + 20}:-2`, `${T + 25}:.5`] }], true],
    ['the same series twice, in order', [{ series: 'a', args: [`${T + 10}:1`] }, { series: 'b', args: [`${T + 10}:1`] }, { series: 'a', args: [`${T + 20}:2`] }], true],
    ['an item without arguments among others', [{ series: 'a', args: [] }, { series: 'b', args: [`${T + 10}:1`] }], true],
    ['the same series twice, out of order', [{ series: 'a', args: [`${T + 20}:1`] }, { series: 'a', args: [`${T + 20}:2`] }], false],
    ['a time not after the last update', [{ series: 'b', args: [`${T}:1`] }], false],
    ['N for now', [{ series: 'a', args: ['N:1'] }], false],
    ['a series not loaded', [{ series: 'a', args: [`${T + 10}:1`] }, { series: 'zz', args: [`${T + 10}:1`] }], false],
    ['a reading the quick check leaves to the full path', [{ series: 'a', args: [`${T + 10}:1e3`] }], false],
    ['a bad reading', [{ series: 'a', args: [`${T + 10}:x`] }], false],
    ['too few readings', [{ series: 'c', args: [`${T + 10}:5`] }], false],
    ['a COUNTER reading with a fraction', [{ series: 'c', args: [`${T + 10}:5:1.5`] }], false],
    ['no arguments at all', [{ series: 'a', args: [] }], false],
    ['a U reading followed by text beyond ASCII', [{ series: 'a', args: [`${T + 10}:Uĺ`] }, { series: 'b', args: [`${T + 10}:1`] }], false],
  ];
  it.each(cases)('%s', (_what, items, taken) => {
    const { text, lines } = run(items);
    expect(text !== undefined).toBe(taken);
    if (!taken) {
      // nothing recorded: the general path starts from scratch
      expect(lines.count).toBe(0);
      expect(lines.touched).toHaveLength(0);
    }
    expectSameAsGeneral(items);
  });

  it('grows past its initial capacity', () => {
    const items = Array.from({ length: 3000 }, (_, i) => ({ series: 'a', args: [`${T + 1 + i}:${i}`] }));
    const { text, lines } = run(items);
    expect(lines.count).toBe(3000);
    expect(text!.slice(lines.starts[2999], lines.ends[2999])).toBe(`${T + 3000}:2999`);
    expectSameAsGeneral(items);
  });

  it('agrees with the general path on 5,000 seeded random calls', () => {
    const r = rng(17);
    const pieces = ['', 'U', '-', '.', '1', '23', '-4', '5.5', 'e', 'x', '+', 'N', ':', '\n', 'Uĺ', 'é'];
    const names = ['a', 'b', 'c', 'zz'];
    let taken = 0;
    for (let i = 0; i < 5000; i++) {
      const items: UpdateManyItem[] = [];
      for (let k = 1 + Math.floor(r() * 4); k > 0; k--) {
        const args: string[] = [];
        let t = T - 2 + Math.floor(r() * 10);
        for (let n = Math.floor(r() * 3); n > 0; n--) {
          t += Math.floor(r() * 10);
          let arg = r() < 0.05 ? 'N' : String(t);
          for (let d = 1 + Math.floor(r() * 2); d > 0; d--) arg += ':' + (r() < 0.9 ? String(Math.floor(r() * 100)) : pieces[Math.floor(r() * pieces.length)]!);
          args.push(arg);
        }
        items.push({ series: names[Math.floor(r() * (r() < 0.1 ? 4 : 3))]!, args });
      }
      if (run(items).text !== undefined) taken++;
      expectSameAsGeneral(items);
    }
    // the plain path is exercised, not only deferred
    expect(taken).toBeGreaterThan(400);
  });
});
