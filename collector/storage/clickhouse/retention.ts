// Retention on ClickHouse. The table's TTL (options.ttlDays, schema.ts) drops whole days on its
// own; these calls serve the collector's retention scheduler (collector/retention.ts) as the
// SQLite store's do. Days entirely before the cutoff are dropped as partitions (no rewrite);
// the rest goes by a lightweight DELETE (rows masked at once, purged by later merges). Both are
// one statement whatever the count, so `limit` bounds nothing here: a call deletes all lines
// before the cutoff and returns how many there were.
//
// On a cluster (layout.ts) the lines are in each shard's logs_local: the partitions dropped and
// the lines deleted there are named ON CLUSTER, with the values written in the statement (the
// distributed DDL queue carries the statement's text, not its parameters; they are integers
// checked here), the days to drop are read from the lines themselves through the Distributed
// logs, and the bytes used are summed over every server's parts.
import type { ClickHouseClient } from '@clickhouse/client';
import { ID_SQL } from './ids.js';
import type { Layout } from './layout.js';
import type { AsyncRetentionOps } from './types.js';

const DAY_MS = 86_400_000;

/** an integer written into a statement (not bound): refused unless it is one */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`not an integer: ${n}`);
  return String(n);
}

/** on a cluster: a day's partition of the log lines dropped on every shard */
export function dropDaySql(layout: NonNullable<Layout>, day: number): string {
  return `ALTER TABLE logs_local ON CLUSTER \`${layout.cluster}\` DROP PARTITION ID '${int(day)}'`;
}

/** on a cluster: the log lines matching `where` (integers written in) deleted on every shard */
export function deleteLinesSql(layout: NonNullable<Layout>, where: string): string {
  return `DELETE FROM logs_local ON CLUSTER \`${layout.cluster}\` WHERE ${where}`;
}

export function clickhouseRetention(client: ClickHouseClient, layout?: Layout): AsyncRetentionOps {
  const one = async <T>(query: string, query_params: Record<string, unknown> = {}): Promise<T | undefined> => {
    const rs = await client.query({ query, query_params, format: 'JSONEachRow' });
    return ((await rs.json()) as T[])[0];
  };
  // lightweight deletes must be visible to the next read: the statement waits for its mutation
  const DELETE_SETTINGS = { lightweight_deletes_sync: '2', mutations_sync: '2' } as const;

  return {
    async deleteOlderThan(before) {
      const n = Number((await one<{ n: number }>('SELECT count() AS n FROM logs WHERE ts < {before:Int64}', { before }))?.n ?? 0);
      if (n === 0) return 0;
      // partitions are days (intDiv(ts, 86400000)): those ending by the cutoff go whole
      const lastWhole = Math.floor(before / DAY_MS) - 1;
      if (layout) {
        const days = await client.query({
          query: 'SELECT DISTINCT intDiv(ts, 86400000) AS day FROM logs WHERE ts < {before:Int64} AND intDiv(ts, 86400000) <= {last:Int64}',
          query_params: { before, last: lastWhole },
          format: 'JSONEachRow',
        });
        for (const { day } of (await days.json()) as Array<{ day: number }>) {
          await client.command({ query: dropDaySql(layout, Number(day)) });
        }
        await client.command({ query: deleteLinesSql(layout, `ts < ${int(before)}`), clickhouse_settings: DELETE_SETTINGS });
        return n;
      }
      const rs = await client.query({
        query: `SELECT DISTINCT partition_id AS id FROM system.parts WHERE database = currentDatabase() AND table = 'logs' AND active AND toInt64(partition_id) <= {last:Int64}`,
        query_params: { last: lastWhole },
        format: 'JSONEachRow',
      });
      for (const { id } of (await rs.json()) as Array<{ id: string }>) {
        await client.command({ query: 'ALTER TABLE logs DROP PARTITION ID {id:String}', query_params: { id } });
      }
      const left = Number((await one<{ n: number }>('SELECT count() AS n FROM logs WHERE ts < {before:Int64}', { before }))?.n ?? 0);
      if (left > 0) await client.command({ query: 'DELETE FROM logs WHERE ts < {before:Int64}', query_params: { before }, clickhouse_settings: DELETE_SETTINGS });
      return n;
    },

    async deleteOldest(limit) {
      if (limit <= 0) return 0;
      // the limit-th oldest line (ts, then id) bounds what goes
      const cut = await one<{ ts: number; id: number }>(`SELECT ts, ${ID_SQL} AS id FROM logs ORDER BY ts, id LIMIT 1 OFFSET {skip:UInt64}`, { skip: limit - 1 });
      const where = cut ? `ts < {ts:Int64} OR (ts = {ts:Int64} AND ${ID_SQL} <= {id:UInt64})` : '1';
      const params = cut ? { ts: Number(cut.ts), id: Number(cut.id) } : {};
      if (layout) {
        // ids are per shard: the whole millisecond of the limit-th line goes (a few more lines at most)
        const upTo = cut ? `ts <= ${int(Number(cut.ts))}` : '1';
        const n = Number((await one<{ n: number }>(`SELECT count() AS n FROM logs WHERE ${upTo}`))?.n ?? 0);
        if (n > 0) await client.command({ query: deleteLinesSql(layout, upTo), clickhouse_settings: DELETE_SETTINGS });
        return n;
      }
      const n = Number((await one<{ n: number }>(`SELECT count() AS n FROM logs WHERE ${where}`, params))?.n ?? 0);
      if (n > 0) await client.command({ query: `DELETE FROM logs WHERE ${where}`, query_params: params, clickhouse_settings: DELETE_SETTINGS });
      return n;
    },

    async usedBytes() {
      const from = layout ? `clusterAllReplicas('${layout.cluster}', system.parts) WHERE database = '${layout.database}'` : 'system.parts WHERE database = currentDatabase()';
      const r = await one<{ b: number }>(`SELECT sum(bytes_on_disk) AS b FROM ${from} AND active`);
      return Number(r?.b ?? 0);
    },
  };
}
