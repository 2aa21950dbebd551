import { Agent } from '../../agent/agent.js';
import { AgentConfig } from '../../agent/config.js';
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
    withOptions<AgentConfig>('ringtail agent --collector URL --token T --watch GLOB [options]', agentCommand.summary, AgentConfig, argv, async (config) => {
      const log = createLogger(process.stderr, 'info', { component: 'agent', host: config.host });
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
