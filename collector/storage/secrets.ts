// Tokens are random secrets shown once; every backend stores only their SHA-256, so a copy of the
// store does not hand out credentials. A high-entropy token needs no slow hash. One definition,
// so a token made on SQLite and one made on ClickHouse are hashed alike.
import { createHash, randomBytes } from 'node:crypto';
import type { Role } from './types.js';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newTokenSecret(role: Role): string {
  return `rt_${role}_${randomBytes(24).toString('base64url')}`;
}

export function newTokenId(): string {
  return 'tok_' + randomBytes(6).toString('hex');
}
