// The live tail of a ClickHouse cluster (ids.ts 'key', tail-feed.ts), on chdb: the SQL is the
// cluster's own (plain columns of `logs`, which on a cluster is the Distributed table), run here
// on one server's tables. Two store handles stand for two collectors; each INSERT carries the
// received_at its collector gave it, so lines become visible out of key order as they do on a
// cluster (another collector's group commit, a replica that fetches a part late).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import type { AsyncLogStore } from '../../collector/storage/clickhouse/types.js';
import type { TailFeed } from '../../collector/storage/types.js';
import type { LogItem } from '../../shared/wire.js';
import { batchOf } from '../helpers/collector.js';
import { chdbForFile } from './chdb-fixture.js';

const chdb = chdbForFile('ringtail-chdb-feed-');
const LOOKBACK = 20_000;
let a: AsyncLogStore;
let b: AsyncLogStore;
let n = 0;

beforeAll(async () => {
  const opts = { url: chdb.server.url, database: 'feed', lineIds: 'key' as const, tailLookbackMs: LOOKBACK };
  a = await openClickHouseLogStore(opts);
  b = await openClickHouseLogStore(opts);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
});

/** a range of `count` lines of a new stream, stored by `store` as received at `receivedAt` */
async function range(store: AsyncLogStore, tag: string, count: number, receivedAt: number): Promise<string[]> {
  const messages = Array.from({ length: count }, (_, i) => `${tag} line ${i}`);
  const ack = await store.ingest(batchOf(messages, { stream: `s-${tag}-${n++}`, host: 'feed-host' }), receivedAt);
  expect(ack.accepted).toBe(count);
  return messages;
}

/** everything the feed has waiting, in small chunks */
async function drain(feed: TailFeed, chunk = 3): Promise<LogItem[]> {
  const out: LogItem[] = [];
  for (;;) {
    const got = await feed.next(chunk);
    if (got.length === 0) return out;
    out.push(...got);
  }
}

const messages = (items: LogItem[]) => items.map((i) => i.message);

describe('live tail feed on a cluster layout (key ids)', () => {
  it('returns every line of two collectors inserting interleaved ranges, a late one included, each once', async () => {
    const t = Date.now();
    const before = await range(a, 'before', 2, t - 1_000);
    const feed = a.tailFeed!();
    expect(await drain(feed)).toEqual([]);
    const a1 = await range(a, 'a1', 4, t + 200);
    expect(messages(await drain(feed))).toEqual(a1);
    // collector B received its range before A's, and its INSERT lands only now: a key below the
    // lines already returned (a watermark on received_at would step over it)
    const b1 = await range(b, 'b1', 3, t + 100);
    expect(messages(await drain(feed))).toEqual(b1);
    // interleaved: A, B, A, B with keys out of their insert order
    const a2 = await range(a, 'a2', 2, t + 400);
    const b2 = await range(b, 'b2', 5, t + 300);
    const a3 = await range(a, 'a3', 1, t + 600);
    const b3 = await range(b, 'b3', 2, t + 500);
    const got = await drain(feed, 4);
    // one look saw them all: returned in key order (received_at, stream, offset)
    expect(messages(got)).toEqual([...b2, ...a2, ...b3, ...a3]);
    expect(new Set(got.map((i) => i.id)).size).toBe(got.length);
    expect(await drain(feed)).toEqual([]);
    expect(messages(got)).not.toContain(before[0]);
  });

  it('a line stored after the feed was made but received just before it, and one seen before the first look, count as new', async () => {
    const t = Date.now();
    const feed = b.tailFeed!();
    // stored before the feed's first look, received after it was made
    const early = await range(a, 'early', 2, t + 50);
    expect(messages(await drain(feed))).toEqual(early);
  });

  it('a second feed (another collector) returns the same lines; a search picks among them (matchIds)', async () => {
    const t = Date.now();
    const fa = a.tailFeed!();
    const fb = b.tailFeed!();
    await drain(fa);
    await drain(fb);
    const x = await range(b, 'disk full', 2, t + 100);
    const y = await range(a, 'all fine', 2, t + 90);
    const ga = await drain(fa);
    const gb = await drain(fb);
    expect(messages(ga)).toEqual([...y, ...x]);
    expect(gb.map((i) => i.id)).toEqual(ga.map((i) => i.id));
    const hits = await fa.matchIds('disk', ga);
    expect(ga.filter((i) => hits.has(i.id)).map((i) => i.message)).toEqual(x);
    expect(await fa.matchIds('disk', [])).toEqual(new Set());
  });

  it('what holds: a line readable later than the lookback after its receipt is not a tail line', async () => {
    const t = Date.now();
    const feed = a.tailFeed!();
    await drain(feed);
    await range(b, 'too-late', 1, t - LOOKBACK - 5_000);
    const inTime = await range(b, 'in-time', 1, t - LOOKBACK + 5_000);
    expect(messages(await drain(feed))).toEqual(inTime);
  });

  it('lines deleted from the window (retention, forget) neither stop the feed nor come back', async () => {
    const t = Date.now();
    const feed = a.tailFeed!();
    await drain(feed);
    const gone = await range(a, 'gone', 2, t + 10);
    expect(messages(await drain(feed))).toEqual(gone);
    await a.retention.deleteOlderThan(Date.UTC(2030, 0, 1), 1_000_000); // every line (their ts is 2023)
    expect((await a.query({ limit: 5 })).items).toEqual([]);
    expect(await drain(feed)).toEqual([]);
    const after = await range(b, 'after-delete', 2, t + 20);
    expect(messages(await drain(feed))).toEqual(after);
  });

  it('the id-ordered calls are refused with key ids (nothing may order lines by them)', async () => {
    await expect(a.maxId()).rejects.toThrow(/not in commit order/);
    await expect(a.since(0, 10)).rejects.toThrow(/not in commit order/);
  });
});
