// The metric store's WAL checkpointer (collector/rrd/sqlite-file.ts openWalCheckpointer): beside
// the one connection that writes, it copies the WAL back and starts it again from its beginning
// when the writer is between transactions, and never waits for a writer in a transaction. A WAL
// that is never started again grows until the writer's own checkpoint at SQLite's limit runs
// inside a commit (the fleet benchmark's 80-366 ms stalls, session 9).
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStoreDb, openWalCheckpointer } from '../../collector/rrd/sqlite-file.js';
import { tempDir } from '../helpers/proc.js';

describe('metric store WAL checkpointer', () => {
  const dirs: Array<{ cleanup(): void }> = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) d.cleanup();
  });

  const open = () => {
    const dir = tempDir('ringtail-wal-restart-');
    dirs.push(dir);
    const path = join(dir.path, 'metrics.db');
    const db = openStoreDb(path, true, 'FULL');
    db.exec('CREATE TABLE filler (k INTEGER PRIMARY KEY, v BLOB)');
    const insert = db.prepare('INSERT INTO filler (v) VALUES (?)');
    // one commit of `pages` new 4 KiB pages (and their parents) in the WAL
    const write = (pages: number) => db.transaction(() => {
      for (let i = 0; i < pages; i++) insert.run(Buffer.alloc(3500, i % 251));
    })();
    return { path, db, write, ck: openWalCheckpointer(path) };
  };

  it('copies the WAL back and starts it again while the writer is between transactions', () => {
    const { path, db, write, ck } = open();
    try {
      for (let i = 0; i < 10; i++) write(50);
      const first = ck.checkpoint();
      expect(first.frames).toBeGreaterThan(500);
      expect(first.restarted).toBe(true);
      const walBytes = statSync(`${path}-wal`).size;
      // the next commit is written from the WAL's beginning: the file does not grow and the
      // next checkpoint finds only that commit's frames
      write(50);
      expect(statSync(`${path}-wal`).size).toBe(walBytes);
      const second = ck.checkpoint();
      expect(second.frames).toBeGreaterThan(0);
      expect(second.frames).toBeLessThan(first.frames / 5);
      expect(second.restarted).toBe(true);
      expect((db.prepare('SELECT count(*) AS n FROM filler').get() as { n: number }).n).toBe(550);
    } finally {
      ck.close();
      db.close();
    }
  });

  it('a writer in a transaction: copies what is committed without waiting for it, and starts the WAL again at the next round', () => {
    const { db, write, ck } = open();
    try {
      for (let i = 0; i < 10; i++) write(50);
      db.exec('BEGIN IMMEDIATE');
      db.prepare('INSERT INTO filler (v) VALUES (?)').run(Buffer.alloc(100));
      const started = performance.now();
      const during = ck.checkpoint();
      // busy_timeout 0: no wait for the write lock (the store's own busy timeout is 5 s)
      expect(performance.now() - started).toBeLessThan(1000);
      expect(during.frames).toBeGreaterThan(500);
      expect(during.restarted).toBe(false);
      db.exec('COMMIT');
      // what the writer committed meanwhile is after the copied frames: the WAL goes on from there
      write(50);
      const after = ck.checkpoint();
      expect(after.frames).toBeGreaterThan(during.frames);
      expect(after.restarted).toBe(true);
      write(50);
      expect(ck.checkpoint().frames).toBeLessThan(during.frames / 5);
    } finally {
      ck.close();
      db.close();
    }
  });
});
