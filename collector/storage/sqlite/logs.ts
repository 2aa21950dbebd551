// Log lines in SQLite: one row per line plus a contentless FTS5 index over the message.
// Ingest is idempotent per (agent, stream): the committed end offset of every stream is kept
// in the same transaction as the lines, so a batch redelivered after a lost acknowledgement
// adds nothing.
import type { IngestAck, IngestBatch, LogItem, WireLine } from '../../../shared/wire.js';
import type { HostInfo, IngestItem, SyncLogStore } from '../types.js';
import type { Db } from './open.js';
import { fieldTokens } from './field-tokens.js';
import { INDEXED_TEXT_SQL } from './host-tokens.js';
import { numTokens } from './num-tokens.js';
import { sqliteLogHistogram } from './histogram.js';
import { sqliteLogQuery } from './query.js';
import { sqliteRetention } from './retention.js';
import { numBackfiller, numBackfillStatus } from './num-plan.js';

export { decodeCursor, encodeCursor } from './cursor.js';

export const SPAN_MS = 3_600_000;

/** A line's `fields` column (JSON) and its row of field tokens (field-tokens.ts). */
export type FieldsRow = [json: string, tokens: string];

/**
 * A line as the writer thread gets it (collector/ingest/pack.ts): its fields already made into
 * their row and its number-run tokens made on the event loop, so the writer, the thread the whole
 * ingest path waits for, neither rebuilds nor serialises a fields object nor scans the message.
 */
export interface RowReadyLine extends WireLine {
  fieldsRow?: FieldsRow;
  /** numTokens(message) */
  numRuns?: string;
}

/** The fields row of a line, or null when it stores none (no fields, not truncated). */
export function fieldsRow(line: WireLine): FieldsRow | null {
  if (!line.fields && !line.truncated) return null;
  const o = line.truncated ? { ...line.fields, truncated: 'true' } : line.fields!;
  return [JSON.stringify(o), fieldTokens(o)];
}
/** rows per INSERT statement: past ~100 the statement gets no cheaper per row */
export const ROWS_PER_INSERT = 100;
/** SQLite's integer division truncates toward zero; so does this. */
export const spanBucket = (ts: number) => Math.trunc(ts / SPAN_MS);

export function sqliteLogStore(db: Db): SyncLogStore {
  const getCommitted = db.prepare('SELECT committed_end FROM streams WHERE agent_id = ? AND stream = ?').pluck();
  const putCommitted = db.prepare(
    `INSERT INTO streams (agent_id, stream, committed_end, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (agent_id, stream) DO UPDATE SET committed_end = excluded.committed_end, updated_at = excluded.updated_at`,
  );
  // Rows go in by multi-row statements (ROWS_PER_INSERT lines each: one statement step instead
  // of a hundred) with ids we assign, so that the whole transaction's lines are one id range
  // and FTS5 gets them in one statement at the end (INSERT … SELECT over that range), which
  // costs less than a row-at-a-time insert into the full-text index.
  // A statement's rows usually come from one segment of one batch and share its received time,
  // host and source path: those are then bound once per statement as named parameters instead
  // of once per row (binding and converting the two strings was ~0.2 of ~1 µs per row).
  // The values are passed as arguments (spread), not as one array: better-sqlite3 reads an array's
  // elements through V8's generic element lookup, ~430 instructions a value (callgrind), where an
  // argument is read directly — a quarter of the statement's cost (~0.45 µs of ~1.9 per row).
  // OR FAIL: under the default ABORT, SQLite keeps a statement journal (a copy of each page a
  // multi-row statement touches first, to undo just that statement); lines out of time order
  // (syslog from many hosts) touch another logs_ts/logs_host_ts page almost every row, and that
  // journal was ~16 KB written per stored line and ~40 % of the writer thread. A failure still
  // throws and rolls back the whole transaction (test/integration/logs-insert-full.test.ts).
  // Store probe, 200,000 syslog lines: 17.6 → 8.6 µs per line; writer-path 8.0 → 6.5 CPU s/1M.
  const COLUMNS = '(id, ts, received_at, host, source, program, pid, facility, severity, message, fields)';
  const insertSql = (rows: number, shared: boolean) =>
    `INSERT OR FAIL INTO logs ${COLUMNS} VALUES ${new Array(rows).fill(shared ? '(?,?,@received_at,@host,@source,?,?,?,?,?,?)' : '(?,?,?,?,?,?,?,?,?,?,?)').join(',')}`;
  const inserts = new Map<number, { run(...params: unknown[]): unknown }>();
  const insertRows = (rows: number, shared: boolean) => {
    const key = shared ? -rows : rows;
    let st = inserts.get(key);
    if (!st) inserts.set(key, (st = db.prepare<unknown[]>(insertSql(rows, shared))));
    return st;
  };
  const maxId = db.prepare('SELECT max(id) FROM logs').pluck();
  // an empty store starts its ids at 1 again, and every line from then on has both indexes
  const numsFromStart = db.prepare("UPDATE log_index_meta SET value = 1 WHERE key IN ('nums_from_id', 'host_tokens_from_id') AND value != 1");
  // the message and the line's host token (host-tokens.ts)
  const indexRange = db.prepare(`INSERT INTO logs_fts (rowid, message) SELECT id, ${INDEXED_TEXT_SQL} FROM logs WHERE id BETWEEN ? AND ?`);
  // Fields go into their full-text table as one row of tokens per line (field-tokens.ts), made
  // here from the fields object the line already is, in id order (FTS5 flushes its pending terms
  // whenever a rowid is not above the previous one). The whole transaction's rows are one
  // statement over one JSON array bound as one string: binding two values per row from JS cost
  // more than FTS5's own work on them (logs bench JSON corpus, 5 fields a line: 4.0 → 2.6 CPU s
  // per 1 M lines). The array holds one element per line of the transaction, in id order, so a
  // line's id is the first id plus its index: its tokens as a JSON string, or null for a line
  // without (skipped). Before, each element was an [id, "tokens"] pair read back with ->> 0 and
  // ->> 1, which costs SQLite a parse of the pair's text per row (~0.4 of ~2.5 µs per row).
  // Tokens are [a-z0-9_] and spaces only (field-tokens.ts, num-tokens.ts), so each is written as
  // JSON text without escaping. The runs of short numbers in a message (num-tokens.ts) go to
  // theirs the same way, only when some line of the transaction has some.
  const indexFields = db.prepare('INSERT INTO log_fields_fts (rowid, t) SELECT ? + key, value FROM json_each(?) WHERE value IS NOT NULL');
  const indexNums = db.prepare('INSERT INTO log_nums_fts (rowid, t) SELECT ? + key, value FROM json_each(?) WHERE value IS NOT NULL');
  const touchHost = db.prepare(
    `INSERT INTO hosts (host, first_seen, last_seen) VALUES (?, ?, ?)
     ON CONFLICT (host) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
  );
  const listHosts = db.prepare('SELECT host, first_seen, last_seen FROM hosts ORDER BY host');
  const putSpan = db.prepare(
    `INSERT INTO log_spans (bucket, min_id, max_id) VALUES (?, ?, ?)
     ON CONFLICT (bucket) DO UPDATE SET min_id = min(min_id, excluded.min_id), max_id = max(max_id, excluded.max_id)`,
  );

  // Rows of the whole transaction, inserted in event-time order (ids stay in arrival order):
  // lines whose timestamps are not in arrival order otherwise land all over the logs_ts and
  // logs_host_ts B-trees, one descent to a different leaf per row; in ts order consecutive rows
  // go to the same or the next leaf (store probe, the logs benchmark's corpus, 20,000-line
  // commits: 11.5 → 8.9 CPU µs per line). Rows already in order (the usual case) sort for free.
  // The rows' values are kept flat, COLS to a row, in one array for the whole transaction: an
  // array per row was a million small objects per million lines for the writer thread's GC.
  const COLS = 11;
  const TS = 1;
  /** the columns a statement's rows usually share (see insertRows) */
  const RECEIVED = 2;
  const HOST = 3;
  const SOURCE = 4;
  const ALL_COLUMNS = Array.from({ length: COLS }, (_, c) => c);
  const UNSHARED_COLUMNS = ALL_COLUMNS.filter((c) => c < RECEIVED || c > SOURCE);

  // the JSON elements of the transaction's lines (in id order) for log_fields_fts and
  // log_nums_fts, and how many of them are not null
  const tokens: string[] = [];
  const nums: string[] = [];
  let withTokens = 0;
  let withNums = 0;
  // The id range of each hour and the received times of each host, over the whole transaction:
  // written once per transaction, not once per batch (the syslog receiver's commits hold a
  // batch per sending host, 300 in its benchmark: two upserts per batch were ~0.9 of ~13.8 CPU s
  // per 1 M lines of the writer). Same rows in the end: both upserts only widen.
  const spans = new Map<number, [number, number]>();
  const hostsSeen = new Map<string, [number, number]>();
  /** Collects one batch's new lines as rows with ids from `next`; returns the ack and the next free id. */
  const ingestOne = (batch: IngestBatch, receivedAt: number, next: number, vals: unknown[]): [IngestAck, number] => {
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
        const id = next++;
        const row = (line as RowReadyLine).fieldsRow ?? fieldsRow(line);
        let fields: string | null = null;
        if (row !== null) {
          fields = row[0];
          tokens.push(`"${row[1]}"`);
          withTokens++;
        } else tokens.push('null');
        const p = (line as RowReadyLine).numRuns ?? numTokens(line.message);
        if (p !== '') {
          nums.push(`"${p}"`);
          withNums++;
        } else nums.push('null');
        vals.push(id, line.ts, receivedAt, batch.host, seg.source, line.program ?? null, line.pid ?? null, line.facility ?? null, line.severity, line.message, fields);
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
    const seen = hostsSeen.get(batch.host);
    if (seen === undefined) hostsSeen.set(batch.host, [receivedAt, receivedAt]);
    else {
      if (receivedAt < seen[0]) seen[0] = receivedAt;
      if (receivedAt > seen[1]) seen[1] = receivedAt;
    }
    return [{ accepted, duplicates, committed }, next];
  };
  /**
   * Rows in ts order by the second, each row's values in vals[r * COLS …]; null when they
   * already are. Within a second they keep arrival (id) order: a second of lines fits a few
   * index leaves whatever their order, while ids out of order scatter the inserts into the logs
   * table itself. Live syslog is exactly that: one batch per host, hosts interleaved in the
   * same second (store probe, 300 hosts, 10,000-line commits: 18.8 → 14.0 CPU µs per line;
   * the agent-shaped probe unchanged).
   */
  const tsOrder = (vals: unknown[], rows: number): number[] | null => {
    const sec = (r: number) => Math.floor((vals[r * COLS + TS] as number) / 1000);
    let sorted = true;
    for (let r = 1; r < rows && sorted; r++) sorted = sec(r - 1) <= sec(r);
    if (sorted) return null;
    const order = Array.from({ length: rows }, (_, r) => r);
    // Array.prototype.sort is stable: rows of the same second keep their arrival order.
    return order.sort((a, b) => sec(a) - sec(b));
  };
  const insertAll = (vals: unknown[]) => {
    const rows = vals.length / COLS;
    const order = tsOrder(vals, rows);
    const args: unknown[] = [];
    const named = { received_at: 0 as unknown, host: '' as unknown, source: '' as unknown };
    for (let i = 0; i < rows; i += ROWS_PER_INSERT) {
      const n = Math.min(ROWS_PER_INSERT, rows - i);
      const at = (j: number) => (order ? order[i + j]! : i + j) * COLS;
      const f0 = at(0);
      let shared = true;
      for (let j = 1; j < n && shared; j++) {
        const f = at(j);
        shared = vals[f + RECEIVED] === vals[f0 + RECEIVED] && vals[f + HOST] === vals[f0 + HOST] && vals[f + SOURCE] === vals[f0 + SOURCE];
      }
      const cols = shared ? UNSHARED_COLUMNS : ALL_COLUMNS;
      args.length = n * cols.length;
      let k = 0;
      for (let j = 0; j < n; j++) {
        const from = at(j);
        for (const c of cols) args[k++] = vals[from + c];
      }
      if (shared) {
        named.received_at = vals[f0 + RECEIVED];
        named.host = vals[f0 + HOST];
        named.source = vals[f0 + SOURCE];
        insertRows(n, true).run(named, ...args);
      } else {
        insertRows(n, false).run(...args);
      }
    }
  };
  const ingestManyTx = db.transaction((items: IngestItem[]): IngestAck[] => {
    const max = maxId.get() as number | null;
    // ids start again at 1 in an empty store, and every line from now on gets its number runs and host token
    if (max === null) numsFromStart.run();
    const first = (max ?? 0) + 1;
    let next = first;
    tokens.length = 0;
    nums.length = 0;
    withTokens = 0;
    withNums = 0;
    spans.clear();
    hostsSeen.clear();
    const vals: unknown[] = [];
    const acks = items.map((it): IngestAck => {
      if (it.after && Object.entries(it.after).some(([stream, end]) => (((getCommitted.get(it.batch.agent_id, stream) as number | undefined) ?? 0) < end))) {
        return { accepted: 0, duplicates: 0, committed: {}, out_of_order: true };
      }
      const [ack, after] = ingestOne(it.batch, it.receivedAt, next, vals);
      next = after;
      return ack;
    });
    insertAll(vals);
    for (const [bucket, [lo, hi]] of spans) putSpan.run(bucket, lo, hi);
    for (const [host, [firstSeen, lastSeen]] of hostsSeen) touchHost.run(host, firstSeen, lastSeen);
    if (next > first) indexRange.run(first, next - 1);
    if (withTokens > 0) indexFields.run(first, `[${tokens.join(',')}]`);
    if (withNums > 0) indexNums.run(first, `[${nums.join(',')}]`);
    return acks;
  });

  return {
    ingest(batch, receivedAt) {
      return ingestManyTx.immediate([{ batch, receivedAt }])[0]!;
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
    backfill: { step: numBackfiller(db), status: numBackfillStatus(db) },
  };
}

export type { LogItem };
