// Several metric groups in flight at once (collector/metrics/pipeline.ts): a group is started
// while earlier ones are unanswered (up to maxInFlight), a host's requests are never in two
// groups in flight (a later one waits for the earlier group's answer, in order), each unit is
// answered only when its own group is, and a failed group fails its own units alone.
import { describe, expect, it } from 'vitest';
import { PipelinedWriter } from '../../collector/metrics/pipeline.js';
import { UnavailableError } from '../../collector/ingest/unavailable.js';
import { waitFor } from '../helpers/proc.js';

interface Unit {
  host: string;
  n: number;
  values: number;
  /** creates series (a host's first request) */
  heavy?: boolean;
}

/** a writer whose groups are answered by hand: started groups are recorded with their settlers */
function manual(maxInFlight = 2, maxWeight = 10, heavy?: { maxHeavyWeight: number; maxHeavyInFlight: number }) {
  const started: Array<{ units: Unit[]; ok(): void; fail(e: Error): void }> = [];
  const w = new PipelinedWriter<Unit, string>(
    (units) =>
      new Promise((resolve, reject) => {
        started.push({ units, ok: () => resolve(units.map((u) => `ack ${u.host}#${u.n}`)), fail: reject });
      }),
    { weight: (u) => u.values, key: (u) => u.host, maxWeight, maxInFlight, maxQueuedWeight: 100, what: 'the metric batch', ...(heavy ? { heavy: (u: Unit) => u.heavy === true, ...heavy } : {}) },
  );
  return { w, started };
}

describe('metric pipeline', () => {
  it('starts the next group before the first is answered, up to maxInFlight; answers each unit with its own group', async () => {
    const { w, started } = manual(2, 10);
    const settled: string[] = [];
    const submit = (u: Unit) => w.submit(u).then((a) => settled.push(a));
    void submit({ host: 'a', n: 1, values: 10 });
    void submit({ host: 'b', n: 1, values: 10 });
    void submit({ host: 'c', n: 1, values: 10 });
    await waitFor('two groups in flight', () => started.length === 2, 2000);
    // the third waits for a free place, not for both
    await new Promise((r) => setImmediate(r));
    expect(started.length).toBe(2);
    expect(started.map((g) => g.units.map((u) => u.host))).toEqual([['a'], ['b']]);
    started[1]!.ok();
    await waitFor('b answered and c started', () => settled.length === 1 && started.length === 3, 2000);
    expect(settled).toEqual(['ack b#1']);
    started[0]!.ok();
    started[2]!.ok();
    await w.drain();
    expect(settled.sort()).toEqual(['ack a#1', 'ack b#1', 'ack c#1']);
  });

  it("a host's later request waits for its earlier group's answer, and others overtake it meanwhile", async () => {
    const { w, started } = manual(4, 10);
    const order: string[] = [];
    void w.submit({ host: 'a', n: 1, values: 10 }).then((x) => order.push(x));
    await waitFor('a#1 in flight', () => started.length === 1, 2000);
    void w.submit({ host: 'a', n: 2, values: 1 }).then((x) => order.push(x));
    void w.submit({ host: 'b', n: 1, values: 1 }).then((x) => order.push(x));
    await waitFor('b started', () => started.length === 2, 2000);
    expect(started[1]!.units.map((u) => `${u.host}#${u.n}`)).toEqual(['b#1']);
    await new Promise((r) => setImmediate(r));
    expect(started.length).toBe(2); // a#2 still queued behind a#1
    expect(w.queued).toBe(1);
    started[0]!.ok();
    await waitFor('a#2 started after a#1 answered', () => started.length === 3, 2000);
    expect(order).toEqual(['ack a#1']);
    expect(started[2]!.units.map((u) => `${u.host}#${u.n}`)).toEqual(['a#2']);
    started[1]!.ok();
    started[2]!.ok();
    await w.drain();
  });

  it('a failed group answers its own units with a 503; the others stand', async () => {
    const { w, started } = manual(2, 1);
    const one = w.submit({ host: 'a', n: 1, values: 1 });
    const two = w.submit({ host: 'b', n: 1, values: 1 });
    await waitFor('both in flight', () => started.length === 2, 2000);
    started[0]!.fail(new Error('disk I/O error'));
    started[1]!.ok();
    await expect(one).rejects.toBeInstanceOf(UnavailableError);
    await expect(two).resolves.toBe('ack b#1');
  });

  it('refuses (503, saturated) a unit that would take the queue past its bound; one alone is always taken', () => {
    const { w } = manual(1, 10);
    expect(() => w.admit(1000)).not.toThrow();
    void w.submit({ host: 'a', n: 1, values: 90 }).catch(() => {});
    expect(() => w.admit(10)).not.toThrow();
    expect(() => w.admit(11)).toThrow(/saturated/);
  });

  it('heavy units (first requests) go in smaller groups of their own and hold at most their places; light ones start beside them', async () => {
    const { w, started } = manual(3, 10, { maxHeavyWeight: 2, maxHeavyInFlight: 1 });
    const names = (g: { units: Unit[] }) => g.units.map((u) => `${u.host}#${u.n}`);
    for (const h of ['n1', 'n2', 'n3']) void w.submit({ host: h, n: 1, values: 1, heavy: true });
    void w.submit({ host: 'a', n: 1, values: 1 });
    void w.submit({ host: 'b', n: 1, values: 1 });
    await waitFor('a light and a heavy group', () => started.length === 2, 2000);
    await new Promise((r) => setImmediate(r));
    // one heavy group of two (its weight bound), the light ones together; n3 waits for the heavy place
    expect(started.map(names).sort()).toEqual([['a#1', 'b#1'], ['n1#1', 'n2#1']]);
    void w.submit({ host: 'c', n: 1, values: 1 });
    await waitFor('c started in the third place', () => started.length === 3, 2000);
    expect(names(started[2]!)).toEqual(['c#1']);
    started.find((g) => g.units[0]!.host === 'n1')!.ok();
    await waitFor('n3 after the heavy place is free', () => started.length === 4, 2000);
    expect(names(started[3]!)).toEqual(['n3#1']);
    for (const g of started) g.ok();
    await w.drain();
  });

  it("a host's light unit queued behind its heavy one does not overtake it", async () => {
    const { w, started } = manual(4, 10, { maxHeavyWeight: 10, maxHeavyInFlight: 1 });
    const order: string[] = [];
    void w.submit({ host: 'x', n: 0, values: 1, heavy: true }).then((a) => order.push(a));
    await waitFor('x#0 in flight', () => started.length === 1, 2000);
    // the heavy place is taken: n waits, and its host's light unit behind it too
    void w.submit({ host: 'n', n: 1, values: 1, heavy: true }).then((a) => order.push(a));
    void w.submit({ host: 'n', n: 2, values: 1 }).then((a) => order.push(a));
    void w.submit({ host: 'b', n: 1, values: 1 }).then((a) => order.push(a));
    await waitFor('b started', () => started.length === 2, 2000);
    await new Promise((r) => setImmediate(r));
    expect(started.map((g) => g.units.map((u) => `${u.host}#${u.n}`))).toEqual([['x#0'], ['b#1']]);
    started[0]!.ok();
    await waitFor('n#1 started', () => started.length === 3, 2000);
    expect(started[2]!.units.map((u) => `${u.host}#${u.n}`)).toEqual(['n#1']);
    started[2]!.ok();
    await waitFor('n#2 started after n#1 answered', () => started.length === 4, 2000);
    expect(started[3]!.units.map((u) => `${u.host}#${u.n}`)).toEqual(['n#2']);
    started[1]!.ok();
    started[3]!.ok();
    await w.drain();
    expect(order.indexOf('ack n#1')).toBeLessThan(order.indexOf('ack n#2'));
  });

  it('a freed place goes to a waiting heavy unit before light ones queued with it (light ones kept every place under load)', async () => {
    const { w, started } = manual(2, 10, { maxHeavyWeight: 10, maxHeavyInFlight: 1 });
    const hosts = (g: { units: Unit[] }) => g.units.map((u) => u.host);
    void w.submit({ host: 'l1', n: 1, values: 10 });
    void w.submit({ host: 'l2', n: 1, values: 10 });
    await waitFor('both places taken by light groups', () => started.length === 2, 2000);
    void w.submit({ host: 'l3', n: 1, values: 10 });
    void w.submit({ host: 'new', n: 1, values: 10, heavy: true });
    void w.submit({ host: 'l4', n: 1, values: 10 });
    await new Promise((r) => setImmediate(r));
    started[0]!.ok();
    await waitFor('a third group', () => started.length === 3, 2000);
    expect(hosts(started[2]!)).toEqual(['new']);
    started[1]!.ok();
    await waitFor('l3 next', () => started.length === 4, 2000);
    expect(hosts(started[3]!)).toEqual(['l3']);
    for (const g of started.slice(2)) g.ok();
    await waitFor('l4 last', () => started.length === 5, 2000);
    started[4]!.ok();
    await w.drain();
  });

  // Which units a group takes, pinned (PipelinedWriter.take): queued units in order, passing over
  // those whose host is in flight or whose kind is the other one, a host passed over keeping its
  // later units behind it, and the group closed by the first unit that would take it past its
  // weight, whatever else kept that unit back.
  it('groups: in order, passing over hosts in flight and their later units, closed by the first unit over the weight', async () => {
    const { w, started } = manual(10, 5);
    const names = () => started.map((g) => g.units.map((u) => `${u.host}#${u.n}`));
    void w.submit({ host: 'a', n: 1, values: 5 });
    await waitFor('a#1 in flight', () => started.length === 1, 2000, 1);
    const queue: Array<[string, number, number]> = [['a', 2, 1], ['b', 1, 2], ['a', 3, 1], ['c', 1, 2], ['a', 4, 2], ['d', 1, 1], ['e', 1, 3], ['f', 1, 1]];
    for (const [host, n, values] of queue) void w.submit({ host, n, values });
    await waitFor('two more groups', () => started.length === 3, 2000, 1);
    // a#4 would take b#1 and c#1 past 5: it closes the group although a is in flight anyway
    expect(names()).toEqual([['a#1'], ['b#1', 'c#1'], ['d#1', 'e#1', 'f#1']]);
    expect(w.queued).toBe(3);
    started[0]!.ok();
    await waitFor("a's units after a#1's answer", () => started.length === 4, 2000, 1);
    expect(names()[3]).toEqual(['a#2', 'a#3', 'a#4']);
    for (const g of started.slice(1)) g.ok();
    await w.drain();
    expect(started.length).toBe(4);
  });

  it('groups of each kind: a heavy group passes over light units (and their hosts), the light group over heavy ones', async () => {
    const { w, started } = manual(10, 5, { maxHeavyWeight: 3, maxHeavyInFlight: 10 });
    const names = () => started.map((g) => g.units.map((u) => `${u.host}#${u.n}`));
    const queue: Array<[string, number, number, boolean]> = [['n', 1, 1, true], ['b', 1, 1, false], ['n', 2, 1, false], ['m', 1, 2, true], ['c', 1, 1, false], ['p', 1, 1, true]];
    for (const [host, n, values, heavy] of queue) void w.submit({ host, n, values, heavy });
    await waitFor('three groups', () => started.length === 3, 2000, 1);
    // n#2 is light but stays behind its host's heavy n#1, then behind n#1's group in flight
    expect(names()).toEqual([['n#1', 'm#1'], ['b#1', 'c#1'], ['p#1']]);
    expect(w.queued).toBe(1);
    started[0]!.ok();
    await waitFor('n#2 after n#1', () => started.length === 4, 2000, 1);
    expect(names()[3]).toEqual(['n#2']);
    for (const g of started.slice(1)) g.ok();
    await w.drain();
  });
});
