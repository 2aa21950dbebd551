// Every schema statement ringtail issues, as the stores issue them (`ringtail clickhouse ddl`,
// docs/scale-out.md "Cluster layout", test/unit/clickhouse-ddl.test.ts): built from the same
// lists and the same rewriting (layout.ts) that the stores run, so the listing cannot drift.
import { SCHEMA_TABLE } from './component-schema.js';
import { ALERTS_TABLES } from './alerts-schema.js';
import { AUTH_TABLES } from './auth-schema.js';
import { HOSTS_TABLES } from './hosts-schema.js';
import { forLayout, type Layout } from './layout.js';
import { metricsMigrations, metricsTables, rowsTtl } from './metrics-schema.js';
import { deleteLinesSql, dropDaySql } from './retention.js';
import { logsStatements, logsTtlSql } from './schema.js';

export interface DdlGroup {
  /** what the statements are for (a comment in the listing) */
  title: string;
  statements: string[];
}

/**
 * The statements on a new database, in the order the collector runs them (logs, auth, alerts,
 * metrics, host states, each opening with ringtail_schema; all IF NOT EXISTS), then those of an upgrade and
 * of retention on a cluster (where they name the shards' tables).
 */
export function schemaDdl(database: string, layout: Layout, ttlDays?: number): DdlGroup[] {
  const run = (list: readonly string[]) => list.flatMap((q) => forLayout(q, layout));
  const groups: DdlGroup[] = [
    { title: 'the database', statements: run([`CREATE DATABASE IF NOT EXISTS ${database}`]) },
    { title: 'log lines (component logs)', statements: run(logsStatements(ttlDays)) },
    { title: 'tokens, claims, dashboard sessions (component auth)', statements: run([SCHEMA_TABLE, ...AUTH_TABLES]) },
    { title: 'alert rules, state, history, outbox (component alerts)', statements: run([SCHEMA_TABLE, ...ALERTS_TABLES]) },
    { title: 'metric series (component metrics)', statements: run([SCHEMA_TABLE, ...metricsTables(ttlDays)]) },
    { title: 'host lifecycle states (component hosts)', statements: run([SCHEMA_TABLE, ...HOSTS_TABLES]) },
    { title: 'upgrade of metric schema 2 to 3 (run by the collector when it finds version 2)', statements: run(metricsMigrations(2, ttlDays)) },
    {
      title: 'every later start: the CREATE … IF NOT EXISTS above again (no-ops), then',
      statements: run([...(ttlDays !== undefined ? [logsTtlSql(ttlDays)] : []), `ALTER TABLE metric_rows MODIFY TTL ${rowsTtl(ttlDays)}`]),
    },
  ];
  if (layout) {
    groups.push({
      title: 'retention on a cluster (<DAY>: a day number, ts / 86400000; <MS>: ms since the epoch)',
      statements: [dropDaySql(layout, 0).replace("'0'", "'<DAY>'"), deleteLinesSql(layout, 'ts < <MS>')],
    });
  }
  return groups;
}

/** the listing as SQL text: each group under a comment, statements ended by `;` */
export function ddlText(groups: DdlGroup[]): string {
  return groups.map((g) => `-- ${g.title}\n${g.statements.map((s) => `${s};\n`).join('\n')}`).join('\n');
}
