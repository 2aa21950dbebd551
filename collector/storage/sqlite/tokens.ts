// Tokens are random secrets shown once; only their SHA-256 is stored (collector/storage/secrets.ts).
import { randomBytes } from 'node:crypto';
import { hashToken, newTokenSecret } from '../secrets.js';
import type { Synchronous, TokenRecord, TokenStore } from '../types.js';
import { enrollTable } from './enroll.js';
import type { Db } from './open.js';

export { hashToken, newTokenSecret };

/** TokenStore on SQLite: answered synchronously inside, handed out as resolved promises. */
export function sqliteTokenStore(db: Db): TokenStore {
  const s = syncTokenStore(db);
  return {
    create: async (role, name, now, limits) => s.create(role, name, now, limits),
    adopt: async (secret, role, name, now) => s.adopt(secret, role, name, now),
    verify: async (token) => s.verify(token),
    isRevoked: async (token) => s.isRevoked(token),
    list: async () => s.list(),
    revoke: async (id, now) => s.revoke(id, now),
    countActive: async (role) => s.countActive(role),
    bindHost: async (id, host, now) => s.bindHost(id, host, now),
    bindAgent: async (agentId, id, now) => s.bindAgent(agentId, id, now),
    enroll: async (secret, host, agentId, now) => s.enroll(secret, host, agentId, now),
  };
}

function syncTokenStore(db: Db): Synchronous<TokenStore> {
  const enroll = enrollTable(db);
  const insert = db.prepare(
    'INSERT INTO tokens (id, name, role, hash, created_at) VALUES (@id, @name, @role, @hash, @created_at)',
  );
  const byHash = db.prepare(
    'SELECT id, name, role, created_at, revoked_at FROM tokens WHERE hash = ? AND revoked_at IS NULL',
  );
  // what a request's token check reads: the token and, for an enrolled agent token, its host, in one lookup
  const liveByHash = db.prepare(
    `SELECT t.id, t.name, t.role, t.created_at, t.revoked_at, e.host AS enrolled_host
     FROM tokens t LEFT JOIN enrolled_tokens e ON e.token_id = t.id WHERE t.hash = ? AND t.revoked_at IS NULL`,
  );
  const revokedByHash = db.prepare('SELECT 1 FROM tokens WHERE hash = ? AND revoked_at IS NOT NULL');
  const all = db.prepare('SELECT id, name, role, created_at, revoked_at FROM tokens ORDER BY created_at, id');
  const revoke = db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const countActive = db.prepare('SELECT count(*) AS n FROM tokens WHERE role = ? AND revoked_at IS NULL');
  // The host an agent token announced first (auth.bind_agent_hosts). Created here rather than
  // by a migration: nothing else reads it, and a database without it just has no bindings yet.
  db.exec('CREATE TABLE IF NOT EXISTS token_hosts (token_id TEXT PRIMARY KEY, host TEXT NOT NULL, bound_at INTEGER NOT NULL) WITHOUT ROWID');
  const bind = db.prepare('INSERT OR IGNORE INTO token_hosts (token_id, host, bound_at) VALUES (?, ?, ?)');
  const boundHost = db.prepare('SELECT host FROM token_hosts WHERE token_id = ?');
  // The token each agent_id was first sent with (collector/plugins/agent-binding.ts); taken
  // over by a new token only when the bound one is revoked or gone.
  db.exec('CREATE TABLE IF NOT EXISTS agent_tokens (agent_id TEXT PRIMARY KEY, token_id TEXT NOT NULL, bound_at INTEGER NOT NULL) WITHOUT ROWID');
  const bindAgent = db.prepare(
    `INSERT INTO agent_tokens (agent_id, token_id, bound_at) VALUES (?, ?, ?)
     ON CONFLICT (agent_id) DO UPDATE SET token_id = excluded.token_id, bound_at = excluded.bound_at
     WHERE NOT EXISTS (SELECT 1 FROM tokens WHERE tokens.id = agent_tokens.token_id AND tokens.revoked_at IS NULL)`,
  );
  const boundToken = db.prepare('SELECT token_id FROM agent_tokens WHERE agent_id = ?').pluck();
  /** the connection's own level, restored after a bind */
  const sync = db.pragma('synchronous', { simple: true }) as number;
  const withHost = (t: TokenRecord | undefined): TokenRecord | undefined => {
    if (t?.role !== 'agent') return t;
    const host = enroll.enrolledHost(t.id);
    return host === undefined ? t : { ...t, enrolled_host: host };
  };

  return {
    create(role, name, now, limits) {
      const token = newTokenSecret(role);
      if (role === 'enroll') return { token, record: enroll.insert(name, hashToken(token), now, limits ?? {}) };
      const record: TokenRecord = {
        id: 'tok_' + randomBytes(6).toString('hex'),
        name,
        role,
        created_at: now,
        revoked_at: null,
      };
      insert.run({ ...record, hash: hashToken(token) });
      return { token, record };
    },
    adopt(secret, role, name, now) {
      if (role === 'enroll') throw new Error('an enrollment token cannot be adopted');
      const existing = byHash.get(hashToken(secret)) as TokenRecord | undefined;
      if (existing) return existing;
      const record: TokenRecord = { id: 'tok_' + randomBytes(6).toString('hex'), name, role, created_at: now, revoked_at: null };
      insert.run({ ...record, hash: hashToken(secret) });
      return record;
    },
    verify(token) {
      const hash = hashToken(token);
      const t = liveByHash.get(hash) as (Omit<TokenRecord, 'enrolled_host'> & { enrolled_host: string | null }) | undefined;
      if (!t) return enroll.byHash(hash) ?? null;
      const { enrolled_host, ...record } = t;
      return enrolled_host === null ? record : { ...record, enrolled_host };
    },
    isRevoked(token) {
      const hash = hashToken(token);
      return revokedByHash.get(hash) !== undefined || enroll.isRevoked(hash);
    },
    list() {
      const merged = [...(all.all() as TokenRecord[]).map((t) => withHost(t)!), ...enroll.list()];
      return merged.sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    revoke(id, now) {
      return revoke.run(now, id).changes > 0 || enroll.revoke(id, now);
    },
    countActive(role) {
      if (role === 'enroll') return enroll.countActive();
      return (countActive.get(role) as { n: number }).n;
    },
    bindHost(id, host, now) {
      bind.run(id, host, now);
      return (boundHost.get(id) as { host: string }).host;
    },
    bindAgent(agentId, id, now) {
      // Already this token's (a restart, a cache cleared): a read, which waits for nothing.
      const current = boundToken.get(agentId) as string | undefined;
      if (current === id) return id;
      // The write runs on the collector's event loop and is not fsynced by itself: 1,000 agents
      // appearing in 10 s were 1,000 fsyncs there (load benchmark: bindAgent 14 of the event
      // loop's 58 busy CPU-profile seconds, every request waiting behind them). Its WAL frames
      // precede those of the log commit of the request that binds (the writer thread's, fsynced
      // with synchronous=FULL), so it is durable before that request is acknowledged; lost to a
      // power cut only with that unacknowledged request, which binds again when resent.
      db.pragma('synchronous = NORMAL');
      try {
        bindAgent.run(agentId, id, now);
      } finally {
        db.pragma(`synchronous = ${sync}`);
      }
      return boundToken.get(agentId) as string;
    },
    enroll(secret, host, agentId, now) {
      return enroll.enroll(secret === null ? null : hashToken(secret), host, agentId, now, (e) => {
        const token = newTokenSecret('agent');
        const record: TokenRecord = { id: 'tok_' + randomBytes(6).toString('hex'), name: `${e.name}/${host}`.slice(0, 255), role: 'agent', created_at: now, revoked_at: null };
        insert.run({ ...record, hash: hashToken(token) });
        return { token, record };
      });
    },
  };
}
