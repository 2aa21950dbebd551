// Enrollment on ClickHouse: an enrollment token's uses are the claims 1, 2, 3, … of slots keyed
// by its id (claims.ts). A collector reads how many are taken, claims the next slot for the agent
// token it is about to issue, and issues it only if its claim is the slot's first committed row;
// a slot past the token's limit is never claimed. So with one use left, two collectors enrolling
// at once both claim the same last slot and exactly one of them issues a token; the other sees
// the slot taken and the token used up.
//
// A revocation is a claim too, in the same table: when it was committed before the winning use
// (smaller block number) the use is refused as revoked, so an enrollment racing the token's
// revocation succeeds only if its claim came first. Expiry is checked against the enrolling
// collector's clock. A collector that dies between its claim and the agent token's insert has
// spent a use without issuing a token: the limit errs on the side of fewer tokens.
import { STORAGE_RETRY_S, UnavailableError } from '../../ingest/unavailable.js';
import { hashToken, newTokenId, newTokenSecret } from '../secrets.js';
import type { EnrollResult, TokenRecord } from '../types.js';
import type { Claims } from './claims.js';
import type { TokenRows } from './tokens.js';

/** slots tried before answering 503 (each try lost its slot to another enrollment) */
const MAX_TRIES = 32;

function refusal(t: TokenRecord | undefined, now: number): EnrollResult | null {
  if (!t) return { ok: false, reason: 'unknown' };
  if (t.revoked_at !== null) return { ok: false, reason: 'revoked', enroll: t };
  if (t.expires_at != null && t.expires_at <= now) return { ok: false, reason: 'expired', enroll: t };
  if (t.uses_max != null && (t.uses ?? 0) >= t.uses_max) return { ok: false, reason: 'used_up', enroll: t };
  return null;
}

function agentToken(enrollName: string, host: string, now: number): { token: string; record: TokenRecord } {
  const record: TokenRecord = { id: newTokenId(), name: `${enrollName}/${host}`.slice(0, 255), role: 'agent', created_at: now, revoked_at: null, enrolled_host: host };
  return { token: newTokenSecret('agent'), record };
}

export async function enrollWith(claims: Claims, rows: TokenRows, secret: string | null, host: string, agentId: string | undefined, now: number): Promise<EnrollResult> {
  if (secret === null) {
    // by an admin's hand: no enrollment token to count
    const byAdmin: TokenRecord = { id: 'admin', name: 'admin', role: 'enroll', created_at: now, revoked_at: null };
    const issued = agentToken(byAdmin.name, host, now);
    await rows.insert({ hash: hashToken(issued.token), record: issued.record, enroll_id: 'admin', agent_id: agentId });
    return { ok: true, token: issued.token, record: issued.record, enroll: byAdmin };
  }
  const hash = hashToken(secret);
  for (let i = 0; i < MAX_TRIES; i++) {
    const [t] = await rows.find(`hash = {hash:String} AND role = 'enroll'`, { hash });
    const refused = refusal(t, now);
    if (refused) return refused;
    const use = (t!.uses ?? 0) + 1;
    const issued = agentToken(t!.name, host, now);
    const { won, winner } = await claims.claim('enroll', t!.id, use, issued.record.id, now);
    if (!won) continue; // another collector took this use: look again
    const revoked = await claims.slot('revoke', t!.id, 0);
    if (revoked && revoked.block < winner.block) return { ok: false, reason: 'revoked', enroll: { ...t!, revoked_at: revoked.at } };
    await rows.insert({ hash: hashToken(issued.token), record: issued.record, enroll_id: t!.id, agent_id: agentId });
    return { ok: true, token: issued.token, record: issued.record, enroll: { ...t!, uses: use } };
  }
  throw new UnavailableError(`enrollment token is being used by many instances at once (${MAX_TRIES} uses taken meanwhile): try again`, STORAGE_RETRY_S, 'storage');
}
