// An agent_id is bound to the agent token that first sent lines for it. The agent_id names the
// namespace of an agent's log streams (the collector keeps each stream's committed end per
// agent_id and stream), so without the binding any agent token could end another agent's
// stream: a batch with the victim's agent_id and stream id and a segment end of 2^53-1 made
// every later batch of the victim a duplicate, dropped without a trace.
//
// Always on, unlike auth.bind_agent_hosts: it refuses nothing a real agent does. Each agent
// generates its own agent_id once and keeps it (agent state), so a fleet sharing one image token
// is many agent_ids on one token, which is fine; only a second token claiming an agent_id is
// refused. A re-tokened agent keeps its agent_id: when the bound token is revoked (or deleted),
// the next token to send for the agent_id takes it over. Admin tokens are neither bound nor
// checked (an admin may do anything an agent may). `syslog` is the collector's own syslog
// receiver's agent_id, so no HTTP client may send with it. Metric series are keyed by host,
// not agent_id; auth.bind_agent_hosts covers hosts.
import fp from 'fastify-plugin';
import { ErrorCodes, RingtailError } from '../../shared/errors.js';
import { SYSLOG_AGENT_ID } from '../receivers/syslog/batcher.js';
import type { TokenRecord } from '../storage/types.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** throws 403 when `agentId` is bound to another agent token (binds it when free) */
    checkAgentBinding(principal: TokenRecord | null, agentId: string, path: string): Promise<void>;
  }
}

/** a cache in front of the table; cleared when it holds this many agent_ids */
const MAX_CACHED = 100_000;

export const agentBindingPlugin = fp(
  async (app) => {
    const bound = new Map<string, string>(); // agent_id → token id, as last confirmed
    app.decorate('checkAgentBinding', async (principal: TokenRecord | null, agentId: string, path: string) => {
      if (agentId === SYSLOG_AGENT_ID) {
        throw new RingtailError(ErrorCodes.FORBIDDEN, `${path}: agent_id '${SYSLOG_AGENT_ID}' is reserved for the collector's syslog receiver`, 403);
      }
      if (!principal || principal.role !== 'agent' || !app.storage.tokens.bindAgent) return;
      if (bound.get(agentId) === principal.id) return;
      const owner = await app.storage.tokens.bindAgent(agentId, principal.id, app.clock());
      if (owner !== principal.id) {
        app.events.emit('auth.agent_refused', { token: principal.id, name: principal.name, agent_id: agentId }, 'warn');
        throw new RingtailError(ErrorCodes.FORBIDDEN, `${path}: agent_id '${agentId}' belongs to another agent token; token '${principal.name}' may not send for it (each agent keeps its own agent_id)`, 403);
      }
      if (bound.size >= MAX_CACHED) bound.clear();
      bound.set(agentId, principal.id);
    });
  },
  { name: 'ringtail-agent-binding', dependencies: ['ringtail-storage', 'ringtail-auth'] },
);
