// Log lines in SQLite: one row per line plus a contentless FTS5 index over the message.
// Ingest is idempotent per (agent, stream): the committed end offset of every stream is kept
// in the same transaction as the lines, so a batch redelivered after a lost acknowledgement
// adds nothing.
import type { IngestAck, IngestBatch, LogItem } from '../../../shared/wire.js';
import type { HostInfo, IngestItem, LogStore } from '../types.js';
import type { Db } from './open.js';
import { sqliteLogHistogram } from './histogram.js';
import { sqliteLogQuery } from './query.js';
import { sqliteRetention } from './retention.js';

export { decodeCursor, encodeCursor } from './cursor.js';

export const SPAN_MS = 3_600_000;
/** SQLite's integer division truncates toward zero; so does this. */
export const spanBucket = (ts: number) => Math.trunc(ts / SPAN_MS);

export function sqliteLogStore(db: Db): LogStore {
  const getCommitted = db.prepare('SELECT committed_end FROM streams WHERE agent_id = ? AND stream = ?').pluck();
  const putCommitted = db.prepare(
    `INSERT INTO streams (agent_id, stream, committed_end, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (agent_id, stream) DO UPDATE SET committed_end = excluded.committed_end, updated_at = excluded.updated_at`,
  );
  const insertLog = db.prepare(
    `INSERT INTO logs (ts, received_at, host, source, program, pid, facility, severity, message, fields)
     VALUES (@ts, @received_at, @host, @source, @program, @pid, @facility, @severity, @message, @fields)`,
  );
  const insertFts = db.prepare('INSERT INTO logs_fts (rowid, message) VALUES (?, ?)');
  const touchHost = db.prepare(
    `INSERT INTO hosts (host, first_seen, last_seen) VALUES (?, ?, ?)
     ON CONFLICT (host) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
  );
  const listHosts = db.prepare('SELECT host, first_seen, last_seen FROM hosts ORDER BY host');
  const putSpan = db.prepare(
    `INSERT INTO log_spans (bucket, min_id, max_id) VALUES (?, ?, ?)
     ON CONFLICT (bucket) DO UPDATE SET min_id = min(min_id, excluded.min_id), max_id = max(max_id, excluded.max_id)`,
  );

  const ingestOne = (batch: IngestBatch, receivedAt: number): IngestAck => {
    let accepted = 0;
    let duplicates = 0;
    const committed: Record<string, number> = {};
    const spans = new Map<number, [number, number]>();
    for (const seg of batch.segments) {
      const prior = getCommitted.get(batch.agent_id, seg.stream) as number | undefined;
      for (const line of seg.lines) {
        if (prior !== undefined && line.offset < prior) {
          duplicates++;
          continue;
        }
        const fields = line.fields || line.truncated ? JSON.stringify({ ...line.fields, ...(line.truncated ? { truncated: 'true' } : {}) }) : null;
        const info = insertLog.run({
          ts: line.ts,
          received_at: receivedAt,
          host: batch.host,
          source: seg.source,
          program: line.program ?? null,
          pid: line.pid ?? null,
          facility: line.facility ?? null,
          severity: line.severity,
          message: line.message,
          fields,
        });
        const id = Number(info.lastInsertRowid);
        insertFts.run(id, line.message);
        const bucket = spanBucket(line.ts);
        const span = spans.get(bucket);
        if (span) span[1] = id;
        else spans.set(bucket, [id, id]);
        accepted++;
      }
      const end = Math.max(prior ?? 0, seg.end);
      putCommitted.run(batch.agent_id, seg.stream, end, receivedAt);
      committed[seg.stream] = end;
    }
    for (const [bucket, [lo, hi]] of spans) putSpan.run(bucket, lo, hi);
    touchHost.run(batch.host, receivedAt, receivedAt);
    return { accepted, duplicates, committed };
  };
  const ingestTx = db.transaction(ingestOne);
  const ingestManyTx = db.transaction((items: IngestItem[]) => items.map((it) => ingestOne(it.batch, it.receivedAt)));

  return {
    ingest(batch, receivedAt) {
      return ingestTx.immediate(batch, receivedAt);
    },
    ingestMany(items) {
      return ingestManyTx.immediate(items);
    },
    ...sqliteLogQuery(db),
    histogram: sqliteLogHistogram(db),
    hosts(): HostInfo[] {
      return listHosts.all() as HostInfo[];
    },
    retention: sqliteRetention(db),
  };
}

export type { LogItem };
