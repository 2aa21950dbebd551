// `ringtail token create|list|revoke`: works on the collector's store directly, running or not
// (SQLite WAL lets it write beside a running collector).
import { Type, type Static } from '@sinclair/typebox';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { withOptions, type Command } from '../command.js';

const Data = Type.String({ minLength: 1, default: './data', description: 'collector data directory' });
const CreateOptions = Type.Object(
  {
    data: Data,
    role: Type.Union([Type.Literal('agent'), Type.Literal('viewer'), Type.Literal('admin')], { description: 'agent, viewer or admin' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'label shown by token list' })),
  },
  { additionalProperties: false },
);
const ListOptions = Type.Object({ data: Data }, { additionalProperties: false });
const RevokeOptions = Type.Object(
  { data: Data, id: Type.String({ pattern: '^tok_[0-9a-f]+$', description: 'token id, as token list shows it' }) },
  { additionalProperties: false },
);

const SUBCOMMANDS = 'create, list or revoke';

export const tokenCommand: Command = {
  name: 'token',
  summary: `Manage API tokens (${SUBCOMMANDS}).`,
  async run(argv) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case 'create':
        return withOptions<Static<typeof CreateOptions>>(
          'ringtail token create --role agent|viewer|admin [--data DIR] [--name NAME]',
          'Create a token and print it alone on standard output. It is stored hashed and cannot be shown again.',
          CreateOptions,
          rest,
          async (o) => {
            const storage = openSqliteStorage(o.data);
            try {
              const { token } = storage.tokens.create(o.role, o.name ?? o.role, Date.now());
              process.stdout.write(token + '\n');
            } finally {
              storage.close();
            }
            return 0;
          },
        );
      case 'list':
        return withOptions<Static<typeof ListOptions>>('ringtail token list [--data DIR]', 'List tokens (never their secrets) as JSON lines.', ListOptions, rest, async (o) => {
          const storage = openSqliteStorage(o.data);
          try {
            for (const t of storage.tokens.list()) process.stdout.write(JSON.stringify(t) + '\n');
          } finally {
            storage.close();
          }
          return 0;
        });
      case 'revoke':
        return withOptions<Static<typeof RevokeOptions>>('ringtail token revoke --id tok_… [--data DIR]', 'Revoke a token at once.', RevokeOptions, rest, async (o) => {
          const storage = openSqliteStorage(o.data);
          try {
            if (!storage.tokens.revoke(o.id, Date.now())) {
              process.stderr.write(`ringtail: RINGTAIL_ERR_NOT_FOUND --id: no active token '${o.id}'\n`);
              return 1;
            }
          } finally {
            storage.close();
          }
          return 0;
        });
      case '--help':
      case '-h':
      case undefined:
        process.stdout.write(`Usage: ringtail token <create|list|revoke> [options]\n\n${tokenCommand.summary}\nSee ringtail token create --help.\n`);
        return sub === undefined ? 2 : 0;
      default:
        process.stderr.write(`ringtail: RINGTAIL_ERR_USAGE token ${sub}: unknown subcommand (expected ${SUBCOMMANDS})\n`);
        return 2;
    }
  },
};
