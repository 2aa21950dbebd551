// An unreachable ClickHouse under the metric series store: updates are refused with a 503 that
// carries Retry-After (as ingest answers for a failed SQLite commit), nothing of the refused call
// counts as stored, and the sender's resend once ClickHouse is back continues the series as if
// nothing had happened: the whole stream fetches what the arithmetic gives for it.
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../collector/ingest/unavailable.js';
import { openClickHouseSeriesStore } from '../../collector/storage/clickhouse/metrics-store.js';
import type { UpdateManyResult } from '../../collector/rrd/types.js';
import { chdbForFile } from './chdb-fixture.js';
import { fetchAll, reference, seriesCase } from './series.contract.js';

const chdb = chdbForFile('ringtail-chdb-series-outage-');

describe('series store with ClickHouse gone', () => {
  it('answers 503 with Retry-After while ClickHouse is down, and the resent updates continue the series', async () => {
    const store = await openClickHouseSeriesStore({ url: chdb.server.url, database: 'outage', collectorId: 'c1', requestTimeoutMs: 5_000 });
    try {
      const c = seriesCase(13, 'web-7/io');
      const want = reference(c);
      await store.create(c.name, c.def, { start: c.start });
      const half = Math.floor(c.batches.length / 2);
      for (const b of c.batches.slice(0, half)) await store.updateMany([{ series: c.name, args: b }]);

      await chdb.server.kill();
      const err = await store.updateMany([{ series: c.name, args: c.batches[half]! }]).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(UnavailableError);
      expect(err).toMatchObject({ status: 503, code: 'RINGTAIL_ERR_STORAGE' });
      expect((err as UnavailableError).retryAfterS).toBeGreaterThan(0);
      expect((err as Error).message).toMatch(/ClickHouse at http:\/\/127\.0\.0\.1:\d+ could not store metric updates, retry later/);

      await chdb.server.restart();
      // the sender resends from its first unacknowledged batch, as an agent does after a 503
      for (let k = half; k < c.batches.length; k++) {
        let res: UpdateManyResult | undefined;
        const deadline = Date.now() + 30_000;
        while (!res) {
          try {
            res = await store.updateMany([{ series: c.name, args: c.batches[k]! }]);
          } catch (e) {
            // the client's pooled sockets died with the server: a first request may fail again
            if (!(e instanceof UnavailableError) || Date.now() > deadline) throw e;
          }
        }
        expect(res.errors.get(0)?.message ?? '', `batch ${k}`).toBe(want.errors[k]);
      }
      expect(await fetchAll(store, c)).toEqual(want.fetches);
    } finally {
      await store.close();
    }
  }, 90_000);
});
