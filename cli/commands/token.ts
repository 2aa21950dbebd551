// `ringtail token create|list|revoke`: works on the collector's store directly, running or not
// (SQLite WAL lets it write beside a running collector; with --storage clickhouse, on the token
// store every collector on that database shares).
import { Type, type Static } from '@sinclair/typebox';
import { CollectorConfig } from '../../collector/config.js';
import { openTokenStore, storageConfig } from '../../collector/storage/factory.js';
import { ConfigError } from '../../shared/errors.js';
import { withOptions, type Command } from '../command.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** --uses, --ttl and --expires as an enrollment token's limits; refused for other roles. */
export function enrollLimits(o: { role: string; uses?: number; ttl?: string; expires?: string }, now: number): { uses: number | null; expires_at: number | null } {
  const given = (['uses', 'ttl', 'expires'] as const).filter((k) => o[k] !== undefined);
  if (o.role !== 'enroll' && given.length > 0) throw new ConfigError(`--${given[0]}`, 'only an enrollment token (--role enroll) has limits');
  if (o.ttl !== undefined && o.expires !== undefined) throw new ConfigError('--expires', 'give --ttl or --expires, not both');
  let expires_at: number | null = null;
  if (o.ttl !== undefined) {
    const m = /^(\d+)([smhdw])$/.exec(o.ttl)!;
    expires_at = now + Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  } else if (o.expires !== undefined) {
    // a date without a time or zone would be read in local time or as UTC depending on its form
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(o.expires)) {
      throw new ConfigError('--expires', `'${o.expires}' is not an RFC 3339 time with a zone, e.g. 2026-12-31T00:00:00Z`);
    }
    expires_at = Date.parse(o.expires);
    if (Number.isNaN(expires_at)) throw new ConfigError('--expires', `'${o.expires}' is not a valid time`);
    if (expires_at <= now) throw new ConfigError('--expires', `'${o.expires}' is in the past`);
  }
  return { uses: o.uses ?? null, expires_at };
}

const Data = Type.String({ minLength: 1, default: './data', description: 'collector data directory' });
// where the collector keeps its tokens: as the collector's own options (--storage clickhouse
// --clickhouse-url … --clickhouse-database …)
const Where = { data: Data, storage: CollectorConfig.properties.storage, clickhouse: CollectorConfig.properties.clickhouse };
const CreateOptions = Type.Object(
  {
    ...Where,
    role: Type.Union([Type.Literal('agent'), Type.Literal('viewer'), Type.Literal('admin'), Type.Literal('enroll')], {
      description: 'agent, viewer, admin or enroll (trades itself for an agent token at an instance\'s first start)',
    }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'label shown by token list' })),
    uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'role enroll: agent tokens it may issue in all (default: no limit)' })),
    ttl: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,8}(s|m|h|d|w)$', description: 'role enroll: lifetime from now, e.g. 30m, 1h, 7d', errorMessage: 'expected a number and a unit: 30m, 1h, 7d' })),
    expires: Type.Optional(Type.String({ minLength: 1, description: 'role enroll: refused from this time on (RFC 3339, e.g. 2026-12-31T00:00:00Z)' })),
  },
  { additionalProperties: false },
);
const ListOptions = Type.Object(Where, { additionalProperties: false });
const RevokeOptions = Type.Object(
  { ...Where, id: Type.String({ pattern: '^tok_[0-9a-f]+$', description: 'token id, as token list shows it' }) },
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
          'ringtail token create --role agent|viewer|admin|enroll [--data DIR | --storage clickhouse --clickhouse-url URL] [--name NAME] [--uses N] [--ttl 1h | --expires TIME]',
          'Create a token and print it alone on standard output. It is stored hashed and cannot be shown again. An enrollment token (--role enroll) may be limited in uses and lifetime.',
          CreateOptions,
          rest,
          async (o) => {
            const now = Date.now();
            const limits = enrollLimits(o, now);
            const storage = await openTokenStore(storageConfig(o));
            try {
              const { token } = await storage.tokens.create(o.role, o.name ?? o.role, now, limits);
              process.stdout.write(token + '\n');
            } finally {
              await storage.close();
            }
            return 0;
          },
        );
      case 'list':
        return withOptions<Static<typeof ListOptions>>('ringtail token list [--data DIR | --storage clickhouse --clickhouse-url URL]', 'List tokens (never their secrets) as JSON lines.', ListOptions, rest, async (o) => {
          const storage = await openTokenStore(storageConfig(o));
          try {
            for (const t of await storage.tokens.list()) process.stdout.write(JSON.stringify(t) + '\n');
          } finally {
            await storage.close();
          }
          return 0;
        });
      case 'revoke':
        return withOptions<Static<typeof RevokeOptions>>('ringtail token revoke --id tok_… [--data DIR | --storage clickhouse --clickhouse-url URL]', 'Revoke a token at once.', RevokeOptions, rest, async (o) => {
          const storage = await openTokenStore(storageConfig(o));
          try {
            if (!(await storage.tokens.revoke(o.id, Date.now()))) {
              process.stderr.write(`ringtail: RINGTAIL_ERR_NOT_FOUND --id: no active token '${o.id}'\n`);
              return 1;
            }
          } finally {
            await storage.close();
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
