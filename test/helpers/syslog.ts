// A collector app with its syslog receiver on ephemeral loopback ports, a read-only view of its
// real SQLite file (to check facility, pid and fields, which the API does not return), and
// plain socket clients for crafted frames.
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../collector/app.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import type { Storage } from '../../collector/storage/types.js';
import { tempDir, waitFor } from './proc.js';

export interface Row {
  ts: number;
  host: string;
  source: string;
  program: string | null;
  pid: number | null;
  facility: number | null;
  severity: number;
  message: string;
  fields: string | null;
}

export interface SyslogApp {
  app: FastifyInstance;
  dir: string;
  udpPort: number;
  tcpPort: number;
  rows(where?: string, ...params: unknown[]): Row[];
  /** waits until `n` rows match */
  waitRows(n: number, where?: string, ...params: unknown[]): Promise<Row[]>;
  close(): Promise<void>;
}

/**
 * A real SQLite store whose log commits (`ingest`, and `ingestMany`, which the receiver's group
 * writer uses) first call `before`: to count them, or to fail them by throwing.
 */
export function storageWithCommitHook(before: () => void): (dir: string) => Storage {
  return (dir) => {
    const real = openSqliteStorage(dir);
    return {
      ...real,
      logs: {
        ...real.logs,
        ingest: (b, at) => (before(), real.logs.ingest(b, at)),
        ingestMany: (items) => (before(), real.logs.ingestMany(items)),
      },
    };
  };
}

/** a hook for storageWithCommitHook that fails the first `n` commits as a full disk would */
export function failFirstCommits(n: number): () => void {
  return () => {
    if (n-- > 0) throw new Error('SQLITE_FULL: database or disk is full');
  };
}

export async function syslogApp(opts: { syslog?: AppOptions['syslog']; storage?: (dir: string) => Storage; clock?: () => number } = {}): Promise<SyslogApp> {
  const dir = tempDir('ringtail-syslog-');
  const storage = opts.storage?.(dir.path);
  const app = await buildApp({
    dataDir: dir.path,
    storage,
    clock: opts.clock,
    syslog: { udp_port: 0, tcp_port: 0, ...opts.syslog, tuning: { flushMs: 20, ...opts.syslog?.tuning } },
  });
  await app.ready();
  const addrs = await app.syslog.start();
  const db = new Database(join(dir.path, 'ringtail.db'), { readonly: true, fileMustExist: true });
  const rows = (where = '1=1', ...params: unknown[]) =>
    db.prepare(`SELECT ts, host, source, program, pid, facility, severity, message, fields FROM logs WHERE ${where} ORDER BY id`).all(...params) as Row[];
  return {
    app,
    dir: dir.path,
    udpPort: addrs.find((a) => a.transport === 'udp')!.port,
    tcpPort: addrs.find((a) => a.transport === 'tcp')!.port,
    rows,
    waitRows: (n, where, ...params) =>
      waitFor(`${n} rows${where ? ` where ${where}` : ''}`, () => {
        const r = rows(where, ...params);
        return r.length >= n ? r : undefined;
      }),
    async close() {
      await app.close();
      db.close();
      storage?.close();
      dir.cleanup();
    },
  };
}

/** Opens a connection, writes each chunk in turn, ends it and waits for the close. */
export async function sendTcp(port: number, ...chunks: Array<string | Buffer>): Promise<void> {
  const s = await openTcp(port);
  for (const c of chunks) await new Promise<void>((resolve, reject) => s.write(c, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve) => {
    s.on('close', () => resolve());
    s.end();
  });
}

export function openTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}

export async function sendUdp(port: number, ...datagrams: Array<string | Buffer>): Promise<void> {
  const s = createSocket('udp4');
  for (const d of datagrams) await new Promise<void>((resolve, reject) => s.send(d, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve) => s.close(() => resolve()));
}

/** RFC 6587 octet counting. */
export function octet(msg: string | Buffer): Buffer {
  const b = Buffer.isBuffer(msg) ? msg : Buffer.from(msg);
  return Buffer.concat([Buffer.from(`${b.length} `), b]);
}

/** Deterministic junk (xorshift), so a failure can be replayed. */
export function junk(n: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
