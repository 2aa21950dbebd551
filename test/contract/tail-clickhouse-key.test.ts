// The live tail over a real socket with a cluster's line ids (ids.ts 'key'): the hub follows
// the store's feed (tail-feed.ts) instead of since/maxId. Lines this collector stores and lines
// another collector stores late (a received_at below lines already shown) reach the client
// once each, a search filters them, and a reconnect's Last-Event-ID (an identity hash, not a
// position) starts from the present without error.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchOf } from '../helpers/collector.js';
import { waitFor } from '../helpers/proc.js';
import { chdbTailRig, tailLogs as logs, type TailRig } from './chdb-tail-rig.js';

let rig: TailRig;
let seq = 0;

beforeAll(async () => {
  rig = await chdbTailRig('tailkey', { lineIds: 'key', tail: { heartbeatMs: 1000, pollMs: 100 } });
});
afterAll(async () => {
  await rig?.close();
});

const ingestHere = (messages: string[], host: string) => rig.ingestHere(messages, host);
async function ingestElsewhere(messages: string[], host: string, receivedAt: number) {
  await rig.other.ingest(batchOf(messages, { stream: `other-${seq++}`, host }), receivedAt);
}
const subscribe = (query: string, headers: Record<string, string> = {}) => rig.subscribe(query, headers);

describe('live tail with cluster line ids', () => {
  it("shows this collector's lines and another collector's late ones once each, with the search applied", async () => {
    const all = await subscribe('host=k1');
    const fts = await subscribe('host=k1&q=disk');
    await ingestHere(['disk full here', 'fine here'], 'k1');
    await waitFor('two lines', () => logs(all).length === 2, 20_000, 50);
    // received 3 s ago by the other collector, stored only now: below the lines already shown
    await ingestElsewhere(['disk full late', 'fine late'], 'k1', Date.now() - 3_000);
    await waitFor('four lines', () => logs(all).length === 4, 20_000, 50);
    await waitFor('two matches', () => logs(fts).length === 2, 20_000, 50);
    // a few more looks find nothing new: each line once
    await ingestHere(['last'], 'k1');
    await waitFor('five lines', () => logs(all).length === 5, 20_000, 50);
    expect(logs(all).map((l) => l.message)).toEqual(['disk full here', 'fine here', 'disk full late', 'fine late', 'last']);
    expect(new Set(logs(all).map((l) => l.id)).size).toBe(5);
    expect(logs(fts).map((l) => l.message)).toEqual(['disk full here', 'disk full late']);
    all.close();
    fts.close();
  });

  it('a reconnect with Last-Event-ID starts at the present (no position to replay from) and goes on', async () => {
    const first = await subscribe('host=k2');
    await ingestHere(['m1'], 'k2');
    await waitFor('m1', () => logs(first).length === 1, 20_000, 50);
    const lastId = first.events.at(-1)!.id!;
    first.close();
    const again = await subscribe('host=k2', { 'last-event-id': lastId });
    await ingestHere(['m2'], 'k2');
    await waitFor('m2', () => logs(again).length === 1, 20_000, 50);
    expect(logs(again).map((l) => l.message)).toEqual(['m2']);
    again.close();
  });
});
