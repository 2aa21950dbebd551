// `ringtail relaunch` options, declared once. Actions are a list of objects, so they come from
// the JSON config file (--config); the secret is best given as RINGTAIL_SECRET.
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../../shared/errors.js';

const LISTEN_PATTERN = '^(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+):([0-9]{1,5})$';
const LabelMap = Type.Record(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), Type.String({ maxLength: 1024 }));

export const RelaunchAction = Type.Object(
  {
    name: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,64}$' }),
    /** labels that must be equal */
    match: Type.Optional(LabelMap),
    /** labels that must match these anchored regular expressions */
    match_re: Type.Optional(LabelMap),
    /** argv: program and arguments, run without a shell; alert fields arrive as RINGTAIL_ALERT_* variables */
    command: Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 64 }),
    /** which alert statuses trigger the command */
    on: Type.Optional(Type.Array(Type.Union([Type.Literal('firing'), Type.Literal('resolved')]), { minItems: 1 })),
    /** restart limit: at most max_runs runs within within_s seconds, then the action is suspended */
    max_runs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    within_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 86400 })),
    timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    /** names of relaunch's own environment variables the command also gets (beyond PATH, HOME, LANG) */
    env: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', maxLength: 128 }), { maxItems: 64 })),
  },
  { additionalProperties: false },
);
export type RelaunchAction = Static<typeof RelaunchAction>;

export const RelaunchConfig = Type.Object(
  {
    listen: Type.String({ pattern: LISTEN_PATTERN, default: '127.0.0.1:9095', description: 'HOST:PORT to receive webhooks on', errorMessage: 'expected HOST:PORT such as 127.0.0.1:9095' }),
    secret: Type.String({ pattern: '^whsec_[A-Za-z0-9+/=]+$', description: 'Standard Webhooks secret (whsec_…) shared with the collector; prefer RINGTAIL_SECRET', errorMessage: 'expected whsec_ followed by base64' }),
    state: Type.String({ minLength: 1, default: './relaunch-state', description: 'directory for handled webhook ids and restart counts' }),
    tolerance_s: Type.Integer({ minimum: 1, maximum: 3600, default: 300, description: 'reject webhooks whose timestamp is further than this from now' }),
    body_limit: Type.Integer({ minimum: 1024, maximum: 64 * 1024 * 1024, default: 1024 * 1024, description: 'largest webhook body in bytes' }),
    resume: Type.Boolean({ default: false, description: 'lift every suspension (restart limit reached) at start' }),
    actions: Type.Array(RelaunchAction, { minItems: 1, description: 'label matchers and commands (config file only)' }),
  },
  { additionalProperties: false },
);
export type RelaunchConfig = Static<typeof RelaunchConfig>;

export function parseListen(listen: string): { host: string; port: number } {
  const m = new RegExp(LISTEN_PATTERN).exec(listen)!;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Why an action's `env` allow-list may not name this variable, or null when it may. */
export function refusedEnvName(name: string): string | null {
  // whoever reads the secret (a command's output lands in the log) can forge webhooks that run commands
  if (name === 'RINGTAIL_SECRET') return 'the webhook secret is never passed to a command';
  if (name === 'RINGTAIL_ACTION' || name === 'RINGTAIL_WEBHOOK_ID' || name === 'RINGTAIL_EVIDENCE_FILE' || name.startsWith('RINGTAIL_ALERT_')) return `${name} is set by relaunch for each run`;
  return null;
}

/** What the schema cannot say about actions: regular expressions compile, env names are allowed. */
export function checkActions(actions: RelaunchAction[]): void {
  actions.forEach((a, i) => {
    for (const [k, v] of Object.entries(a.match_re ?? {})) {
      try {
        new RegExp(v);
      } catch (err) {
        throw new ConfigError(`config key 'actions[${i}].match_re.${k}'`, (err as Error).message);
      }
    }
    (a.env ?? []).forEach((name, j) => {
      const why = refusedEnvName(name);
      if (why !== null) throw new ConfigError(`config key 'actions[${i}].env[${j}]'`, why);
    });
  });
}
