// Which host an agent token sends for (auth.bind_agent_hosts) and which token an agent_id belongs
// to (collector/plugins/agent-binding.ts), decided once for every collector by a claim
// (claims.ts): two collectors binding at once both answer the first committed binding.
import type { TokenRecord } from '../types.js';
import type { Claims } from './claims.js';

interface LiveTokens {
  find(where: string, params: Record<string, unknown>): Promise<TokenRecord[]>;
}

/** binds the token to `host` if it has no host yet; returns the host it is bound to */
export async function bindHost(claims: Claims, id: string, host: string, now: number): Promise<string> {
  const bound = await claims.slot('host', id, 0);
  if (bound) return bound.value;
  return (await claims.claim('host', id, 0, host, now)).winner.value;
}

/**
 * Binds the agent_id to token `id` unless a live token holds it; returns the token it is bound
 * to. Each take-over is the next epoch of the agent_id's claims (a re-tokened agent keeps its
 * agent_id once its old token is revoked or gone), so two new tokens racing for one agent_id
 * get one answer.
 */
export async function bindAgent(claims: Claims, tokens: LiveTokens, agentId: string, id: string, now: number): Promise<string> {
  const cur = (await claims.latest('agent', [agentId])).get(agentId);
  if (cur?.value === id) return id;
  if (cur) {
    const [holder] = await tokens.find('id = {id:String}', { id: cur.value });
    if (holder && holder.revoked_at === null) return cur.value;
  }
  return (await claims.claim('agent', agentId, (cur?.seq ?? 0) + 1, id, now)).winner.value;
}
