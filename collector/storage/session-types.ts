// The dashboard sessions' storage contract (collector/sessions/), exported with the other
// contracts from types.ts.
import type { Role } from './types.js';

export interface SessionRecord {
  token_id: string;
  name: string;
  role: Role;
  csrf: string;
  created_at: number;
  expires_at: number;
}

export interface SessionLimits {
  /** absolute lifetime in ms */
  ttlMs: number;
  /** a session unused for this long ends */
  idleMs: number;
}

/**
 * Dashboard sessions. A browser holds only a random session id; the store keeps its SHA-256
 * (sessions/ids.ts), so a copy of the store cannot be replayed as a session. A session ends
 * with the token it was signed in with. Asynchronous like TokenStore (a request's session is
 * looked up where its bearer token would be).
 */
export interface SessionStore {
  /** Returns the new session id (to go into the cookie) and the record. */
  create(tokenId: string, now: number): Promise<{ id: string; record: SessionRecord }>;
  /** The live session for this id, or null (unknown, expired, idle too long, or token revoked). */
  get(id: string, now: number): Promise<SessionRecord | null>;
  destroy(id: string): Promise<void>;
  /** Removes expired rows; returns how many. */
  sweep(now: number): Promise<number>;
  /** For tests and audits: every stored id hash. */
  storedHashes(): Promise<string[]>;
  close(): void;
}
