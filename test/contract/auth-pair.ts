// Two collectors' views of one token and session store, for the contract suites
// (tokens.contract.ts, sessions.contract.ts): on SQLite two connections to one database file (two
// collectors on one machine, or the CLI beside a collector); on ClickHouse two clients on one
// database (two collectors behind a load balancer).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { openClient } from '../../collector/storage/clickhouse/connection.js';
import { openClickHouseAuth, REVOCATION_DELAY_MS } from '../../collector/storage/clickhouse/auth.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import type { SessionLimits, SessionStore, TokenStore } from '../../collector/storage/types.js';
import { tempDir } from '../helpers/proc.js';

export interface AuthView {
  tokens: TokenStore;
  openSessions(limits: SessionLimits): SessionStore;
}

export interface AuthPair {
  a: AuthView;
  b: AuthView;
  /** every value the backend keeps for tokens and sessions, as text (to look for secrets in) */
  stored(): Promise<string>;
  /** how long `b` may go on accepting a token revoked through `a` (ms of its clock) */
  revocationDelayMs: number;
  /** moves the clock `b` times its token cache by */
  advance(ms: number): void;
  close(): Promise<void>;
}

export type OpenPair = () => Promise<AuthPair>;

export function sqlitePair(): OpenPair {
  return async () => {
    const dir = tempDir('ringtail-auth-');
    const a = openSqliteStorage(dir.path);
    const b = openSqliteStorage(dir.path);
    return {
      a,
      b,
      async stored() {
        const db = new Database(join(dir.path, 'ringtail.db'), { readonly: true });
        try {
          const wanted = ['tokens', 'enroll_tokens', 'enrolled_tokens', 'token_hosts', 'agent_tokens', 'dashboard_sessions'];
          const present = new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as Array<{ name: string }>).map((r) => r.name));
          const tables = wanted.filter((t) => present.has(t));
          expect(tables).toContain('tokens');
          return tables.map((t) => JSON.stringify(db.prepare(`SELECT * FROM ${t}`).all())).join('\n');
        } finally {
          db.close();
        }
      },
      revocationDelayMs: 0,
      advance() {},
      async close() {
        a.close();
        b.close();
        dir.cleanup();
      },
    };
  };
}

let n = 0;

export function clickhousePair(url: () => string): OpenPair {
  return async () => {
    const database = `auth_${process.pid}_${n++}`;
    let now = Date.now();
    const a = await openClickHouseAuth({ url: url(), database });
    const b = await openClickHouseAuth({ url: url(), database, clock: () => now });
    const raw = openClient({ url: url(), database }, database);
    return {
      a,
      b,
      async stored() {
        const out: string[] = [];
        for (const t of ['tokens', 'claims', 'dashboard_sessions']) out.push(await (await raw.query({ query: `SELECT * FROM ${t}`, format: 'JSONEachRow' })).text());
        return out.join('\n');
      },
      revocationDelayMs: REVOCATION_DELAY_MS,
      advance(ms) {
        now += ms;
      },
      async close() {
        await a.close();
        await b.close();
        await raw.close();
      },
    };
  };
}
