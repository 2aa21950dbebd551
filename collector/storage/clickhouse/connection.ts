// The one place that talks to @clickhouse/client. Every failure to reach ClickHouse or to run a
// statement there becomes an UnavailableError (503 with Retry-After, RINGTAIL_ERR_STORAGE), so
// that ingest answers what it answers for a failed SQLite commit: nothing of the batch is
// acknowledged and the agent keeps it spooled and sends it again. A person's mistake (a bad
// search, a bad cursor) is refused before any statement is sent and keeps its own 4xx.
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { ConfigError, RingtailError } from '../../../shared/errors.js';
import { STORAGE_RETRY_S, UnavailableError } from '../../ingest/unavailable.js';
import { runDdl } from './component-schema.js';
import { layoutOf, type Layout } from './layout.js';
import type { ClickHouseLogOptions } from './types.js';

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export function openClient(opts: ClickHouseLogOptions, database?: string): ClickHouseClient {
  return createClient({
    url: opts.url,
    database,
    username: opts.username,
    password: opts.password,
    request_timeout: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    // ids and times are Int64/UInt64 below 2^53: plain JSON numbers, not strings
    clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    // failures are reported through the errors thrown here, not the client's own console log
    log: { level: ClickHouseLogLevel.OFF },
  });
}

/** Runs `fn`, turning any failure that is not already a RingtailError into a 503. */
export async function guarded<T>(what: string, url: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RingtailError) throw err;
    const e = err as { message?: string; code?: string };
    const detail = `${e.code !== undefined ? `${e.code} ` : ''}${e.message ?? String(err)}`;
    throw new UnavailableError(`ClickHouse at ${url} could not ${what}, retry later: ${detail}`, STORAGE_RETRY_S, 'storage');
  }
}

/** `clickhouse.url` without credentials, for messages; a config error when it is not a URL */
export function shownUrl(raw: string): string {
  try {
    const u = new URL(raw);
    u.username = '';
    u.password = '';
    return u.origin + (u.pathname === '/' ? '' : u.pathname);
  } catch {
    throw new ConfigError('clickhouse.url', `not a URL: '${raw}'`);
  }
}

/** CREATE DATABASE IF NOT EXISTS on a connection of its own (the database may not exist yet) */
export async function ensureDatabase(opts: ClickHouseLogOptions, database: string, url: string): Promise<void> {
  const layout = layoutOf(opts, database);
  const admin = openClient(opts);
  try {
    await guarded('create the database', url, () => runDdl(admin, `CREATE DATABASE IF NOT EXISTS ${database}`, layout));
  } finally {
    await admin.close();
  }
}

/**
 * A store's client on its database (`database`: the name checkDatabaseName let through), the
 * database created when it is missing, with the layout and the URL as messages show it: how
 * every ClickHouse store opens.
 */
export async function connectDatabase(opts: ClickHouseLogOptions, database: string): Promise<{ client: ClickHouseClient; layout: Layout; url: string }> {
  const layout = layoutOf(opts, database);
  const url = shownUrl(opts.url);
  await ensureDatabase(opts, database, url);
  return { client: openClient(opts, database), layout, url };
}
