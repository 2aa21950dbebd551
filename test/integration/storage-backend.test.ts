// The storage backend is chosen in one place (collector/storage/factory.ts) by `--storage`:
// sqlite by default; clickhouse keeps the log lines in ClickHouse (the rest in --data for now,
// docs/scale-out.md), and a collector that cannot reach ClickHouse at start opens nothing.
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { CollectorConfig } from '../../collector/config.js';
import { startCollector } from '../../collector/server.js';
import { runRingtail, tempDir } from '../helpers/proc.js';

const NO_SYSLOG = Value.Default(CollectorConfig.properties.syslog, { enabled: false }) as CollectorConfig['syslog'];
const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function data(): string {
  const d = tempDir('ringtail-backend-');
  cleanups.push(d.cleanup);
  return join(d.path, 'data');
}

describe('--storage', () => {
  it('clickhouse that cannot be reached at start: a coded storage error naming the URL, and nothing opened in --data', async () => {
    const dir = data();
    // a port nobody listens on
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const r = await runRingtail(['collector', '--data', dir, '--listen', '127.0.0.1:0', '--storage', 'clickhouse', '--clickhouse-url', `http://127.0.0.1:${port}`, '--clickhouse-database', 'logs_a']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`RINGTAIL_ERR_STORAGE ClickHouse at http://127\\.0\\.0\\.1:${port} could not create the database.*ECONNREFUSED`));
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([]);
  });

  it('clickhouse without --clickhouse-url names the missing flag', async () => {
    const r = await runRingtail(['collector', '--data', data(), '--listen', '127.0.0.1:0', '--storage', 'clickhouse']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/RINGTAIL_ERR_CONFIG.*--clickhouse-url: required with --storage clickhouse/);
  });

  it('an unknown backend and a bad database name are schema errors naming the option', async () => {
    const a = await runRingtail(['collector', '--data', data(), '--storage', 'postgres']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/RINGTAIL_ERR_CONFIG.*--storage/);
    const b = await runRingtail(['collector', '--data', data(), '--storage', 'clickhouse', '--clickhouse-url', 'http://h:8123', '--clickhouse-database', 'x; DROP']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/RINGTAIL_ERR_CONFIG.*--clickhouse-database/);
  });

  it('sqlite is the default: the server opens the store through the factory, in --data', async () => {
    const dir = data();
    const c = await startCollector({ data: dir, listen: '127.0.0.1:0', body_limit: 1 << 20, log_level: 'error', syslog: NO_SYSLOG }, { write: () => true } as unknown as NodeJS.WritableStream);
    cleanups.push(() => c.close());
    expect(c.app.storage.config).toEqual({ backend: 'sqlite', data: dir });
    expect(existsSync(join(dir, 'ringtail.db'))).toBe(true);
  });
});
