// An unreachable ClickHouse: the store refuses with a 503 that carries Retry-After (so ingest
// answers as it does for a failed SQLite commit), the sender keeps what was not acknowledged and
// sends it again, re-cut into other batches, once ClickHouse is back: every line is stored
// exactly once. ClickHouse is killed (SIGKILL) while a write is in flight. The same through a
// collector's HTTP API (the app on the ClickHouse storage): 503 with Retry-After, then resent
// batches stored once.
import { describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { openClient } from '../../collector/storage/clickhouse/connection.js';
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import { clickhouseIngest } from '../../collector/storage/clickhouse/ingest.js';
import type { AsyncLogStore } from '../../collector/storage/clickhouse/types.js';
import { UnavailableError } from '../../collector/ingest/unavailable.js';
import { INGEST_PATH, WIRE_VERSION, type IngestAck, type IngestBatch, type LogItem, type WireLine } from '../../shared/wire.js';
import { openStorageAsync } from '../../collector/storage/factory.js';
import { testCollector } from '../helpers/collector.js';
import { tempDir, waitFor } from '../helpers/proc.js';
import { chdbForFile } from './chdb-fixture.js';

const chdb = chdbForFile('ringtail-chdb-outage-');

/** An agent's view of one stream: its lines, and the end the collector acknowledged. */
class Stream {
  lines: WireLine[] = [];
  acked = 0;
  constructor(
    readonly host: string,
    n: number,
  ) {
    let o = 0;
    for (let i = 0; i < n; i++) {
      const message = `${host} line ${i} request_id=${(i * 7919) % 10007}`;
      this.lines.push({ offset: o, ts: Date.UTC(2026, 11, 6) + i * 1000, severity: 6, program: 'app', message });
      o += Buffer.byteLength(message) + 1;
    }
  }
  end(i: number) {
    const l = this.lines[i];
    return l ? l.offset : this.lines[this.lines.length - 1]!.offset + Buffer.byteLength(this.lines[this.lines.length - 1]!.message) + 1;
  }
  /** the next batch from the acknowledged end, `size` lines */
  next(size: number): IngestBatch | null {
    const from = this.lines.findIndex((l) => l.offset >= this.acked);
    if (from < 0) return null;
    const to = Math.min(this.lines.length, from + size);
    return {
      version: WIRE_VERSION,
      agent_id: `agt-${this.host}`,
      host: this.host,
      segments: [{ stream: `s-${this.host}`, source: '/var/log/app.log', start: this.acked, end: this.end(to), lines: this.lines.slice(from, to) }],
    };
  }
  ack(a: IngestAck) {
    this.acked = Math.max(this.acked, a.committed[`s-${this.host}`] ?? 0);
  }
}

async function send(store: AsyncLogStore, streams: Stream[], size: number): Promise<boolean> {
  const items = streams.map((s) => s.next(size)).filter((b): b is IngestBatch => b !== null);
  if (items.length === 0) return false;
  const acks = await store.ingestMany(items.map((batch) => ({ batch, receivedAt: Date.now() })));
  acks.forEach((a, i) => streams.find((s) => s.host === items[i]!.host)!.ack(a));
  return true;
}

describe('ClickHouse store when ClickHouse goes away', () => {
  // a chdb restart loads the whole engine again: seconds alone, much longer on a loaded machine
  it('answers 503 with Retry-After while it is down and stores every line once after it returns', { timeout: 180_000 }, async () => {
    const store = await openClickHouseLogStore({ url: chdb.server.url, database: 'outage', requestTimeoutMs: 5_000 });
    const streams = ['web-1', 'web-2', 'web-3'].map((h) => new Stream(h, 400));
    try {
      for (let round = 0; round < 5; round++) await send(store, streams, 20);
      // killed while a write is in flight: its lines may or may not be stored, it is not acknowledged
      const inflight = send(store, streams, 30).then(
        () => 'acked',
        (e: unknown) => e,
      );
      await chdb.server.kill();
      const outcome = await inflight;
      if (outcome !== 'acked') expect(outcome).toBeInstanceOf(UnavailableError);
      const down = await store.ingestMany([{ batch: streams[0]!.next(5)!, receivedAt: Date.now() }]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(down).toBeInstanceOf(UnavailableError);
      expect(down).toMatchObject({ code: 'RINGTAIL_ERR_STORAGE', status: 503, retryAfterS: 5 });
      expect((down as Error).message).toMatch(/ClickHouse at http:\/\/127\.0\.0\.1:\d+ could not store lines/);
      await expect(store.query({ limit: 5 })).rejects.toBeInstanceOf(UnavailableError);

      await chdb.server.restart();
      // the agents send again from what was acknowledged, cut into other batches (7 lines)
      await waitFor('ClickHouse back', () => send(store, streams, 7).then(() => true), 30_000, 100);
      while (await send(store, streams, 7));

      for (const s of streams) expect(s.acked).toBe(s.end(s.lines.length));
      const got: LogItem[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.query({ limit: 500, cursor });
        got.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      const sent = streams.flatMap((s) => s.lines.map((l) => l.message)).sort();
      expect(got.map((l) => l.message).sort()).toEqual(sent);
    } finally {
      await store.close();
    }
  });
});

describe('ClickHouse store after a collector died between storing lines and recording their stream end', () => {
  it('drops the stored lines when they come again in other batches', async () => {
    const store = await openClickHouseLogStore({ url: chdb.server.url, database: 'halfway' });
    const client = openClient({ url: chdb.server.url, database: 'halfway' }, 'halfway');
    try {
      const s = new Stream('web-9', 50);
      s.ack((await store.ingest(s.next(10)!, Date.now()))!);
      // a collector whose connection broke right after the lines' INSERT: no stream end written, no ack
      const broken = new Proxy(client, {
        get(target, prop, receiver) {
          if (prop === 'insert') {
            return (p: { table: string }) => (p.table === 'logs' ? target.insert(p as never) : Promise.reject(new Error('socket hang up')));
          }
          return Reflect.get(target, prop, receiver);
        },
      }) as ClickHouseClient;
      await expect(clickhouseIngest(broken)([{ batch: s.next(15)!, receivedAt: Date.now() }])).rejects.toThrow('socket hang up');
      expect(s.acked).toBe(s.end(10));
      // the agent sends from its acknowledged end again, in batches of another size
      const acks: IngestAck[] = [];
      for (let b = s.next(8); b; b = s.next(8)) {
        const a = await store.ingest(b, Date.now());
        acks.push(a);
        s.ack(a);
      }
      // the first redelivered batch is all duplicates, and its ack already says the stream is
      // committed up to the end of the range stored (line 25's start): the agent goes on from there
      expect(acks[0]).toMatchObject({ accepted: 0, duplicates: 8, committed: { 's-web-9': s.end(25) } });
      expect(acks.slice(1).reduce((n, a) => n + a.duplicates, 0)).toBe(0);
      expect(acks.reduce((n, a) => n + a.accepted, 0)).toBe(50 - 25);
      const page = await store.query({ host: 'web-9', limit: 100 });
      expect(page.items.map((l) => l.message).sort()).toEqual(s.lines.map((l) => l.message).sort());
    } finally {
      await client.close();
      await store.close();
    }
  });
});

describe('ClickHouse store on a database it cannot use', () => {
  it('refuses tables it did not create and a schema from a newer ringtail, saying what to do', async () => {
    const admin = openClient({ url: chdb.server.url, database: 'default' });
    try {
      await admin.command({ query: 'CREATE DATABASE IF NOT EXISTS foreign_logs' });
      await admin.command({ query: 'CREATE TABLE IF NOT EXISTS foreign_logs.logs (x UInt8) ENGINE = MergeTree ORDER BY x' });
      await expect(openClickHouseLogStore({ url: chdb.server.url, database: 'foreign_logs' })).rejects.toThrow(
        /database 'foreign_logs' has a logs table that ringtail did not record creating .*use another --clickhouse-database/,
      );
      const store = await openClickHouseLogStore({ url: chdb.server.url, database: 'newer' });
      await store.close();
      await admin.insert({ table: 'newer.ringtail_schema', values: [{ component: 'logs', version: 99 }], format: 'JSONEachRow' });
      await expect(openClickHouseLogStore({ url: chdb.server.url, database: 'newer' })).rejects.toThrow(/schema version 99, written by a newer ringtail .*upgrade ringtail/);
      // a database name is written into DDL: only plain identifiers
      await expect(openClickHouseLogStore({ url: chdb.server.url, database: 'x; DROP DATABASE newer' })).rejects.toMatchObject({ code: 'RINGTAIL_ERR_CONFIG' });
      // reopening this version's schema is fine, and its lines are still there
      const again = await openClickHouseLogStore({ url: chdb.server.url, database: 'halfway' });
      expect((await again.query({ host: 'web-9', limit: 1 })).items.length).toBe(1);
      await again.close();
    } finally {
      await admin.close();
    }
  });
});

describe('a collector on ClickHouse when ClickHouse goes away (HTTP)', () => {
  it('answers ingest with 503 and Retry-After, reads with 503, and stores the resent batches once when it is back', { timeout: 180_000 }, async () => {
    const data = tempDir('ringtail-chdb-http-');
    const storage = await openStorageAsync({ backend: 'clickhouse', data: data.path, clickhouse: { url: chdb.server.url, database: 'http_outage' } });
    const c = await testCollector(undefined, { storage, dataDir: data.path });
    const agent = c.token('agent');
    const post = (b: IngestBatch) =>
      c.app.inject({ method: 'POST', url: INGEST_PATH, headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' }, payload: JSON.stringify(b) });
    const read = () => c.app.inject({ method: 'GET', url: '/api/v1/logs?host=http-1&limit=100', headers: { authorization: `Bearer ${c.token('viewer')}` } });
    try {
      const s = new Stream('http-1', 60);
      const first = await post(s.next(20)!);
      expect(first.statusCode, first.body).toBe(200);
      s.ack(first.json() as IngestAck);
      expect(s.acked).toBe(s.end(20));

      await chdb.server.kill();
      const refused = await post(s.next(20)!);
      expect(refused.statusCode, refused.body).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.json()).toMatchObject({ error: 'RINGTAIL_ERR_STORAGE' });
      expect(refused.json().message).toMatch(/ClickHouse at http:\/\/127\.0\.0\.1:\d+ could not store lines/);
      expect(s.acked).toBe(s.end(20));
      const down = await read();
      expect(down.statusCode, down.body).toBe(503);
      expect(down.headers['retry-after']).toBe('5');

      await chdb.server.restart();
      // the agent resends from its acknowledged end, the first batch once more too (a lost ack)
      await waitFor('ClickHouse back', async () => (await read()).statusCode === 200, 30_000, 100);
      const resent = s.next(20)!;
      const again = await post({ ...resent, segments: [{ ...resent.segments[0]!, start: 0, end: s.end(20), lines: s.lines.slice(0, 20) }] });
      expect(again.statusCode, again.body).toBe(200);
      expect(again.json()).toMatchObject({ accepted: 0, duplicates: 20 });
      for (let b = s.next(15); b; b = s.next(15)) {
        const r = await post(b);
        expect(r.statusCode, r.body).toBe(200);
        s.ack(r.json() as IngestAck);
      }
      expect(s.acked).toBe(s.end(60));
      const stored = (await read()).json() as { items: LogItem[] };
      expect(stored.items.map((l) => l.message).sort()).toEqual(s.lines.map((l) => l.message).sort());
    } finally {
      await c.close();
      await storage.close();
      data.cleanup();
    }
  });
});
