// Each part of the ClickHouse store (logs, auth, alerts, metrics) records its schema version in
// ringtail_schema under its own component name, so that a database is upgraded part by part and a
// part written by a newer ringtail is refused before anything is written to it.
import type { ClickHouseClient } from '@clickhouse/client';
import { ConfigError, ErrorCodes, RingtailError } from '../../../shared/errors.js';
import { forLayout, type Layout } from './layout.js';

export const SCHEMA_TABLE = `CREATE TABLE IF NOT EXISTS ringtail_schema (component String, version UInt32, written_at DateTime DEFAULT now())
ENGINE = ReplacingMergeTree(version) ORDER BY component`;

/** Runs a schema statement as the layout has it (ON CLUSTER and replicated engines on a cluster, layout.ts). */
export async function runDdl(client: ClickHouseClient, sql: string, layout: Layout, settings?: Record<string, number | string>): Promise<void> {
  for (const query of forLayout(sql, layout)) {
    try {
      await client.command({ query, ...(settings ? { clickhouse_settings: settings } : {}) });
    } catch (err) {
      // a cluster the server does not know is a mistake in the configuration, not an outage to retry
      const e = err as { type?: string; code?: string };
      if (layout && (e.type === 'CLUSTER_DOESNT_EXIST' || e.code === '701')) {
        throw new ConfigError('clickhouse.cluster', `the ClickHouse server has no cluster '${layout.cluster}' in its remote_servers configuration (ClickHouse: ${(err as Error).message})`);
      }
      throw err;
    }
  }
}

/** The version `component` was last recorded at (0: never), with ringtail_schema created if absent. */
export async function recordedVersion(client: ClickHouseClient, component: string, layout?: Layout): Promise<number> {
  await runDdl(client, SCHEMA_TABLE, layout);
  const rs = await client.query({
    query: 'SELECT max(version) AS v FROM ringtail_schema WHERE component = {c:String}',
    query_params: { c: component },
    format: 'JSONEachRow',
  });
  return Number(((await rs.json()) as Array<{ v: number | string }>)[0]?.v ?? 0);
}

/** Refuses a component that a newer ringtail wrote (`label`: how the message names it). */
export function refuseNewer(database: string, label: string, found: number, reads: number): void {
  if (found <= reads) return;
  throw new RingtailError(
    ErrorCodes.STORAGE,
    `ClickHouse database '${database}' holds ${label} schema version ${found}, written by a newer ringtail (this one reads version ${reads}): upgrade ringtail, or point --clickhouse-database at another database`,
    500,
  );
}

export async function recordVersion(client: ClickHouseClient, component: string, version: number): Promise<void> {
  await client.insert({ table: 'ringtail_schema', values: [{ component, version }], format: 'JSONEachRow' });
}

/**
 * A component whose tables are all `CREATE … IF NOT EXISTS` (idempotent: several collectors may
 * start at once): created, or checked, and its version recorded.
 */
export async function ensureComponent(client: ClickHouseClient, database: string, component: string, label: string, version: number, statements: readonly string[], layout?: Layout): Promise<void> {
  const found = await recordedVersion(client, component, layout);
  refuseNewer(database, label, found, version);
  for (const q of statements) await runDdl(client, q, layout);
  if (found !== version) await recordVersion(client, component, version);
}
