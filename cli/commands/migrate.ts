// `ringtail migrate --from-data DIR --storage clickhouse --clickhouse-url URL`: copies the log
// lines of a SQLite data directory into ClickHouse, exactly once and resumable
// (collector/storage/clickhouse/migrate.ts says how; docs/scale-out.md when and why).
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { ClickHouseClusterOptions } from '../../collector/config.js';
import { openStorage, storageConfig } from '../../collector/storage/factory.js';
import { ConfigError } from '../../shared/errors.js';
import { withOptions, type Command } from '../command.js';

const Options = Type.Object(
  {
    from_data: Type.Optional(Type.String({ minLength: 1, description: 'data directory of the SQLite store to copy from (it may be in use by a running collector)' })),
    upgrade_schema: Type.Boolean({ default: false, description: "bring the ClickHouse log tables of an older ringtail to this one's schema (stop the collectors that use them first)" }),
    storage: Type.Literal('clickhouse', { description: 'where to copy to: clickhouse (the only target so far)' }),
    clickhouse: Type.Object(
      {
        url: Type.Optional(Type.String({ minLength: 1, pattern: '^https?://', description: 'HTTP(S) URL of the ClickHouse server (required)' })),
        database: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z_][A-Za-z0-9_]*$', default: 'ringtail', description: 'ClickHouse database' }),
        ...ClickHouseClusterOptions,
      },
      { additionalProperties: false, default: {} },
    ),
    source: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: "name of the source in the copied lines' identity; a rerun must use the same (default: --from-data's absolute path)" }),
    ),
    batch_lines: Type.Integer({ minimum: 1, maximum: 500_000, default: 20_000, description: 'lines read and inserted per step' }),
  },
  { additionalProperties: false },
);
type Options = Static<typeof Options>;

const USAGE = 'ringtail migrate (--from-data DIR | --upgrade-schema) --storage clickhouse --clickhouse-url URL [--clickhouse-database NAME] [--source NAME] [--batch-lines N]';
const SUMMARY =
  'Copy the log lines of a SQLite data directory into ClickHouse (for --storage clickhouse). Exactly once: a rerun, or a run after an interrupted one, resumes and stores nothing twice. Prints its progress; metrics, alerts, tokens and sessions are not copied. With --upgrade-schema: first bring the ClickHouse log tables of an older ringtail to this one\'s schema.';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Copy the log lines of a SQLite store into ClickHouse (resumable, exactly once).',
  run: (argv) =>
    withOptions<Options>(USAGE, SUMMARY, Options, argv, async (o) => {
      if (!o.clickhouse.url) throw new ConfigError('--clickhouse-url', 'required (e.g. http://127.0.0.1:8123)');
      const cluster = o.clickhouse.cluster !== undefined ? { cluster: o.clickhouse.cluster, zookeeperPath: o.clickhouse.zookeeper_path } : {};
      const target = { url: o.clickhouse.url, database: o.clickhouse.database, requestTimeoutMs: 300_000, ...cluster };
      if (!o.from_data && !o.upgrade_schema) throw new ConfigError('--from-data', 'required (or --upgrade-schema alone, to upgrade the ClickHouse log tables)');
      // loaded only here: the other commands never load the ClickHouse client
      const { migrateLogs, upgradeLogSchema } = await import('../../collector/storage/clickhouse/migrate.js');
      if (o.upgrade_schema) {
        const { from, to } = await upgradeLogSchema(target);
        process.stdout.write(from === to ? `migrate: log schema already version ${to}\n` : from === 0 ? `migrate: log tables created (schema version ${to})\n` : `migrate: log schema upgraded from version ${from} to ${to}\n`);
        if (!o.from_data) return 0;
      }
      const dir = o.from_data!;
      // the store's file, checked here: opening a directory without one would create an empty store
      if (!existsSync(join(dir, 'ringtail.db'))) throw new ConfigError('--from-data', `no ringtail store (ringtail.db) in '${dir}'`);
      const source = o.source ?? realpathSync(dir);
      const from = openStorage(storageConfig({ data: dir }));
      let shown = 0;
      try {
        const p = await migrateLogs(from.logs, {
          ...target,
          source,
          chunk: o.batch_lines,
          onProgress(p) {
            if (shown === 0) process.stdout.write(`migrate: source '${source}', line ids up to ${p.lastId}; ${p.resumedFrom > 0 ? `resuming after id ${p.resumedFrom}` : 'starting'}\n`);
            const now = Date.now();
            if (now - shown < 1000) return;
            shown = now;
            const pct = p.lastId > 0 ? Math.min(100, (100 * p.doneId) / p.lastId).toFixed(1) : '100.0';
            process.stdout.write(`migrate: up to id ${p.doneId} of ${p.lastId} (${pct}%): ${p.copied} lines copied, ${p.already} already there\n`);
          },
        });
        process.stdout.write(`migrate: done, up to id ${p.doneId}: ${p.copied} lines copied, ${p.already} already there\n`);
      } finally {
        from.close();
      }
      return 0;
    }),
};
