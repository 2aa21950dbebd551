// The `alerts` section of the collector configuration. Rules and webhooks are lists of objects,
// so they come from the JSON config file (--config); the scalar keys also have flags.
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError } from '../../shared/errors.js';
import { buildNotifiers } from './notifiers/index.js';
import type { Notifier } from './notifiers/types.js';
import { WebhookConfig } from './notifiers/webhook.js';
import { compileDefaultRules, DEFAULT_RULES } from './defaults.js';
import { compileRule, type CompiledRule } from './rules.js';
import { checkLogQuery } from './sources.js';

export const AlertsConfig = Type.Object(
  {
    evaluation_interval_ms: Type.Integer({ minimum: 100, maximum: 3_600_000, default: 10_000, description: 'how often every rule is evaluated' }),
    repeat_interval_s: Type.Integer({ minimum: 1, maximum: 30 * 86400, default: 14_400, description: 'resend a still firing alert after this long' }),
    defaults: Type.Boolean({ default: true, description: 'evaluate the default rules (host down, disks, memory, CPU, load, agent, checks; see docs/alerts.md)' }),
    // Off only to measure or to rule out the fast path (bench/relaunch.ts runs the loop both ways).
    evaluate_on_arrival: Type.Optional(Type.Boolean({ default: true, description: 'evaluate the metric and check rules a committed batch can change at once, beside the periodic cycle' })),
    // Several collectors on one shared store (--storage clickhouse): one evaluates and sends, the
    // others stand by (collector/alerts/leader.ts, docs/scale-out.md).
    evaluator: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('always'), Type.Literal('never')], {
        default: 'auto',
        description: 'which collector evaluates the rules and sends: auto (the holder of the shared store\'s lease; on SQLite this one), always, never (standby only)',
      }),
    ),
    evaluator_lease_s: Type.Optional(
      Type.Integer({ minimum: 2, maximum: 3600, default: 30, description: 'how long the evaluator lease lasts without renewal: at least two evaluation intervals; a crashed evaluator is replaced within this plus one evaluation interval' }),
    ),
    external_url: Type.Optional(Type.String({ maxLength: 2048, description: 'base URL of this collector, for externalURL and generatorURL in webhooks' })),
    // Validated by compileRule (collector/alerts/rules.ts) so that errors name the rule and field.
    rules: Type.Optional(Type.Array(Type.Unknown(), { description: 'alert rules (config file only; see docs/alerts.md)' })),
    webhooks: Type.Optional(Type.Array(WebhookConfig, { description: 'webhook receivers (config file only; see docs/alerts.md)' })),
  },
  { additionalProperties: false, default: {} },
);
export type AlertsConfig = Static<typeof AlertsConfig>;

export const DEFAULT_ALERTS: AlertsConfig = { evaluation_interval_ms: 10_000, repeat_interval_s: 14_400, defaults: true };

/**
 * A configured rule without `kind` that names a default rule changes only the fields it gives
 * (`{"name": "cpu-busy", "enabled": false}`, `{"name": "disk-space", "warning": 85}`).
 */
function overDefault(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || 'kind' in raw) return raw;
  const base = DEFAULT_RULES.find((d) => d.name === (raw as { name?: unknown }).name);
  return base ? { ...base, ...raw } : raw;
}

/** Rules and notifiers from the configuration; any mistake is a ConfigError naming the key. */
export function compileAlertsConfig(cfg: AlertsConfig): { rules: CompiledRule[]; defaults: CompiledRule[]; notifiers: Notifier[] } {
  const rules: CompiledRule[] = [];
  const names = new Set<string>();
  (cfg.rules ?? []).forEach((raw, i) => {
    let r: CompiledRule;
    try {
      r = compileRule(overDefault(raw), '', 'config');
      if (r.spec.kind === 'log') checkLogQuery(r.spec.query);
    } catch (err) {
      throw new ConfigError(`config key 'alerts.rules[${i}]'`, (err as Error).message.replace(/^: /, '').replace(/^\//, ''));
    }
    if (names.has(r.name)) throw new ConfigError(`config key 'alerts.rules[${i}].name'`, `'${r.name}' is used twice`);
    names.add(r.name);
    rules.push(r);
  });
  try {
    return { rules, defaults: cfg.defaults === false ? [] : compileDefaultRules(), notifiers: buildNotifiers({ webhooks: cfg.webhooks ?? [] }, cfg.external_url ?? '') };
  } catch (err) {
    throw new ConfigError("config key 'alerts.webhooks'", (err as Error).message);
  }
}

/** Validates the configuration's alerts section (ConfigError naming the key) without building anything. */
export function checkAlertsConfig(cfg: Partial<AlertsConfig> | undefined): void {
  compileAlertsConfig({ ...DEFAULT_ALERTS, ...cfg });
}
