// The metric pipeline's waiting units (collector/metrics/waiting-queue.ts): a take stops where its
// group closes instead of walking and copying the whole queue, and takes exactly what the whole
// walk took. Checked against that walk (kept here as the reference) over random queues, keys in
// flight, kinds that change between takes, and queues long enough to compact the array.
import { describe, expect, it } from 'vitest';
import { WaitingQueue } from '../../collector/metrics/waiting-queue.js';
import { rng as random } from '../helpers/rng.js';

interface U {
  key: string;
  weight: number;
  n: number;
}

/** PipelinedWriter.take before waiting-queue.ts: the whole queue walked, the rest copied */
function wholeWalk(queue: U[], passOver: (p: U) => boolean, max: number): { group: U[]; weight: number; rest: U[] } {
  const group: U[] = [];
  const rest: U[] = [];
  const held = new Set<string>();
  let weight = 0;
  let full = false;
  for (const p of queue) {
    if (full || passOver(p) || held.has(p.key) || (group.length > 0 && weight + p.weight > max)) {
      full ||= group.length > 0 && weight + p.weight > max;
      held.add(p.key);
      rest.push(p);
      continue;
    }
    group.push(p);
    weight += p.weight;
  }
  return group.length === 0 ? { group, weight, rest: queue } : { group, weight, rest };
}

describe('metric pipeline waiting queue', () => {
  it('takes the same groups, in the same order, as walking the whole queue', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rnd = random(seed);
      const keys = 2 + Math.floor(rnd() * 30);
      const q = new WaitingQueue<U>();
      let ref: U[] = [];
      let n = 0;
      for (let step = 0; step < 400; step++) {
        const arrive = Math.floor(rnd() * (seed % 3 === 0 ? 40 : 8));
        for (let a = 0; a < arrive; a++) {
          const u = { key: `h${Math.floor(rnd() * keys)}`, weight: 1 + Math.floor(rnd() * 5), n: n++ };
          q.push(u);
          ref.push(u);
        }
        // keys in flight and each key's kind, as they stand at this take
        const busy = new Set<string>();
        const heavy = new Set<string>();
        for (let k = 0; k < keys; k++) {
          if (rnd() < 0.2) busy.add(`h${k}`);
          if (rnd() < 0.3) heavy.add(`h${k}`);
        }
        const kind = rnd() < 0.5;
        const passOver = (p: U) => busy.has(p.key) || heavy.has(p.key) !== kind;
        const max = 1 + Math.floor(rnd() * 12);
        const want = wholeWalk(ref, passOver, max);
        const got = q.take(passOver, max);
        expect(got.group.map((u) => u.n), `seed ${seed} step ${step}`).toEqual(want.group.map((u) => u.n));
        expect(got.weight).toBe(want.weight);
        ref = want.rest;
        expect(q.length).toBe(ref.length);
      }
      // what is left, in order
      const all = q.take(() => false, Infinity);
      expect(all.group.map((u) => u.n), `seed ${seed} rest`).toEqual(ref.map((u) => u.n));
      expect(q.length).toBe(0);
    }
  });

  it('a long queue taken to its end (its cleared front dropped on the way) keeps the same groups', () => {
    const rnd = random(7);
    const q = new WaitingQueue<U>();
    let ref: U[] = [];
    for (let n = 0; n < 5_000; n++) {
      const u = { key: `h${Math.floor(rnd() * 100)}`, weight: 1 + Math.floor(rnd() * 3), n };
      q.push(u);
      ref.push(u);
    }
    let takes = 0;
    while (ref.length > 0) {
      const busy = new Set<string>();
      for (let k = 0; k < 100; k++) if (rnd() < 0.1) busy.add(`h${k}`);
      const passOver = (p: U) => busy.has(p.key);
      const want = wholeWalk(ref, passOver, 20);
      expect(q.take(passOver, 20).group.map((u) => u.n), `take ${takes}`).toEqual(want.group.map((u) => u.n));
      ref = want.rest;
      takes++;
    }
    expect(q.length).toBe(0);
    expect(takes).toBeGreaterThan(500);
  });

  it('a take reads no further than the unit that closes its group', () => {
    const q = new WaitingQueue<U>();
    for (let n = 0; n < 10_000; n++) q.push({ key: `h${n}`, weight: 1, n });
    let asked = 0;
    const { group } = q.take(() => (asked++, false), 10);
    expect(group.map((u) => u.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // the eleventh unit closes the group by its weight before anything else is asked of it
    expect(asked).toBe(10);
    expect(q.length).toBe(9_990);
  });
});
