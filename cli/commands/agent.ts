import { Agent } from '../../agent/agent.js';
import { AgentConfig, effectiveSources } from '../../agent/config.js';
import { EnrollStopped, resolveAgentToken } from '../../agent/enroll.js';
import { createMetricsRunner } from '../../agent/metrics/index.js';
import { loadState } from '../../agent/state.js';
import { clientOptions, collectorClient } from '../../agent/transport/client.js';
import { createLogger } from '../../shared/logger.js';
import { withOptions, type Command } from '../command.js';
import { loadOptions } from '../options.js';
import { onSignal, untilSignal } from '../signals.js';

interface Running {
  stop(): Promise<void>;
}

/**
 * The agent's own token: the configured one, the one it stored when it enrolled, or one traded
 * for its enrollment token now (agent/enroll.ts). Null when a SIGTERM ended the wait for a
 * collector at first start.
 */
async function withToken(given: AgentConfig): Promise<AgentConfig | null> {
  const log = createLogger(process.stderr, 'info', { component: 'agent', host: given.host });
  const stopEnrolling = new AbortController();
  const abort = () => stopEnrolling.abort();
  process.once('SIGTERM', abort);
  process.once('SIGINT', abort);
  try {
    const token = await resolveAgentToken(given, { log, signal: stopEnrolling.signal });
    // the enrollment token is not needed any more, and must not travel further (nor reach a child)
    delete process.env.RINGTAIL_ENROLL_TOKEN;
    return { ...given, token, enroll_token: undefined };
  } catch (err) {
    if (err instanceof EnrollStopped) return null;
    throw err;
  } finally {
    process.off('SIGTERM', abort);
    process.off('SIGINT', abort);
  }
}

async function start(config: AgentConfig): Promise<Running> {
  const log = createLogger(process.stderr, 'info', { component: 'agent', host: config.host });
  // One collector client for logs and metrics: the same TLS trust, timeout, token and retry policy.
  const client = collectorClient(clientOptions(config));
  const agent = new Agent(config, { log, client });
  // The agent's stats() (counters and gauges) when it has them, its event counts otherwise.
  const agentStats = () => (agent as { stats?: () => Record<string, number> }).stats?.() ?? agent.events.snapshot();
  const metrics = createMetricsRunner(config, { log, agentId: () => loadState(config.state).agent_id, agentStats, client });
  try {
    await agent.start();
  } catch (err) {
    client.close();
    throw err;
  }
  metrics?.start();
  return {
    async stop() {
      await metrics?.stop();
      await agent.stop();
      client.close();
    },
  };
}

export const agentCommand: Command = {
  name: 'agent',
  summary: 'Run the per-instance agent: follow log files and ship new lines to a collector.',
  run: (argv) =>
    withOptions<AgentConfig>('ringtail agent --collector URL --token T|--enroll-token E --watch GLOB [options]', agentCommand.summary, AgentConfig, argv, async (given) => {
      const config = await withToken(given);
      if (config === null) return 0;
      let current = config;
      let running = await start(config);
      // SIGHUP: the config file (and environment) read again, then the agent stopped as on SIGTERM
      // and started with it in the same process — sources, filters, multiline rules, collector,
      // batching, metrics: everything. The stop is the clean one (spool closed whole, checkpoints
      // saved), so nothing is lost or sent twice across it. A file that does not load, or an agent
      // that does not start with it, leaves (or puts back) the previous configuration.
      const log = () => createLogger(process.stderr, 'info', { component: 'agent', host: current.host });
      let reloading: Promise<unknown> = Promise.resolve();
      const offReload = onSignal('SIGHUP', () => {
        reloading = (async () => {
          let next: AgentConfig;
          try {
            next = loadOptions<AgentConfig>(AgentConfig, argv).options;
            if (effectiveSources(next).length === 0) throw Object.assign(new Error('--watch: is required: give at least one --watch glob or a sources entry'), { code: 'RINGTAIL_ERR_CONFIG' });
            // a token from the file, else the one this agent holds (enrolled once, stored)
            next = { ...next, token: next.token ?? current.token, enroll_token: undefined };
          } catch (err) {
            const e = err as { code?: string; message: string };
            log().warn({ event: 'config.reload_failed', code: e.code ?? 'RINGTAIL_ERR_INTERNAL', error: e.message }, 'config.reload_failed');
            return;
          }
          await running.stop();
          try {
            running = await start(next);
            current = next;
            log().info({ event: 'config.reloaded' }, 'config.reloaded');
          } catch (err) {
            const e = err as { code?: string; message: string };
            log().warn({ event: 'config.reload_failed', code: e.code ?? 'RINGTAIL_ERR_INTERNAL', error: e.message }, 'config.reload_failed');
            running = await start(current);
          }
        })();
        return reloading;
      });
      await untilSignal();
      offReload();
      await reloading.catch(() => undefined);
      await running.stop();
      return 0;
    }),
};
