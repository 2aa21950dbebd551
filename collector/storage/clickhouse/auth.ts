// Tokens, enrollment, bindings and dashboard sessions on ClickHouse (--storage clickhouse): what
// several collectors behind one load balancer must agree on, so that an agent or a browser may
// reach any of them. Every call goes through `guarded` (an unreachable ClickHouse is a 503, as
// for the log store).
import type { SessionLimits, SessionStore, TokenStore } from '../types.js';
import { ensureAuthSchema } from './auth-schema.js';
import { connectDatabase, guarded } from './connection.js';
import { checkDatabaseName } from './schema.js';
import { clickhouseSessionStore } from './sessions.js';
import { clickhouseTokenStore, type ClickHouseTokenOptions } from './tokens.js';
import type { ClickHouseLogOptions } from './types.js';

export { REVOCATION_DELAY_MS } from './tokens.js';

export interface ClickHouseAuth {
  tokens: TokenStore;
  openSessions(limits: SessionLimits): SessionStore;
  close(): Promise<void>;
}

type Opts = Pick<ClickHouseLogOptions, 'url' | 'database' | 'requestTimeoutMs' | 'username' | 'password' | 'cluster' | 'zookeeperPath'> & ClickHouseTokenOptions;

/** each async method of `o` behind `guarded` */
function guardAll<T extends object>(o: T, what: string, url: string): T {
  const out = { ...o } as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) {
    if (typeof v === 'function' && k !== 'close') out[k] = (...a: unknown[]) => guarded(what, url, () => (v as (...x: unknown[]) => Promise<unknown>).apply(o, a));
  }
  return out as T;
}

export async function openClickHouseAuth(opts: Opts): Promise<ClickHouseAuth> {
  const database = checkDatabaseName(opts.database);
  const { client, layout, url } = await connectDatabase(opts, database);
  try {
    await guarded('set up the token and session tables', url, () => ensureAuthSchema(client, database, layout));
  } catch (err) {
    await client.close();
    throw err;
  }
  return {
    tokens: guardAll(clickhouseTokenStore(client, { ...opts, layout }), 'read or write tokens', url),
    openSessions: (limits) => guardAll(clickhouseSessionStore(client, limits), 'read or write dashboard sessions', url),
    close: () => client.close(),
  };
}
