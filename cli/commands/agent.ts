import { Agent } from '../../agent/agent.js';
import { AgentConfig } from '../../agent/config.js';
import { EnrollStopped, resolveAgentToken } from '../../agent/enroll.js';
import { createMetricsRunner } from '../../agent/metrics/index.js';
import { loadState } from '../../agent/state.js';
import { clientOptions, collectorClient } from '../../agent/transport/client.js';
import { createLogger } from '../../shared/logger.js';
import { withOptions, type Command } from '../command.js';
import { untilSignal } from '../signals.js';

export const agentCommand: Command = {
  name: 'agent',
  summary: 'Run the per-instance agent: follow log files and ship new lines to a collector.',
  run: (argv) =>
    withOptions<AgentConfig>('ringtail agent --collector URL --token T|--enroll-token E --watch GLOB [options]', agentCommand.summary, AgentConfig, argv, async (given) => {
      const log = createLogger(process.stderr, 'info', { component: 'agent', host: given.host });
      // a SIGTERM while a first start still waits for its collector ends the wait
      const stopEnrolling = new AbortController();
      const onSignal = () => stopEnrolling.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      let token: string;
      try {
        token = await resolveAgentToken(given, { log, signal: stopEnrolling.signal });
      } catch (err) {
        if (err instanceof EnrollStopped) return 0;
        throw err;
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      // the enrollment token is not needed any more, and must not travel further (nor reach a child)
      delete process.env.RINGTAIL_ENROLL_TOKEN;
      const config: AgentConfig = { ...given, token, enroll_token: undefined };
      // One collector client for logs and metrics: the same TLS trust, timeout, token and retry policy.
      const client = collectorClient(clientOptions(config));
      const agent = new Agent(config, { log, client });
      // The agent's stats() (counters and gauges) when it has them, its event counts otherwise.
      const agentStats = () => (agent as { stats?: () => Record<string, number> }).stats?.() ?? agent.events.snapshot();
      const metrics = createMetricsRunner(config, { log, agentId: () => loadState(config.state).agent_id, agentStats, client });
      await agent.start();
      metrics?.start();
      await untilSignal();
      await metrics?.stop();
      await agent.stop();
      client.close();
      return 0;
    }),
};
