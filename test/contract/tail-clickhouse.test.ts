// The live tail of a collector whose lines are in ClickHouse, over a real socket: line ids are
// not dense there (block number × 2^20 + place in the block), lines stored by another collector
// reach this one's tail (it looks every pollMs), a search filters them (matchIds), and a
// reconnect replays what it missed within the line budget without any arithmetic on ids.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf } from '../helpers/collector.js';
import { waitFor } from '../helpers/proc.js';
import { chdbTailRig, tailLogs as logs, type TailRig } from './chdb-tail-rig.js';

let rig: TailRig;
let seq = 0;

beforeAll(async () => {
  rig = await chdbTailRig('tail', { tail: { heartbeatMs: 1000, pollMs: 100, maxReplayLines: 2 } });
});
afterAll(async () => {
  await rig?.close();
});

const ingestHere = (messages: string[], host: string) => rig.ingestHere(messages, host);
/** one batch per message, each its own INSERT (its own block: ids 2^20 apart) */
async function ingestElsewhere(messages: string[], host: string) {
  for (const m of messages) await rig.other.ingest(batchOf([m], { stream: `other-${seq++}`, host }), Date.now());
}
const subscribe = (query: string, headers: Record<string, string> = {}) => rig.subscribe(query, headers);

describe('live tail on ClickHouse', () => {
  it("shows this collector's lines and another collector's, in commit order, with the search applied", async () => {
    const all = await subscribe('host=t1');
    const fts = await subscribe('host=t1&q=disk');
    await ingestHere(['disk full here', 'fine here'], 't1');
    await ingestElsewhere(['disk full elsewhere', 'fine elsewhere'], 't1');
    await waitFor('four lines', () => logs(all).length === 4, 20_000, 50);
    expect(logs(all).map((l) => l.message)).toEqual(['disk full here', 'fine here', 'disk full elsewhere', 'fine elsewhere']);
    const ids = logs(all).map((l) => l.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // not dense: the other collector's two lines are two inserts, two blocks
    expect(ids[3]! - ids[2]!).toBeGreaterThanOrEqual(1 << 20);
    await waitFor('two matches', () => logs(fts).length === 2, 20_000, 50);
    expect(logs(fts).map((l) => l.message)).toEqual(['disk full here', 'disk full elsewhere']);
    all.close();
    fts.close();
  });

  it('replays the newest missed lines within max_replay_lines after a reconnect (Last-Event-ID)', async () => {
    const first = await subscribe('host=t2');
    await ingestHere(['m1'], 't2');
    await waitFor('m1', () => logs(first).length === 1, 20_000, 50);
    const lastId = first.events.at(-1)!.id!;
    first.close();
    await ingestElsewhere(['m2', 'm3', 'm4'], 't2');
    const again = await subscribe('host=t2', { 'last-event-id': lastId });
    await waitFor('m3, m4', () => logs(again).length >= 2, 20_000, 50);
    // three missed, the budget is two: the newest two, never m2 (id arithmetic would have kept one)
    await ingestHere(['m5'], 't2');
    await waitFor('m5', () => logs(again).length === 3, 20_000, 50);
    expect(logs(again).map((l) => l.message)).toEqual(['m3', 'm4', 'm5']);
    again.close();
  });
});
