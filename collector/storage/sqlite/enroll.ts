// Enrollment tokens (role enroll): a secret an instance's user data carries and trades, at first
// start, for an agent token of its own bound to its host name (collector/routes/enroll.ts). They
// live in their own table rather than in `tokens`, whose CHECK constraint lists the older roles
// and cannot be widened without rebuilding the table; like `token_hosts`, the tables are created
// here, so a database without them simply has no enrollment yet. Stored hashed, as every token.
import { randomBytes } from 'node:crypto';
import type { EnrollLimits, EnrollResult, TokenRecord } from '../types.js';
import type { Db } from './open.js';

const COLUMNS = "id, name, 'enroll' AS role, created_at, revoked_at, uses_max, uses, expires_at";

export interface EnrollTable {
  insert(name: string, hash: string, now: number, limits: EnrollLimits): TokenRecord;
  /** the active (not revoked) enrollment token with this hash, used up or expired included */
  byHash(hash: string): TokenRecord | undefined;
  isRevoked(hash: string): boolean;
  list(): TokenRecord[];
  revoke(id: string, now: number): boolean;
  countActive(): number;
  /** the host an enrolled agent token is bound to (undefined: not issued by enrollment) */
  enrolledHost(tokenId: string): string | undefined;
  /** atomically: check the enrollment token, count a use, store the new agent token with `insertAgent` */
  enroll(hash: string | null, host: string, agentId: string | undefined, now: number, insertAgent: (enroll: TokenRecord) => { token: string; record: TokenRecord }): EnrollResult;
}

export function enrollTable(db: Db): EnrollTable {
  db.exec(`
    CREATE TABLE IF NOT EXISTS enroll_tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      hash TEXT NOT NULL UNIQUE,
      created_at INTEGER NOT NULL,
      revoked_at INTEGER,
      uses_max INTEGER,
      uses INTEGER NOT NULL DEFAULT 0,
      expires_at INTEGER
    );
    CREATE TABLE IF NOT EXISTS enrolled_tokens (
      token_id TEXT PRIMARY KEY,
      host TEXT NOT NULL,
      enroll_id TEXT NOT NULL,
      agent_id TEXT,
      enrolled_at INTEGER NOT NULL
    ) WITHOUT ROWID;
  `);
  const insert = db.prepare(
    'INSERT INTO enroll_tokens (id, name, hash, created_at, uses_max, expires_at) VALUES (@id, @name, @hash, @created_at, @uses_max, @expires_at)',
  );
  const active = db.prepare(`SELECT ${COLUMNS} FROM enroll_tokens WHERE hash = ? AND revoked_at IS NULL`);
  const anyByHash = db.prepare(`SELECT ${COLUMNS} FROM enroll_tokens WHERE hash = ?`);
  const revoked = db.prepare('SELECT 1 FROM enroll_tokens WHERE hash = ? AND revoked_at IS NOT NULL');
  const all = db.prepare(`SELECT ${COLUMNS} FROM enroll_tokens ORDER BY created_at, id`);
  const revoke = db.prepare('UPDATE enroll_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const countActive = db.prepare('SELECT count(*) AS n FROM enroll_tokens WHERE revoked_at IS NULL');
  // The guard repeats every check, so the use is counted only if it is still allowed at the
  // moment of writing, whoever else (another request, `ringtail token revoke`) wrote in between.
  const use = db.prepare(
    'UPDATE enroll_tokens SET uses = uses + 1 WHERE id = @id AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > @now) AND (uses_max IS NULL OR uses < uses_max)',
  );
  const bind = db.prepare('INSERT INTO enrolled_tokens (token_id, host, enroll_id, agent_id, enrolled_at) VALUES (?, ?, ?, ?, ?)');
  const hostOf = db.prepare('SELECT host FROM enrolled_tokens WHERE token_id = ?');

  const refusal = (t: TokenRecord | undefined, now: number): EnrollResult | null => {
    if (!t) return { ok: false, reason: 'unknown' };
    if (t.revoked_at !== null) return { ok: false, reason: 'revoked', enroll: t };
    if (t.expires_at != null && t.expires_at <= now) return { ok: false, reason: 'expired', enroll: t };
    if (t.uses_max != null && (t.uses ?? 0) >= t.uses_max) return { ok: false, reason: 'used_up', enroll: t };
    return null;
  };

  return {
    insert(name, hash, now, limits) {
      const record: TokenRecord = {
        id: 'tok_' + randomBytes(6).toString('hex'),
        name,
        role: 'enroll',
        created_at: now,
        revoked_at: null,
        uses_max: limits.uses ?? null,
        uses: 0,
        expires_at: limits.expires_at ?? null,
      };
      insert.run({ id: record.id, name, hash, created_at: now, uses_max: record.uses_max, expires_at: record.expires_at });
      return record;
    },
    byHash: (hash) => active.get(hash) as TokenRecord | undefined,
    isRevoked: (hash) => revoked.get(hash) !== undefined,
    list: () => all.all() as TokenRecord[],
    revoke: (id, now) => revoke.run(now, id).changes > 0,
    countActive: () => (countActive.get() as { n: number }).n,
    enrolledHost: (tokenId) => (hostOf.get(tokenId) as { host: string } | undefined)?.host,
    // IMMEDIATE: the write lock is taken before the token is read, so a second process (another
    // collector on the same file, the CLI) cannot count the same last use in between.
    enroll: db
      .transaction((hash: string | null, host: string, agentId: string | undefined, now: number, insertAgent: (e: TokenRecord) => { token: string; record: TokenRecord }): EnrollResult => {
        if (hash === null) {
          // by an admin's hand: no enrollment token to count
          const byAdmin: TokenRecord = { id: 'admin', name: 'admin', role: 'enroll', created_at: now, revoked_at: null };
          const issued = insertAgent(byAdmin);
          bind.run(issued.record.id, host, 'admin', agentId ?? null, now);
          return { ok: true, token: issued.token, record: { ...issued.record, enrolled_host: host }, enroll: byAdmin };
        }
        const t = anyByHash.get(hash) as TokenRecord | undefined;
        const refused = refusal(t, now);
        if (refused) return refused;
        if (use.run({ id: t!.id, now }).changes !== 1) return refusal(anyByHash.get(hash) as TokenRecord, now) ?? { ok: false, reason: 'used_up', enroll: t };
        const issued = insertAgent(t!);
        bind.run(issued.record.id, host, t!.id, agentId ?? null, now);
        const enroll = { ...t!, uses: (t!.uses ?? 0) + 1 };
        return { ok: true, token: issued.token, record: { ...issued.record, enrolled_host: host }, enroll };
      }).immediate,
  };
}
