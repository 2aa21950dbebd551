// Wiring for the CLI: the configured families and checks, one runner. The agent's own event
// counts become self-metrics through `snapshot`, read only — the log side is not touched.
import { createEvents } from '../../shared/events.js';
import type { Logger } from '../../shared/logger.js';
import { createChecks } from '../checks/index.js';
import type { AgentConfig } from '../config.js';
import { clientOptions, collectorClient, type CollectorClient } from '../transport/client.js';
import { createFamilies } from './families.js';
import { MetricsRunner } from './runner.js';

export interface MetricsDeps {
  log: Logger;
  agentId: string | (() => string);
  /** the log agent's own figures (lines read, shipped, filtered, spool bytes, lag …), read only */
  agentStats?: () => Record<string, number>;
  clock?: () => number;
  /** the agent's one collector client (the log shipper's); built from `transport` when absent */
  client?: CollectorClient;
  /** jitter of the retry backoff; injected by tests */
  random?: () => number;
}

/** Builds the runner (checks validated first: a bad check is a ConfigError before anything starts). */
export function createMetricsRunner(config: AgentConfig, deps: MetricsDeps): MetricsRunner | null {
  if (!config.metrics.enabled) return null;
  const events = createEvents(deps.log);
  const checks = createChecks(config.checks, events);
  let runner: MetricsRunner | null = null;
  const snapshot = () => ({ ...deps.agentStats?.(), ...events.snapshot(), ...runner?.levels() });
  const families = createFamilies(config.metrics.families, { snapshot });
  runner = new MetricsRunner({
    client: deps.client ?? collectorClient(clientOptions(config), deps.clock),
    collector: config.collector,
    // the client above carries the token; this one is only read when no client is given
    token: config.token ?? '',
    host: config.host,
    agentId: deps.agentId,
    intervalMs: config.metrics.interval_ms,
    ephemeral: config.ephemeral,
    maxQueued: config.metrics.max_queued,
    sources: [...families, ...checks],
    reportChanges: config.checks.report_changes,
    log: deps.log,
    events,
    clock: deps.clock,
    random: deps.random,
  });
  return runner;
}
