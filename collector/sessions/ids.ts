// What every session store keeps of a session id: its SHA-256, so that a copy of the store
// cannot be replayed as a session. And the default lifetimes.
import { createHash } from 'node:crypto';
import type { SessionLimits } from '../storage/types.js';

export const DEFAULT_LIMITS: SessionLimits = { ttlMs: 12 * 3600_000, idleMs: 2 * 3600_000 };

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex');
}
