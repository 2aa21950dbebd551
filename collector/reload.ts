// SIGHUP (`systemctl reload ringtail-collector`): the configuration is read again and what can
// change under a running collector changes — the server-side filter rules and the alert rules
// of the configuration file. Everything is compiled before anything is applied: a bad file is
// refused as a whole (logged with the key at fault) and the collector keeps running as it was.
// Anything else that differs (listen address, data directory, webhooks, intervals, limits) is
// named in the log as needing a restart; it is not applied half-way.
import type { FastifyInstance } from 'fastify';
import { compileAlertsConfig, DEFAULT_ALERTS } from './alerts/config.js';
import type { CompiledRule } from './alerts/rules.js';
import type { CollectorConfig } from './config.js';
import { compileFilters } from './ingest/filters.js';

export interface ReloadOutcome {
  filters: number;
  rules: { added: string[]; changed: string[]; removed: string[] };
  /** configuration keys that differ but take effect only after a restart */
  restart_needed: string[];
}

/** Keys a reload applies; `alerts` is applied for its rules only. */
const RELOADED = new Set(['filters', 'alerts']);

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function reloadCollector(app: FastifyInstance, before: CollectorConfig, after: CollectorConfig): ReloadOutcome {
  // compile first: both throw ConfigError naming the key, before anything changed
  compileFilters(after.filters);
  const { rules } = compileAlertsConfig({ ...DEFAULT_ALERTS, ...after.alerts });

  app.pipeline.setFilters(after.filters);
  const evaluator = app.alerts.evaluator;
  const wanted = new Map<string, CompiledRule>(rules.map((r) => [r.name, r]));
  const outcome: ReloadOutcome = { filters: after.filters?.length ?? 0, rules: { added: [], changed: [], removed: [] }, restart_needed: [] };
  for (const [name, r] of [...evaluator.rules]) {
    // rules made through the API are the API's: a reload leaves them alone
    if (r.source === 'config' && !wanted.has(name)) {
      evaluator.removeRule(name);
      outcome.rules.removed.push(name);
    }
  }
  for (const [name, r] of wanted) {
    const old = evaluator.rules.get(name);
    if (old && old.source === 'config' && same(old.spec, r.spec)) continue;
    evaluator.setRule(r);
    (old ? outcome.rules.changed : outcome.rules.added).push(name);
  }

  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const k of keys) {
    if (RELOADED.has(k)) continue;
    if (!same(before[k as keyof CollectorConfig], after[k as keyof CollectorConfig])) outcome.restart_needed.push(k);
  }
  const { rules: _r, ...alertsBefore } = before.alerts ?? {};
  const { rules: _a, ...alertsAfter } = after.alerts ?? {};
  if (!same(alertsBefore, alertsAfter)) outcome.restart_needed.push('alerts (other than rules)');
  return outcome;
}
