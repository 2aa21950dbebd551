// ClickHouse options checked before anything is sent (collector/storage/clickhouse/schema.ts,
// connection.ts): a bad `clickhouse.ttl_days` or database name is a config error naming its key,
// for the log store and the series store alike, even when no ClickHouse is listening (the port
// below is closed: a check made after connecting would answer "unavailable" instead).
import { describe, expect, it } from 'vitest';
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import { openClickHouseSeriesStore } from '../../collector/storage/clickhouse/metrics-store.js';
import { ConfigError } from '../../shared/errors.js';

const closed = { url: 'http://127.0.0.1:1', database: 'ringtail', requestTimeoutMs: 2_000 };

async function refusal(open: () => Promise<unknown>): Promise<ConfigError> {
  const err = await open().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('clickhouse options', () => {
  for (const ttlDays of [0, 1.5, -3]) {
    it(`ttl_days ${ttlDays} is refused by the log and the series store before connecting`, async () => {
      expect((await refusal(() => openClickHouseLogStore({ ...closed, ttlDays }))).key).toBe('clickhouse.ttl_days');
      expect((await refusal(() => openClickHouseSeriesStore({ ...closed, ttlDays }))).key).toBe('clickhouse.ttl_days');
    });
  }

  it('a database name that is not a plain identifier is refused before connecting', async () => {
    expect((await refusal(() => openClickHouseLogStore({ ...closed, database: 'a;drop' }))).key).toBe('clickhouse.database');
    expect((await refusal(() => openClickHouseSeriesStore({ ...closed, database: '1x' }))).key).toBe('clickhouse.database');
  });

  it('a good ttl_days passes the check: the closed port answers "unavailable", not a config error', async () => {
    const err = await openClickHouseLogStore({ ...closed, ttlDays: 7 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeDefined();
    expect(err).not.toBeInstanceOf(ConfigError);
  });
});
