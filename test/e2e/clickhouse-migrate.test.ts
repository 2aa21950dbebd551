// `ringtail migrate`: a SQLite store's lines copied into ClickHouse (chdb behind the real client
// protocol) by the real command in a child process, compared line by line with the source;
// killed (SIGKILL) mid-way and run again, every line is stored exactly once; run again with its
// progress record removed, the lines' own identity still stores nothing twice.
import { describe, expect, it } from 'vitest';
import { openClient } from '../../collector/storage/clickhouse/connection.js';
import { openClickHouseLogStore } from '../../collector/storage/clickhouse/index.js';
import { openStorage, storageConfig } from '../../collector/storage/factory.js';
import type { IngestItem } from '../../collector/storage/types.js';
import { WIRE_VERSION, type LogItem, type WireLine } from '../../shared/wire.js';
import { chdbForFile } from '../contract/chdb-fixture.js';
import { ringtail, runRingtail, tempDir, waitFor } from '../helpers/proc.js';

const chdb = chdbForFile('ringtail-migrate-chdb-');
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 28, 22);

/** A SQLite store of `n` lines: 3 hosts, 2 files each, over three days, some with fields, pid, facility. */
async function sqliteStore(dir: string, n: number): Promise<void> {
  const s = openStorage(storageConfig({ data: dir }));
  try {
    const offsets = new Map<string, number>();
    const items: IngestItem[] = [];
    for (let i = 0; i < n; i += 25) {
      const host = `web-${(i / 25) % 3}`;
      const stream = `${host}:${(i / 25) % 2}`;
      let off = offsets.get(stream) ?? 0;
      const start = off;
      const lines: WireLine[] = [];
      for (let k = i; k < Math.min(n, i + 25); k++) {
        const message = `line ${k} of the migration corpus: user=u${k % 7} took ${k % 97} ms`;
        const line: WireLine = { offset: off, ts: T0 + Math.floor((k * 3 * DAY) / n), severity: k % 8, message };
        if (k % 3 === 0) line.program = `app${k % 4}`;
        if (k % 5 === 0) line.pid = 1000 + k;
        if (k % 4 === 0) line.facility = k % 24;
        if (k % 2 === 0) line.fields = { user: `u${k % 7}`, k: String(k) };
        lines.push(line);
        off += Buffer.byteLength(message) + 1;
      }
      offsets.set(stream, off);
      items.push({
        batch: { version: WIRE_VERSION, agent_id: `agt-${host}`, host, segments: [{ stream, source: `/var/log/${stream.endsWith('0') ? 'syslog' : 'app.log'}`, start, end: off, lines }] },
        receivedAt: T0 + i * 1000,
      });
    }
    for (let i = 0; i < items.length; i += 40) await s.logs.ingestMany(items.slice(i, i + 40));
  } finally {
    s.close();
  }
}

/** a line as both stores must agree on it (ids differ: ClickHouse numbers its own) */
const canon = (l: LogItem) =>
  JSON.stringify([l.ts, l.received_at, l.host, l.source, l.program ?? null, l.pid ?? null, l.facility ?? null, l.severity, l.message, l.fields && Object.keys(l.fields).length ? l.fields : null]);

async function sourceLines(dir: string): Promise<string[]> {
  const s = openStorage(storageConfig({ data: dir }));
  try {
    return (await s.logs.since(0, 1_000_000)).map(canon).sort();
  } finally {
    s.close();
  }
}

async function clickhouseLines(database: string): Promise<string[]> {
  const store = await openClickHouseLogStore({ url: chdb.server.url, database });
  try {
    return (await store.since(0, 1_000_000)).map(canon).sort();
  } finally {
    await store.close();
  }
}

async function scalar(database: string, sql: string): Promise<number> {
  const c = openClient({ url: chdb.server.url, database }, database);
  try {
    return Number(((await (await c.query({ query: sql, format: 'JSONEachRow' })).json()) as Array<{ n: number }>)[0]!.n);
  } finally {
    await c.close();
  }
}

const migrate = (data: string, database: string, extra: string[] = []) =>
  ['migrate', '--from-data', data, '--storage', 'clickhouse', '--clickhouse-url', chdb.server.url, '--clickhouse-database', database, '--source', 'src-a', ...extra];

describe('ringtail migrate (SQLite → ClickHouse)', () => {
  it('copies every line with its host, program, pid, facility, severity, times and fields; a rerun copies nothing', async () => {
    const dir = tempDir('ringtail-migrate-');
    try {
      await sqliteStore(dir.path, 2000);
      const want = await sourceLines(dir.path);
      expect(want).toHaveLength(2000);
      const first = await runRingtail(migrate(dir.path, 'mig_full', ['--batch-lines', '700']));
      expect(first.stderr).toBe('');
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/starting/);
      expect(first.stdout).toMatch(/done, up to id 2000: 2000 lines copied, 0 already there/);
      expect(await clickhouseLines('mig_full')).toEqual(want);

      const again = await runRingtail(migrate(dir.path, 'mig_full'));
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/resuming after id 2000/);
      expect(again.stdout).toMatch(/0 lines copied/);

      // without its progress record the copy reads everything again; the lines' (stream, offset)
      // identity drops every one of them
      const c = openClient({ url: chdb.server.url, database: 'mig_full' }, 'mig_full');
      await c.command({ query: `ALTER TABLE stream_offsets DELETE WHERE stream = 'progress'`, clickhouse_settings: { mutations_sync: '2' } });
      await c.close();
      const third = await runRingtail(migrate(dir.path, 'mig_full'));
      expect(third.code).toBe(0);
      expect(third.stdout).toMatch(/starting/);
      expect(third.stdout).toMatch(/done, up to id 2000: 0 lines copied, 2000 already there/);
      expect(await scalar('mig_full', 'SELECT count() AS n FROM logs')).toBe(2000);

      // another store (or this one emptied, its ids starting again at 1) under the same name:
      // its lines would be taken for copied ones, so it is refused
      const other = tempDir('ringtail-migrate-');
      try {
        await sqliteStore(other.path, 50);
        const refused = await runRingtail(migrate(other.path, 'mig_full'));
        expect(refused.code).toBe(2);
        expect(refused.stderr).toMatch(/RINGTAIL_ERR_CONFIG --source: the source's line ids end at 50, below 2000, .*give it a --source of its own/);
        expect(await scalar('mig_full', 'SELECT count() AS n FROM logs')).toBe(2000);
      } finally {
        other.cleanup();
      }
    } finally {
      dir.cleanup();
    }
  }, 180_000);

  it('killed (SIGKILL) mid-way and run again: every line exactly once', async () => {
    const dir = tempDir('ringtail-migrate-');
    try {
      await sqliteStore(dir.path, 6000);
      const want = await sourceLines(dir.path);
      // first make the database and its tables, so the count below can be read while the copy runs
      await (await openClickHouseLogStore({ url: chdb.server.url, database: 'mig_kill' })).close();
      const p = ringtail(migrate(dir.path, 'mig_kill', ['--batch-lines', '50']));
      const partial = await waitFor('some lines copied', async () => {
        if (p.child.exitCode !== null) throw new Error(`migrate exited before it was killed: ${p.stdout()} ${p.stderr()}`);
        const n = await scalar('mig_kill', 'SELECT count() AS n FROM logs');
        // more than one step's lines (--batch-lines 50): the first step's progress record is
        // written, so the rerun resumes (a kill between a step's lines and its record was seen
        // under load: the rerun then starts over and stores those lines once, as "already there")
        return n > 50 ? n : undefined;
      }, 120_000, 50);
      await p.kill('SIGKILL');
      const atKill = await scalar('mig_kill', 'SELECT count() AS n FROM logs');
      expect(partial).toBeLessThan(6000);
      expect(atKill).toBeLessThan(6000);

      const rerun = await runRingtail(migrate(dir.path, 'mig_kill', ['--batch-lines', '1000']));
      expect(rerun.stderr).toBe('');
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toMatch(/resuming after id [1-9]/);
      expect(await scalar('mig_kill', 'SELECT count() AS n FROM logs')).toBe(6000);
      expect(await scalar('mig_kill', 'SELECT uniqExact(stream_id, line_offset) AS n FROM logs')).toBe(6000);
      expect(await clickhouseLines('mig_kill')).toEqual(want);
    } finally {
      dir.cleanup();
    }
  }, 300_000);

  it('refuses a directory without a store, and a missing --clickhouse-url, naming the option', async () => {
    const dir = tempDir('ringtail-migrate-');
    try {
      const none = await runRingtail(['migrate', '--from-data', dir.path, '--storage', 'clickhouse', '--clickhouse-url', chdb.server.url]);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/RINGTAIL_ERR_CONFIG --from-data: no ringtail store/);
      const noUrl = await runRingtail(['migrate', '--from-data', dir.path, '--storage', 'clickhouse']);
      expect(noUrl.code).toBe(2);
      expect(noUrl.stderr).toMatch(/RINGTAIL_ERR_CONFIG --clickhouse-url: required/);
    } finally {
      dir.cleanup();
    }
  }, 60_000);
});
