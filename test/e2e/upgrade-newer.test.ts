// A data directory from a NEWER ringtail (docs/upgrades.md): `ringtail collector` refuses it at
// start, exits non-zero and says what to run — the version that wrote it, or the copy saved
// before the upgrade — and writes nothing to it. The log store, the alert tables and the
// round-robin store each carry their own version; each is checked.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../../collector/app.js';
import { packageVersion } from '../../cli/commands/version.js';
import { LOG_SCHEMA_VERSION } from '../../collector/storage/sqlite/open.js';
import { runRingtail, tempDir } from '../helpers/proc.js';

let dir: { path: string; cleanup(): void } | null = null;
afterEach(() => {
  dir?.cleanup();
  dir = null;
});

/** A data directory made by today's collector, then edited as a newer version would leave it. */
async function dataDir(edit: (db: Database.Database, metrics: Database.Database) => void): Promise<string> {
  dir = tempDir('ringtail-newer-');
  const app = await buildApp({ dataDir: dir.path });
  await app.ready();
  await app.close();
  const db = new Database(join(dir.path, 'ringtail.db'));
  const metrics = new Database(join(dir.path, 'metrics.db'));
  edit(db, metrics);
  db.close();
  metrics.close();
  return dir.path;
}
const digest = (d: string) => readdirSync(d).filter((f) => f.endsWith('.db')).map((f) => `${f} ${createHash('sha256').update(readFileSync(join(d, f))).digest('hex')}`);

async function refused(data: string) {
  const before = digest(data);
  const r = await runRingtail(['collector', '--data', data, '--listen', '127.0.0.1:0', '--admin-token', 'rt_admin_newer_schema_test_0123456789', '--log-level', 'warn', '--no-syslog-enabled']);
  expect(r.code).not.toBe(0);
  expect(r.stdout).not.toContain('listening');
  expect(digest(data)).toEqual(before);
  return r.stderr.trim();
}

describe('a database from a newer ringtail', () => {
  it('log store: refused, naming the version that wrote it and what to run', async () => {
    const data = await dataDir((db) => {
      db.pragma(`user_version = ${LOG_SCHEMA_VERSION + 1}`);
      db.prepare("UPDATE ringtail_meta SET value = '0.9.0' WHERE key = 'schema_written_by'").run();
    });
    const err = await refused(data);
    expect(err).toContain('RINGTAIL_ERR_STORAGE');
    expect(err).toContain(`log store schema version ${LOG_SCHEMA_VERSION + 1} was written by ringtail 0.9.0`);
    expect(err).toContain(`this is ringtail ${packageVersion()}, which knows up to version ${LOG_SCHEMA_VERSION}`);
    expect(err).toContain('run ringtail 0.9.0 or newer on this data directory');
    expect(err).toContain('docs/upgrades.md');
    expect(err.split('\n')).toHaveLength(1);
  }, 60_000);

  it('log store written before the writer was recorded: still says what to do', async () => {
    const data = await dataDir((db) => {
      db.pragma('user_version = 12');
      db.exec('DROP TABLE ringtail_meta');
    });
    const err = await refused(data);
    expect(err).toContain('log store schema version 12 was written by a newer ringtail');
    expect(err).toContain('run the newer ringtail that wrote it on this data directory, or start this one on the copy saved before the upgrade');
  }, 60_000);

  it('alert tables: refused the same way', async () => {
    const data = await dataDir((db) => {
      db.prepare('UPDATE alerts_schema SET version = version + 1').run();
      db.prepare("UPDATE ringtail_meta SET value = '0.9.1' WHERE key = 'schema_written_by'").run();
    });
    const err = await refused(data);
    expect(err).toContain('RINGTAIL_ERR_STORAGE');
    expect(err).toMatch(/alerts schema version \d+ was written by ringtail 0\.9\.1/);
    expect(err).toContain('run ringtail 0.9.1 or newer');
  }, 60_000);

  it('round-robin store: refused the same way', async () => {
    const data = await dataDir((_db, metrics) => {
      metrics.prepare("UPDATE rrd_meta SET value = '2' WHERE key = 'version'").run();
    });
    const err = await refused(data);
    expect(err).toContain('RINGTAIL_ERR_STORAGE');
    expect(err).toContain('round-robin store format version 2 was written by a newer ringtail');
    expect(err).toContain('knows up to version 1');
  }, 60_000);

  it('the ringtail that migrates a database records itself', async () => {
    const data = await dataDir(() => {});
    const db = new Database(join(data, 'ringtail.db'), { readonly: true });
    expect(db.prepare("SELECT value FROM ringtail_meta WHERE key = 'schema_written_by'").pluck().get()).toBe(packageVersion());
    db.close();
  });
});
