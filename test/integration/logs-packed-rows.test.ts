// The writer stores lines from their packed form (packed.ts, logs.ts ingestPacked) without an
// object per line, ordering rows by time and sharing statement values across batches. Whatever
// it does to be fast, the database must be the one a plain line-by-line reference writes: same
// rows and ids, same stream ends, hosts and hour spans, the same entries in every full-text
// index (FTS5's own listing of each token's rows and positions), the same search answers.
// The reference below is written from the lines with one INSERT per row, from the definitions
// of each derived text (hostToken, fieldsRow, numTokens), not from the store's statements.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fieldsRow } from '../../collector/storage/sqlite/fields-row.js';
import { hostToken } from '../../collector/storage/sqlite/host-tokens.js';
import { spanBucket } from '../../collector/storage/sqlite/logs.js';
import { numTokens } from '../../collector/storage/sqlite/num-tokens.js';
import { openDatabase, type Db } from '../../collector/storage/sqlite/open.js';
import { packItems } from '../../collector/storage/sqlite/packed.js';
import { openSqliteStorage } from '../../collector/storage/sqlite/index.js';
import { openSqliteWriter } from '../../collector/storage/sqlite/writer.js';
import { SYNC_LOGS, type IngestItem } from '../../collector/storage/types.js';
import { WIRE_VERSION, type IngestAck, type WireLine } from '../../shared/wire.js';
import { rng } from '../helpers/rng.js';

const T0 = Date.UTC(2026, 11, 7, 21);
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'rt-packed-rows-'));
  dirs.push(d);
  return d;
};

const MESSAGES = [
  (r: () => number) => `10.0.${Math.floor(r() * 4)}.${Math.floor(r() * 255)} - - "GET /api/v1/users?id=${Math.floor(r() * 1e5)} HTTP/1.1" 200 rt=0.${Math.floor(r() * 999)}`,
  (r: () => number) => `Accepted publickey for root from 192.168.1.${Math.floor(r() * 255)} port 22 ssh2 at 23:40:${Math.floor(r() * 60)}`,
  () => 'ünïcödé — 日本語 😀 a lone \ud800 surrogate and O\'Brien',
  () => '',
  (r: () => number) => `user@example.com id=${Math.floor(r() * 50)} ERR_CONN_RESET bar-marker-1-2 ${'x'.repeat(Math.floor(r() * 300))}`,
];

/** A line with every optional part present or not: program (also ''), pid, facility, fields ({} too), truncation. */
function line(r: () => number, offset: number, ts: number): WireLine {
  const l: WireLine = { offset, ts, severity: Math.floor(r() * 8), message: MESSAGES[Math.floor(r() * MESSAGES.length)]!(r) };
  const p = r();
  if (p < 0.7) l.program = p < 0.05 ? '' : ['sshd', 'nginx', 'app'][Math.floor(r() * 3)]!;
  if (r() < 0.6) l.pid = Math.floor(r() * 65536);
  if (r() < 0.5) l.facility = Math.floor(r() * 24);
  const f = r();
  if (f < 0.1) l.fields = {};
  else if (f < 0.4) l.fields = { user_id: String(Math.floor(r() * 20)), 'req.url': `/api/v1/x/${Math.floor(r() * 9)}` };
  if (r() < 0.05) l.truncated = r() < 0.5;
  return l;
}

/**
 * Groups as the writer thread gets them: syslog-like groups of one batch per host (hosts
 * interleaved, timestamps cycling within a second and out of order across batches), agent-like
 * batches of two streams, a stream twice in one group, redeliveries of whole and partial ranges,
 * and a batch sent ahead of its predecessor (`after`).
 */
function groups(): IngestItem[][] {
  const r = rng(8);
  const ends = new Map<string, number>();
  const seg = (host: string, stream: string, n: number, ts: (i: number) => number, from?: number) => {
    const start = from ?? ends.get(stream) ?? 0;
    const lines = Array.from({ length: n }, (_, i) => line(r, start + i * 10, ts(i)));
    const end = start + n * 10;
    ends.set(stream, Math.max(ends.get(stream) ?? 0, end));
    return { stream, source: stream.startsWith('tcp:') ? 'syslog:tcp' : `/var/log/${stream}.log`, start, end, lines };
  };
  const out: IngestItem[][] = [];
  let received = T0;
  for (let g = 0; g < 6; g++) {
    const items: IngestItem[] = [];
    // syslog: 12 hosts, 1–40 lines each, ts within one second but not in arrival order
    for (let h = 0; h < 12; h++) {
      const host = `web-${String(Math.floor(r() * 12)).padStart(2, '0')}`;
      const n = 1 + Math.floor(r() * 40);
      items.push({ batch: { version: WIRE_VERSION, agent_id: 'syslog', host, segments: [seg(host, `tcp:${host}`, n, () => T0 + g * 1000 + Math.floor(r() * 999))] }, receivedAt: received });
    }
    // an agent: two streams, lines in time order, more than one statement's worth
    const agent = `agt_${g % 2}`;
    items.push({
      batch: { version: WIRE_VERSION, agent_id: agent, host: `host-${g % 2}`, segments: [seg(`host-${g % 2}`, `${agent}-a`, 250, (i) => T0 + g * 60_000 + i), seg(`host-${g % 2}`, `${agent}-b`, 3, (i) => T0 - 7_200_000 + i)] },
      receivedAt: (received += 1),
    });
    if (g >= 2) {
      // a redelivery of the whole of an earlier range, and one that overlaps the committed end
      const prev = out[g - 1]!.at(-1)!.batch;
      items.push({ batch: prev, receivedAt: (received += 1) });
      const s = prev.segments[0]!;
      items.push({
        batch: { ...prev, segments: [seg(prev.host, s.stream, 30, (i) => T0 + g * 60_000 + 500 + i, (ends.get(s.stream) ?? 0) - 100)] },
        receivedAt: (received += 1),
      });
      // a batch whose predecessor has not been committed: refused, stores nothing
      items.push({ batch: { version: WIRE_VERSION, agent_id: agent, host: `host-${g % 2}`, segments: [seg(`host-${g % 2}`, `${agent}-c`, 5, (i) => T0 + i, 1_000_000)] }, receivedAt: received, after: { [`${agent}-c`]: 1_000_000 } });
    }
    out.push(items);
    received += 1000;
  }
  return out;
}

/** The reference: one statement per row, in arrival order, from the definitions of each derived text. */
function reference(db: Db, items: IngestItem[]): IngestAck[] {
  const committedOf = db.prepare('SELECT committed_end FROM streams WHERE agent_id = ? AND stream = ?').pluck();
  const putStream = db.prepare('INSERT OR REPLACE INTO streams (agent_id, stream, committed_end, updated_at) VALUES (?, ?, ?, ?)');
  const maxId = db.prepare('SELECT coalesce(max(id), 0) FROM logs').pluck();
  const insLog = db.prepare('INSERT INTO logs (id, ts, received_at, host, source, program, pid, facility, severity, message, fields) VALUES (?,?,?,?,?,?,?,?,?,?,?)');
  const insFts = db.prepare('INSERT INTO logs_fts (rowid, message) VALUES (?, ?)');
  const insFields = db.prepare('INSERT INTO log_fields_fts (rowid, t) VALUES (?, ?)');
  const insNums = db.prepare('INSERT INTO log_nums_fts (rowid, t) VALUES (?, ?)');
  const putHost = db.prepare('INSERT INTO hosts (host, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT (host) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)');
  const putSpan = db.prepare('INSERT INTO log_spans (bucket, min_id, max_id) VALUES (?, ?, ?) ON CONFLICT (bucket) DO UPDATE SET min_id = min(min_id, excluded.min_id), max_id = max(max_id, excluded.max_id)');
  return db.transaction(() =>
    items.map(({ batch, receivedAt, after }): IngestAck => {
      if (after && Object.entries(after).some(([s, end]) => ((committedOf.get(batch.agent_id, s) as number | undefined) ?? 0) < end)) {
        return { accepted: 0, duplicates: 0, committed: {}, out_of_order: true };
      }
      const ack: IngestAck = { accepted: 0, duplicates: 0, committed: {} };
      for (const seg of batch.segments) {
        const prior = committedOf.get(batch.agent_id, seg.stream) as number | undefined;
        for (const l of seg.lines) {
          if (prior !== undefined && l.offset < prior) {
            ack.duplicates++;
            continue;
          }
          const id = (maxId.get() as number) + 1;
          const fr = fieldsRow(l);
          insLog.run(id, l.ts, receivedAt, batch.host, seg.source, l.program ?? null, l.pid ?? null, l.facility ?? null, l.severity, l.message, fr?.[0] ?? null);
          insFts.run(id, `${l.message} ${hostToken(batch.host)}`);
          if (fr) insFields.run(id, fr[1]);
          const nt = numTokens(l.message);
          if (nt !== '') insNums.run(id, nt);
          putSpan.run(spanBucket(l.ts), id, id);
          ack.accepted++;
        }
        const end = Math.max(prior ?? 0, seg.end);
        putStream.run(batch.agent_id, seg.stream, end, receivedAt);
        ack.committed[seg.stream] = end;
      }
      putHost.run(batch.host, receivedAt, receivedAt);
      return ack;
    }),
  ).immediate();
}

/** Everything the two databases must agree on, each full-text index as FTS5 lists it. */
function contents(db: Db): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const [name, sql] of [
    ['logs', 'SELECT * FROM logs ORDER BY id'],
    ['streams', 'SELECT * FROM streams ORDER BY agent_id, stream'],
    ['hosts', 'SELECT * FROM hosts ORDER BY host'],
    ['log_spans', 'SELECT * FROM log_spans ORDER BY bucket'],
    ['log_index_meta', 'SELECT * FROM log_index_meta ORDER BY key'],
  ] as const) {
    out[name] = db.prepare(sql).all();
  }
  for (const t of ['logs_fts', 'log_fields_fts', 'log_nums_fts']) {
    db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.v_${t} USING fts5vocab(main, ${t}, 'instance')`);
    out[t] = db.prepare(`SELECT term, doc, col, offset FROM temp.v_${t} ORDER BY term, doc, offset`).all();
  }
  return out;
}

describe('rows from packed segments', () => {
  it('make the database a line-by-line reference makes: rows, ids, streams, hosts, spans, every index entry', () => {
    const store = openSqliteWriter(tempDir());
    const refDir = tempDir();
    const ref = openDatabase(refDir);
    const storeDir = dirs[0]!;
    try {
      for (const items of groups()) {
        const got = store.ingestPacked!(structuredClone(packItems(items).packed));
        expect(got).toEqual(reference(ref, items));
      }
      const db = openDatabase(storeDir);
      try {
        const a = contents(db);
        const b = contents(ref);
        expect(a.logs!.length).toBeGreaterThan(1500);
        expect((a.logs_fts as unknown[]).length).toBeGreaterThan(10_000);
        expect((a.log_fields_fts as unknown[]).length).toBeGreaterThan(300);
        expect((a.log_nums_fts as unknown[]).length).toBeGreaterThan(300);
        for (const k of Object.keys(b)) expect({ [k]: a[k] }).toEqual({ [k]: b[k] });
      } finally {
        db.close();
      }
    } finally {
      store.close();
      ref.close();
    }
    // and the same answers to searches of every shape, through the store's own query path
    const answers = (dir: string) => {
      const s = openSqliteStorage(dir);
      try {
        const logs = s.logs[SYNC_LOGS]!;
        return [
          '10.0.1', '"10.0.2.17"', 'user@example.com', '/api/v1/users', 'id=42', 'bar-marker-1-2', 'ERR_CONN_RESET', "O'Brien", '日本語',
          'publickey -root', 'acc*', 'host:web-03 publickey', 'field.user_id:7', 'program:sshd', 'level:>=warning', '23:40:15', 'ssh2 at',
        ].map((q) => ({ q, ids: logs.query({ q, limit: 5000 }).items.map((i) => i.id) }));
      } finally {
        s.close();
      }
    };
    const mine = answers(storeDir);
    expect(mine.filter((a) => a.ids.length > 0).length).toBeGreaterThan(12);
    expect(mine).toEqual(answers(refDir));
  });

  it('ingestMany (lines as objects) stores what ingestPacked stores', () => {
    const a = openSqliteWriter(tempDir());
    const b = openSqliteWriter(tempDir());
    try {
      for (const items of groups()) expect(a.ingestMany(items)).toEqual(b.ingestPacked!(packItems(items).packed));
    } finally {
      a.close();
      b.close();
    }
    const [da, db] = dirs.map((d) => openDatabase(d));
    try {
      expect(contents(da!)).toEqual(contents(db!));
    } finally {
      da!.close();
      db!.close();
    }
  });
});
