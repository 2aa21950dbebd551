// The chdb fixture against the real client: what @clickhouse/client sends (query in the URL or
// the body, parameters in the URL or a multipart body, settings per query, compressed bodies)
// gets ClickHouse's answers, and errors come back as the client parses the server's.
import { ClickHouseError, ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/proc.js';
import { startChdb, type ChdbServer } from './chdb-fixture.js';

const dir = tempDir('ringtail-chdb-fixture-');
let server: ChdbServer;
const clients: ClickHouseClient[] = [];
const client = (opts: Parameters<typeof createClient>[0] = {}) => {
  const c = createClient({ url: server.url, log: { level: ClickHouseLogLevel.OFF }, ...opts });
  clients.push(c);
  return c;
};

beforeAll(async () => {
  server = await startChdb(dir.path);
  await client().command({ query: 'CREATE DATABASE IF NOT EXISTS fx' });
  await client({ database: 'fx' }).command({
    query: 'CREATE TABLE t (a UInt32, s String) ENGINE = MergeTree ORDER BY a SETTINGS non_replicated_deduplication_window = 100',
  });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.stop();
  dir.cleanup();
});

const ODD = "it's a \\ back\tslash\nand 'quotes' {x:String} ; DROP TABLE t";

describe('chdb fixture: ClickHouse HTTP for @clickhouse/client', () => {
  it('answers ping and a parameterised query, values bound as data', async () => {
    const c = client({ database: 'fx' });
    expect((await c.ping()).success).toBe(true);
    const rs = await c.query({
      query: 'SELECT {s:String} AS s, {n:Int64} AS n, {arr:Array(String)} AS arr, currentDatabase() AS db',
      query_params: { s: ODD, n: -42, arr: [ODD, 'b'] },
      format: 'JSONEachRow',
    });
    expect(await rs.json()).toEqual([{ s: ODD, n: -42, arr: [ODD, 'b'], db: 'fx' }]);
  });

  it('takes parameters in a multipart body and compressed requests and responses', async () => {
    const c = client({ database: 'fx', use_multipart_params: true, compression: { request: true, response: true } } as never);
    await c.insert({ table: 't', values: [{ a: 100, s: ODD }], format: 'JSONEachRow' });
    const rs = await c.query({ query: 'SELECT s FROM t WHERE a = {a:UInt32} AND s = {s:String}', query_params: { a: 100, s: ODD }, format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([{ s: ODD }]);
  });

  it('deduplicates an insert by its token, and the token stays with that insert only', async () => {
    const c = client({ database: 'fx' });
    const rows = [
      { a: 1, s: 'x' },
      { a: 2, s: 'y' },
    ];
    for (let i = 0; i < 2; i++) await c.insert({ table: 't', values: rows, format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: 'tok-1' } });
    // other rows without a token, then the same rows with another token: both stored
    await c.insert({ table: 't', values: [{ a: 3, s: 'z' }], format: 'JSONEachRow' });
    await c.insert({ table: 't', values: rows, format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: 'tok-2' } });
    const rs = await c.query({ query: 'SELECT a, count() AS n FROM t WHERE a < 100 GROUP BY a ORDER BY a', format: 'JSONEachRow' });
    expect(await rs.json()).toEqual([
      { a: 1, n: 2 },
      { a: 2, n: 2 },
      { a: 3, n: 1 },
    ]);
    const s = await c.query({ query: "SELECT getSetting('insert_deduplication_token') AS t", format: 'JSONEachRow' });
    expect(await s.json()).toEqual([{ t: '' }]);
  });

  it('answers errors with the status, the exception code header and the server body', async () => {
    const c = client({ database: 'fx' });
    const err = await c.query({ query: 'SELECT nosuch FROM t', format: 'JSONEachRow' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClickHouseError);
    expect(err).toMatchObject({ code: '47', type: 'UNKNOWN_IDENTIFIER' });
    const res = await fetch(`${server.url}/?database=fx&query=${encodeURIComponent('SELECT * FROM nosuch')}`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-clickhouse-exception-code')).toBe('60');
    expect(await res.text()).toMatch(/^Code: 60\. DB::Exception: .*\(UNKNOWN_TABLE\) \(version \d+\.\d+/);
    const syntax = await fetch(server.url, { method: 'POST', body: 'SELEC 1' });
    expect([syntax.status, syntax.headers.get('x-clickhouse-exception-code')]).toEqual([400, '62']);
  });
});
