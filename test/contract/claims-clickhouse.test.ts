// The claim rule the shared token store rests on (collector/storage/clickhouse/claims.ts): a slot
// belongs to the row committed first, whoever reads it and whenever. Two collectors' clients
// claim the same slots at once; a loser's row that deduplication did not drop (as one arriving
// after the deduplication window would) still never wins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClickHouseClient } from '@clickhouse/client';
import { ensureAuthSchema } from '../../collector/storage/clickhouse/auth-schema.js';
import { Claims } from '../../collector/storage/clickhouse/claims.js';
import { ensureDatabase, openClient } from '../../collector/storage/clickhouse/connection.js';
import { chdbForFile } from './chdb-fixture.js';

const chdb = chdbForFile('ringtail-chdb-claims-');
const DB = 'claims_rule';
let c1: ClickHouseClient;
let c2: ClickHouseClient;

beforeAll(async () => {
  await ensureDatabase({ url: chdb.server.url, database: DB }, DB, chdb.server.url);
  c1 = openClient({ url: chdb.server.url, database: DB }, DB);
  c2 = openClient({ url: chdb.server.url, database: DB }, DB);
  await ensureAuthSchema(c1, DB);
});
afterAll(async () => {
  await c1?.close();
  await c2?.close();
});

describe('claims on ClickHouse', () => {
  it('two collectors claiming the same slot at once: one wins, both see the same winner', async () => {
    const [x, y] = [new Claims(c1), new Claims(c2)];
    for (let i = 0; i < 10; i++) {
      const [rx, ry] = await Promise.all([x.claim('enroll', 'race', i, 'from-x', 1000 + i), y.claim('enroll', 'race', i, 'from-y', 1000 + i)]);
      expect([rx.won, ry.won].filter(Boolean), `slot ${i}`).toHaveLength(1);
      expect(rx.winner).toEqual(ry.winner);
      expect(rx.winner.value).toBe(rx.won ? 'from-x' : 'from-y');
    }
    const latest = (await x.latest('enroll', ['race', 'never'])).get('race');
    expect(latest?.seq).toBe(9);
    expect((await y.latest('enroll', ['never'])).size).toBe(0);
  });

  it('a later row for a taken slot that deduplication let through does not take it over', async () => {
    const x = new Claims(c1);
    const first = await x.claim('host', 'tok_late', 0, 'web-1', 5000);
    expect(first.won).toBe(true);
    // another collector's claim for the same slot, stored (a different deduplication token stands
    // for one sent after the window forgot the first), with an earlier clock
    await c2.insert({ table: 'claims', values: [{ kind: 'host', key: 'tok_late', seq: 0, value: 'web-2', claimer: 'late', at: 1 }], format: 'JSONEachRow', clickhouse_settings: { insert_deduplication_token: 'other' } });
    const rows = await (await c1.query({ query: `SELECT count() AS n FROM claims WHERE key = 'tok_late'`, format: 'JSONEachRow' })).json<{ n: number }>();
    expect(Number(rows[0]!.n)).toBe(2);
    expect(await x.slot('host', 'tok_late', 0)).toMatchObject({ value: 'web-1', claimer: first.winner.claimer });
    // and merged into one part, the order survives (block numbers are kept with the rows)
    await c1.command({ query: 'OPTIMIZE TABLE claims FINAL' });
    expect(await new Claims(c2).slot('host', 'tok_late', 0)).toMatchObject({ value: 'web-1' });
    const again = await new Claims(c2).claim('host', 'tok_late', 0, 'web-3', 6000);
    expect(again).toMatchObject({ won: false, winner: { value: 'web-1' } });
  });
});
