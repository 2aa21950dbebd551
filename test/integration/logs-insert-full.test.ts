// The rows of a transaction go into `logs` by multi-row INSERT OR FAIL statements: OR FAIL spares
// SQLite the statement journal (a copy of every page a statement touches first, which lines out
// of time order made ~16 KB written per stored line), and a statement that fails part-way keeps
// its earlier rows only until the whole transaction rolls back. This proves that last part with
// a real SQLITE_FULL in the middle of a transaction: nothing of it stays, the stream's committed
// offset does not move, and the same batch is stored once, whole, when there is room again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteLogStore } from '../../collector/storage/sqlite/logs.js';
import { openDatabase, type Db } from '../../collector/storage/sqlite/open.js';
import { WIRE_VERSION, type IngestBatch, type WireLine } from '../../shared/wire.js';

const T0 = Date.UTC(2026, 11, 7, 12);
let dir = '';
let db: Db | null = null;
afterEach(() => {
  db?.close();
  db = null;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `n` lines whose times cycle within a minute (so each row lands on another index page), long messages */
function batch(stream: string, n: number, host: string): IngestBatch {
  const lines: WireLine[] = [];
  let o = 0;
  for (let i = 0; i < n; i++) {
    const message = `${stream} line ${i} ${'payload '.repeat(40)}${(i * 7919) % 100_003}`;
    lines.push({ offset: o, ts: T0 + ((i * 7919) % 60_000), severity: 6, message });
    o += message.length + 1;
  }
  return { version: WIRE_VERSION, agent_id: 'agt_full', host, segments: [{ stream, source: '/var/log/app.log', start: 0, end: o, lines }] };
}

describe('a full disk in the middle of a log transaction', () => {
  it('leaves nothing of it, and the same batch is stored once when there is room', () => {
    dir = mkdtempSync(join(tmpdir(), 'rt-insert-full-'));
    db = openDatabase(dir);
    const store = sqliteLogStore(db);
    const count = () => db!.prepare('SELECT count(*) FROM logs').pluck().get() as number;
    const committed = () => db!.prepare("SELECT committed_end FROM streams WHERE stream = 'big'").pluck().get();
    expect(store.ingest(batch('small', 50, 'web-1'), T0).accepted).toBe(50);
    const pages = db.pragma('page_count', { simple: true }) as number;
    // room for a few more pages only: the 3,000 lines (~1 MB of rows) fail part-way
    db.pragma(`max_page_count = ${pages + 8}`);
    const big = batch('big', 3_000, 'web-2');
    expect(() => store.ingest(big, T0)).toThrow(/SQLITE_FULL|full/i);
    expect(db.inTransaction).toBe(false);
    expect(count()).toBe(50);
    expect(committed()).toBeUndefined();
    expect(db.prepare("SELECT count(*) FROM logs_fts WHERE logs_fts MATCH 'big'").pluck().get()).toBe(0);
    db.pragma('max_page_count = 1073741823');
    const ack = store.ingest(big, T0);
    expect(ack.accepted).toBe(3_000);
    expect(count()).toBe(3_050);
    expect(db.prepare("SELECT count(DISTINCT message) FROM logs WHERE message LIKE 'big line %'").pluck().get()).toBe(3_000);
    expect(db.prepare("SELECT count(*) FROM logs_fts WHERE logs_fts MATCH 'big'").pluck().get()).toBe(3_000);
    expect(committed()).toBe(big.segments[0]!.end);
    expect(store.ingest(big, T0)).toMatchObject({ accepted: 0 });
  });
});
