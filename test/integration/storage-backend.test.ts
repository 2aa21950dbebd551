// The storage backend is chosen in one place (collector/storage/factory.ts) by `--storage`:
// sqlite by default; clickhouse's options are accepted by the schema, and the collector refuses
// to start with them, before it opens anything, until that backend stores everything (issue 16).
import { existsSync, readdirSync } from 'node:fs';
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
  it('clickhouse is refused at start with a coded message naming what it cannot store, and nothing is opened', async () => {
    const dir = data();
    const r = await runRingtail(['collector', '--data', dir, '--listen', '127.0.0.1:0', '--storage', 'clickhouse', '--clickhouse-url', 'http://127.0.0.1:8123', '--clickhouse-database', 'logs_a']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('RINGTAIL_ERR_CONFIG');
    expect(r.stderr).toMatch(/--storage: the ClickHouse backend does not store logs, tokens, sessions, alerts or metric series yet/);
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
