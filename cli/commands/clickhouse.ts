// `ringtail clickhouse ddl [--cluster NAME]`: prints every schema statement ringtail issues on
// ClickHouse, for one server or a cluster, without connecting anywhere (for a database
// administrator to read or run beforehand; docs/scale-out.md "Cluster layout" is its output).
import { Type, type Static } from '@sinclair/typebox';
import { ClickHouseClusterOptions } from '../../collector/config.js';
import { ConfigError } from '../../shared/errors.js';
import { withOptions, type Command, type Io, stdio } from '../command.js';

const Options = Type.Object(
  {
    database: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z_][A-Za-z0-9_]*$', default: 'ringtail', description: 'ClickHouse database' }),
    ...ClickHouseClusterOptions,
  },
  { additionalProperties: false },
);
type Options = Static<typeof Options>;

const USAGE = 'ringtail clickhouse ddl [--database NAME] [--cluster NAME [--zookeeper-path PREFIX]]';
const SUMMARY = 'Print the schema statements ringtail issues on ClickHouse (CREATE, ALTER, DROP; with --cluster, as on that cluster), without connecting.';

export const clickhouseCommand: Command = {
  name: 'clickhouse',
  summary: 'Print the ClickHouse schema statements ringtail issues (`ringtail clickhouse ddl`).',
  run: (argv) => runClickhouse(argv),
};

export function runClickhouse(argv: string[], io: Io = stdio): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'ddl') {
    const help = sub === undefined || sub === '--help' || sub === '-h';
    (help ? io.out : io.err).write(`Usage: ${USAGE}\n\n${SUMMARY}\n`);
    return Promise.resolve(help ? 0 : 2);
  }
  return withOptions<Options>(
    USAGE,
    SUMMARY,
    Options,
    rest,
    async (o) => {
      const { layoutOf } = await import('../../collector/storage/clickhouse/layout.js');
      const { ddlText, schemaDdl } = await import('../../collector/storage/clickhouse/ddl.js');
      const layout = layoutOf({ cluster: o.cluster, zookeeperPath: o.cluster !== undefined ? o.zookeeper_path : undefined }, o.database);
      if (o.cluster === undefined && argvHas(rest, '--zookeeper-path')) throw new ConfigError('--zookeeper-path', 'goes with --cluster');
      io.out.write(ddlText(schemaDdl(o.database, layout)));
      return 0;
    },
    io,
  );
}

const argvHas = (argv: string[], flag: string) => argv.some((a) => a === flag || a.startsWith(`${flag}=`));
