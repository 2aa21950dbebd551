// The evaluator lease on ClickHouse: one owner (the alert evaluator), the protocol of the metric
// series leases (metrics-lease.ts):
//   - the current lease is the highest epoch in alert_leases; its holder is that epoch's
//     collector, its expiry the expiry written last (a renewal or a release adds a row);
//   - a free (expired, released, never taken) lease is claimed as epoch + 1 with the insert token
//     `alerts-lease:<epoch+1>`: when collectors claim at once the table keeps one claim, and
//     each reads back whose it is;
//   - the holder renews at every turn (every evaluation interval), so a lease of lease_s lapses
//     only when its holder stops, hangs or loses ClickHouse for that long.
// Clocks: collectors' clocks must agree to well within a lease (NTP's milliseconds against 30 s).
import type { ClickHouseClient } from '@clickhouse/client';
import type { EvaluatorLease } from '../types.js';
import { consistencyOf } from './consistency.js';
import type { Layout } from './layout.js';

interface Held {
  epoch: number;
  collector: string;
  expiresMs: number;
}

/** layout: on a cluster, lease rows are written to a quorum and read sequentially consistent (consistency.ts) */
export function clickhouseEvaluatorLease(client: ClickHouseClient, opts: { collectorId: string; leaseMs: number; clock: () => number; layout?: Layout }): EvaluatorLease {
  const consistency = consistencyOf(opts.layout);
  let mine: Held | null = null;
  let seen: Held | null = null;
  let lastWritten = 0;
  // strictly increasing: the last written row of an epoch says its expiry
  const written = () => (lastWritten = Math.max(opts.clock(), lastWritten + 1));

  const current = async (): Promise<Held | null> => {
    const rs = await client.query({
      query: `SELECT epoch, any(collector) AS collector, argMax(expires_ms, written_ms) AS expires
FROM alert_leases GROUP BY epoch ORDER BY epoch DESC LIMIT 1`,
      format: 'JSONEachRow',
      clickhouse_settings: consistency.read,
    });
    const r = ((await rs.json()) as Array<{ epoch: number; collector: string; expires: number }>)[0];
    seen = r ? { epoch: Number(r.epoch), collector: r.collector, expiresMs: Number(r.expires) } : null;
    return seen;
  };
  const put = (epoch: number, expiresMs: number, token?: string) =>
    client.insert({
      table: 'alert_leases',
      values: [{ epoch, collector: opts.collectorId, expires_ms: expiresMs, written_ms: written() }],
      format: 'JSONEachRow',
      clickhouse_settings: { ...consistency.write, ...(token ? { insert_deduplication_token: token } : {}) },
    });

  return {
    async acquire() {
      const now = opts.clock();
      const cur = await current();
      const expiresMs = now + opts.leaseMs;
      if (cur && cur.expiresMs > now) {
        if (cur.collector !== opts.collectorId || mine?.epoch !== cur.epoch) {
          mine = null;
          return false;
        }
        await put(cur.epoch, expiresMs);
        mine = { ...cur, expiresMs };
        seen = mine;
        return true;
      }
      const epoch = (cur?.epoch ?? 0) + 1;
      await put(epoch, expiresMs, `alerts-lease:${epoch}`);
      const after = await current();
      mine = after && after.epoch === epoch && after.collector === opts.collectorId ? { epoch, collector: opts.collectorId, expiresMs } : null;
      return mine !== null;
    },
    holder() {
      return seen ? { collector: seen.collector, epoch: seen.epoch, expires_at: seen.expiresMs } : null;
    },
    async release() {
      const held = mine;
      mine = null;
      if (!held) return;
      const now = opts.clock();
      await put(held.epoch, now);
      seen = { ...held, expiresMs: now };
    },
  };
}
