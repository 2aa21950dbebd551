// Log lines in SQLite: one row per line plus a contentless FTS5 index over the message.
// Ingest is idempotent per (agent, stream): the committed end offset of every stream is kept
// in the same transaction as the lines, so a batch redelivered after a lost acknowledgement
// adds nothing.
import { ErrorCodes, RingtailError } from '../../../shared/errors.js';
import type { IngestAck, IngestBatch, LogItem, LogPage } from '../../../shared/wire.js';
import type { HostInfo, LogFilter, LogStore } from '../types.js';
import type { Db } from './open.js';

interface Cursor {
  ts: number;
  id: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.ts}:${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): Cursor {
  const m = /^(-?\d+):(\d+)$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m) throw new RingtailError(ErrorCodes.BAD_QUERY, `cursor: not a cursor returned by this API: '${raw}'`);
  return { ts: Number(m[1]), id: Number(m[2]) };
}

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

  const ingestTx = db.transaction((batch: IngestBatch, receivedAt: number): IngestAck => {
    let accepted = 0;
    let duplicates = 0;
    const committed: Record<string, number> = {};
    for (const seg of batch.segments) {
      const prior = getCommitted.get(batch.agent_id, seg.stream) as number | undefined;
      for (const line of seg.lines) {
        if (prior !== undefined && line.offset < prior) {
          duplicates++;
          continue;
        }
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
          fields: line.fields || line.truncated ? JSON.stringify({ ...line.fields, ...(line.truncated ? { truncated: 'true' } : {}) }) : null,
        });
        insertFts.run(info.lastInsertRowid, line.message);
        accepted++;
      }
      const end = Math.max(prior ?? 0, seg.end);
      putCommitted.run(batch.agent_id, seg.stream, end, receivedAt);
      committed[seg.stream] = end;
    }
    touchHost.run(batch.host, receivedAt, receivedAt);
    return { accepted, duplicates, committed };
  });

  return {
    ingest(batch, receivedAt) {
      return ingestTx.immediate(batch, receivedAt);
    },

    query(filter: LogFilter): LogPage {
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: filter.limit + 1 };
      if (filter.host !== undefined) {
        where.push('l.host = @host');
        params.host = filter.host;
      }
      if (filter.source !== undefined) {
        where.push('l.source = @source');
        params.source = filter.source;
      }
      if (filter.program !== undefined) {
        where.push('l.program = @program');
        params.program = filter.program;
      }
      if (filter.severity !== undefined) {
        where.push('l.severity <= @severity');
        params.severity = filter.severity;
      }
      if (filter.start !== undefined) {
        where.push('l.ts >= @start');
        params.start = filter.start;
      }
      if (filter.end !== undefined) {
        where.push('l.ts < @end');
        params.end = filter.end;
      }
      if (filter.cursor !== undefined) {
        const c = decodeCursor(filter.cursor);
        where.push('(l.ts < @cts OR (l.ts = @cts AND l.id < @cid))');
        params.cts = c.ts;
        params.cid = c.id;
      }
      if (filter.q !== undefined && filter.q.trim() !== '') {
        where.push('l.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH @q)');
        params.q = filter.q;
      }
      // Only fixed SQL fragments are concatenated here; every value travels as a bound parameter.
      const sql = `SELECT l.id, l.ts, l.host, l.source, l.program, l.severity, l.message FROM logs l
        ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
        ORDER BY l.ts DESC, l.id DESC LIMIT @limit`;
      let rows: LogItem[];
      try {
        rows = db.prepare(sql).all(params) as LogItem[];
      } catch (err) {
        const msg = (err as Error).message;
        if (/fts5|unterminated|syntax error|no such column/i.test(msg) && params.q !== undefined) {
          throw new RingtailError(ErrorCodes.BAD_QUERY, `q: invalid full-text query: ${msg}`);
        }
        throw err;
      }
      const more = rows.length > filter.limit;
      if (more) rows.pop();
      const last = rows[rows.length - 1];
      return { items: rows, next_cursor: more && last ? encodeCursor({ ts: last.ts, id: last.id }) : null };
    },

    hosts(): HostInfo[] {
      return listHosts.all() as HostInfo[];
    },
  };
}
