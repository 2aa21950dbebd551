// Log lines in SQLite: one row per line plus a contentless FTS5 index over the message.
// Ingest is idempotent per (agent, stream): the committed end offset of every stream is kept
// in the same transaction as the lines, so a batch redelivered after a lost acknowledgement
// adds nothing.
import type { IngestAck, LogItem } from '../../../shared/wire.js';
import type { HostInfo, SyncLogStore } from '../types.js';
import type { Db } from './open.js';
import { INDEXED_TEXT_SQL } from './host-tokens.js';
import { sqliteLogHistogram } from './histogram.js';
import { HAS_FACILITY, HAS_FIELDS, HAS_PID, HAS_PROGRAM, JSON_END, LINE_END, lineEnds, MESSAGE_END, packItems, PROGRAM_END, STRIDE, TOKENS_END, type PackedItem, type PackedSegment } from './packed.js';
import { sqliteLogQuery } from './query.js';
import { sqliteRetention } from './retention.js';
import { numBackfiller, numBackfillStatus } from './num-plan.js';

export { decodeCursor, encodeCursor } from './cursor.js';
export { fieldsRow, type FieldsRow, type RowReadyLine } from './fields-row.js';

export const SPAN_MS = 3_600_000;

/** rows per INSERT statement: past ~100 the statement gets no cheaper per row */
export const ROWS_PER_INSERT = 100;
/** SQLite's integer division truncates toward zero; so does this. */
export const spanBucket = (ts: number) => Math.trunc(ts / SPAN_MS);

export function sqliteLogStore(db: Db): SyncLogStore & { ingestPacked(items: PackedItem[]): IngestAck[] } {
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
  // The rows are read from the packed segments (packed.ts) as they are bound: a row is its
  // segment, its line there and where its text starts (typed arrays kept from one transaction
  // to the next), so the writer makes no object per line and keeps no value of a line alive
  // through the transaction; a row's strings are sliced from its segment's text just before they
  // are bound and die young. Before, the writer unpacked every line into an object and kept its
  // values flat in one array until the statements ran: ~20,000 objects, slices and boxed
  // timestamps per commit that survived scavenges.
  let rowSeg = new Int32Array(4096);
  let rowLine = new Int32Array(4096);
  let rowAt = new Int32Array(4096);
  let rowTs = new Float64Array(4096);
  let rows = 0;
  const addRow = (seg: number, line: number, at: number, ts: number) => {
    if (rows === rowSeg.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      rowSeg = grow(rowSeg);
      rowLine = grow(rowLine);
      rowAt = grow(rowAt);
      rowTs = grow(rowTs);
    }
    rowSeg[rows] = seg;
    rowLine[rows] = line;
    rowAt[rows] = at;
    rowTs[rows] = ts;
    rows++;
  };
  /** where the strings of the line being read end in its segment's text (packed.ts lineEnds) */
  const ends = new Int32Array(5);
  /** the transaction's segments, with the received time and host of the batch each came in */
  const segs: PackedSegment[] = [];
  const segReceived: number[] = [];
  const segHost: string[] = [];

  // the transaction's lines' elements (in id order) of the JSON arrays for log_fields_fts and
  // log_nums_fts, and how many of them are not null
  const tokens: Array<string | null> = [];
  const nums: Array<string | null> = [];
  let withTokens = 0;
  let withNums = 0;
  // The id range of each hour and the received times of each host, over the whole transaction:
  // written once per transaction, not once per batch (the syslog receiver's commits hold a
  // batch per sending host, 300 in its benchmark: two upserts per batch were ~0.9 of ~13.8 CPU s
  // per 1 M lines of the writer). Same rows in the end: both upserts only widen.
  const spans = new Map<number, [number, number]>();
  const hostsSeen = new Map<string, [number, number]>();
  // The committed end of each stream the transaction stores lines of, written once per stream at
  // its end (the syslog receiver's commits hold two units, each with a batch per host: two reads
  // and two upserts per host were ~0.7 CPU s per 1 M lines of syslog-real). A later batch of the
  // same stream in the same transaction reads its predecessor's end here: same rows in the end.
  const streamsNow = new Map<string, [agent: string, stream: string, end: number, receivedAt: number]>();
  const committedEnd = (agent: string, stream: string): number | undefined =>
    streamsNow.get(agent + '\0' + stream)?.[2] ?? (getCommitted.get(agent, stream) as number | undefined);

  /** Collects one batch's new lines as rows with ids from `next`; returns the ack and the next free id. */
  const ingestOne = (item: PackedItem, next: number): [IngestAck, number] => {
    let accepted = 0;
    let duplicates = 0;
    const committed: Record<string, number> = {};
    for (const seg of item.segments) {
      const prior = committedEnd(item.agent_id, seg.stream);
      const s = segs.length;
      segs.push(seg);
      segReceived.push(item.receivedAt);
      segHost.push(item.host);
      const { nums: v, text } = seg;
      let at = 0;
      for (let i = 0; i < seg.count; i++) {
        const o = i * STRIDE;
        const start = at;
        lineEnds(v, i, at, ends);
        at = ends[LINE_END]!;
        if (prior !== undefined && v[o]! < prior) {
          duplicates++;
          continue;
        }
        const id = next++;
        const ts = v[o + 1]!;
        addRow(s, i, start, ts);
        if (v[o + 5]! & HAS_FIELDS) {
          tokens.push(text.slice(ends[JSON_END], ends[TOKENS_END]));
          withTokens++;
        } else tokens.push(null);
        if (at > ends[TOKENS_END]!) {
          nums.push(text.slice(ends[TOKENS_END], at));
          withNums++;
        } else nums.push(null);
        const bucket = spanBucket(ts);
        const span = spans.get(bucket);
        if (span) span[1] = id;
        else spans.set(bucket, [id, id]);
        accepted++;
      }
      const end = Math.max(prior ?? 0, seg.end);
      streamsNow.set(item.agent_id + '\0' + seg.stream, [item.agent_id, seg.stream, end, item.receivedAt]);
      committed[seg.stream] = end;
    }
    const seen = hostsSeen.get(item.host);
    if (seen === undefined) hostsSeen.set(item.host, [item.receivedAt, item.receivedAt]);
    else {
      if (item.receivedAt < seen[0]) seen[0] = item.receivedAt;
      if (item.receivedAt > seen[1]) seen[1] = item.receivedAt;
    }
    return [{ accepted, duplicates, committed }, next];
  };
  /**
   * Rows in ts order by the second; null when they already are. Within a second they keep
   * arrival (id) order: a second of lines fits a few index leaves whatever their order, while ids
   * out of order scatter the inserts into the logs table itself. Live syslog is exactly that: one
   * batch per host, hosts interleaved in the same second (store probe, 300 hosts, 10,000-line
   * commits: 18.8 → 14.0 CPU µs per line; the agent-shaped probe unchanged).
   */
  const tsOrder = (): number[] | null => {
    const sec = (r: number) => Math.floor(rowTs[r]! / 1000);
    let sorted = true;
    for (let r = 1; r < rows && sorted; r++) sorted = sec(r - 1) <= sec(r);
    if (sorted) return null;
    const order = Array.from({ length: rows }, (_, r) => r);
    // Array.prototype.sort is stable: rows of the same second keep their arrival order.
    return order.sort((a, b) => sec(a) - sec(b));
  };
  /** the columns of a row the statement's rows do not share (see insertRows) */
  const UNSHARED = 8;
  /**
   * Fewest rows of one batch's received time, host and source that get a statement of their own.
   * The syslog receiver's commits hold a batch per sending host (~27 lines each in its `real`
   * benchmark shape), so a statement of the next 100 rows mixed hosts and bound those three
   * values for every row; cut at a batch's run of rows instead, they are bound once per
   * statement. Shorter runs (hosts that sent a line or two) still share a mixed statement: a
   * statement costs about as much as binding those values for ~16 rows.
   */
  const MIN_SHARED = 16;
  const insertAll = (first: number) => {
    const order = tsOrder();
    const args: unknown[] = [];
    const named = { received_at: 0, host: '', source: '' };
    const segAt = (p: number) => rowSeg[order ? order[p]! : p]!;
    const same = (s: number, s0: number) => s === s0 || (segReceived[s] === segReceived[s0] && segHost[s] === segHost[s0] && segs[s]!.source === segs[s0]!.source);
    /** rows from position p on (at most max) that share the batch values of the row at p */
    const run = (p: number, max: number) => {
      const s0 = segAt(p);
      const most = Math.min(max, rows - p);
      let n = 1;
      while (n < most && same(segAt(p + n), s0)) n++;
      return n;
    };
    for (let i = 0; i < rows; ) {
      const cap = Math.min(ROWS_PER_INSERT, rows - i);
      let n = run(i, cap);
      const shared = n >= MIN_SHARED || n === cap;
      if (!shared) {
        // rows of several batches, up to where a run of MIN_SHARED rows starts
        let j = i + n;
        for (let m = 0; j < i + cap; j += m) {
          m = run(j, MIN_SHARED);
          if (m >= MIN_SHARED) break;
        }
        n = Math.min(j, i + cap) - i;
      }
      const s0 = segAt(i);
      args.length = n * (shared ? UNSHARED : UNSHARED + 3);
      let k = 0;
      for (let j = 0; j < n; j++) {
        const r = order ? order[i + j]! : i + j;
        const s = rowSeg[r]!;
        const seg = segs[s]!;
        const v = seg.nums;
        const text = seg.text;
        const line = rowLine[r]!;
        const o = line * STRIDE;
        const flags = v[o + 5]!;
        const at = rowAt[r]!;
        lineEnds(v, line, at, ends);
        args[k++] = first + r;
        args[k++] = rowTs[r];
        if (!shared) {
          args[k++] = segReceived[s];
          args[k++] = segHost[s];
          args[k++] = seg.source;
        }
        args[k++] = flags & HAS_PROGRAM ? text.slice(at, ends[PROGRAM_END]) : null;
        args[k++] = flags & HAS_PID ? v[o + 2] : null;
        args[k++] = flags & HAS_FACILITY ? v[o + 3] : null;
        args[k++] = v[o + 4];
        args[k++] = text.slice(ends[PROGRAM_END], ends[MESSAGE_END]);
        args[k++] = flags & HAS_FIELDS ? text.slice(ends[MESSAGE_END], ends[JSON_END]) : null;
      }
      if (shared) {
        named.received_at = segReceived[s0]!;
        named.host = segHost[s0]!;
        named.source = segs[s0]!.source;
        insertRows(n, true).run(named, ...args);
      } else {
        insertRows(n, false).run(...args);
      }
      i += n;
    }
  };
  const ingestPackedTx = db.transaction((items: PackedItem[]): IngestAck[] => {
    const max = maxId.get() as number | null;
    // ids start again at 1 in an empty store, and every line from now on gets its number runs and host token
    if (max === null) numsFromStart.run();
    const first = (max ?? 0) + 1;
    let next = first;
    rows = 0;
    segs.length = 0;
    segReceived.length = 0;
    segHost.length = 0;
    tokens.length = 0;
    nums.length = 0;
    withTokens = 0;
    withNums = 0;
    spans.clear();
    hostsSeen.clear();
    streamsNow.clear();
    const acks = items.map((it): IngestAck => {
      if (it.after && Object.entries(it.after).some(([stream, end]) => (committedEnd(it.agent_id, stream) ?? 0) < end)) {
        return { accepted: 0, duplicates: 0, committed: {}, out_of_order: true };
      }
      const [ack, after] = ingestOne(it, next);
      next = after;
      return ack;
    });
    insertAll(first);
    for (const [agent, stream, end, receivedAt] of streamsNow.values()) putCommitted.run(agent, stream, end, receivedAt);
    for (const [bucket, [lo, hi]] of spans) putSpan.run(bucket, lo, hi);
    for (const [host, [firstSeen, lastSeen]] of hostsSeen) touchHost.run(host, firstSeen, lastSeen);
    if (next > first) indexRange.run(first, next - 1);
    if (withTokens > 0) indexFields.run(first, JSON.stringify(tokens));
    if (withNums > 0) indexNums.run(first, JSON.stringify(nums));
    // nothing of the transaction's segments stays reachable until the next one
    segs.length = 0;
    tokens.length = 0;
    nums.length = 0;
    return acks;
  });

  return {
    // lines as objects (the inline committer, tests) are packed as the writer thread gets them:
    // one way from a line to its rows
    ingest(batch, receivedAt) {
      return ingestPackedTx.immediate(packItems([{ batch, receivedAt }]).packed)[0]!;
    },
    ingestMany(items) {
      return ingestPackedTx.immediate(packItems(items).packed);
    },
    ingestPacked(items) {
      return ingestPackedTx.immediate(items);
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
