// Copying the log lines of an existing store (a SQLite data directory, read through its LogStore)
// into the ClickHouse log store, exactly once, resumable (`ringtail migrate`, docs/scale-out.md).
//
// A SQLite line does not record the stream and byte offset it came from, so the copy gives it
// an identity of the same kind: agent `ringtail-migrate/<source>`, one stream per host, the
// source's line id as the offset. Lines then go through the store's own ingest, with what makes
// an agent's redelivery harmless: each stream's committed end is kept in ClickHouse (a line below
// it is dropped as a duplicate) and every INSERT carries a deduplication token per (stream,
// range). One more stream, `progress`, records how far (which source id) the copy got; it is
// written after the lines, so a copy killed at any point resumes at or before the lines it
// stored, and what it sends again is dropped.
//
// Each INSERT holds lines of one day only: the logs table is partitioned by day, and an insert
// over two days is two parts committed one after the other, so a kill between them could leave
// the second day's lines behind a stream end that the first day's part already raised.
import { ConfigError } from '../../../shared/errors.js';
import { WIRE_VERSION, type IngestBatch, type LogItem, type WireLine, type WireSegment } from '../../../shared/wire.js';
import type { IngestItem, LogStore } from '../types.js';
import { connectDatabase, guarded, openClient, shownUrl } from './connection.js';
import { openClickHouseLogStore } from './index.js';
import { streamId } from './ingest.js';
import { checkDatabaseName, ensureSchema, SCHEMA_VERSION } from './schema.js';
import type { ClickHouseLogOptions } from './types.js';

export const MIGRATE_AGENT = 'ringtail-migrate/';
const PROGRESS = 'progress';
const DAY_MS = 86_400_000;

export interface MigrateProgress {
  /** the source's largest line id when the copy started */
  lastId: number;
  /** the source id up to which every line is in ClickHouse */
  doneId: number;
  /** where this run started (0: from the beginning) */
  resumedFrom: number;
  /** lines this run stored */
  copied: number;
  /** lines this run found already stored (a rerun, or a resume after a kill) */
  already: number;
}

export interface MigrateOptions extends ClickHouseLogOptions {
  /** names the source store in the lines' identity: a rerun must give the same name */
  source: string;
  /** lines read from the source per step (default 20,000) */
  chunk?: number;
  onProgress?(p: MigrateProgress): void;
}

/** The source lines as ingest items: one batch per run of (host, received_at), one segment per run of source. */
export function migrationItems(agentId: string, lines: readonly LogItem[]): IngestItem[] {
  const items: IngestItem[] = [];
  let batch: IngestBatch | undefined;
  let seg: WireSegment | undefined;
  let receivedAt = 0;
  for (const l of lines) {
    const at = l.received_at ?? l.ts;
    if (!batch || batch.host !== l.host || at !== receivedAt) {
      batch = { version: WIRE_VERSION, agent_id: agentId, host: l.host, segments: [] };
      receivedAt = at;
      items.push({ batch, receivedAt });
      seg = undefined;
    }
    if (!seg || seg.source !== l.source) {
      seg = { stream: `host/${l.host}`, source: l.source, start: l.id, end: l.id + 1, lines: [] };
      batch.segments.push(seg);
    }
    const line: WireLine = { offset: l.id, ts: l.ts, severity: l.severity, message: l.message };
    if (l.program != null) line.program = l.program;
    if (l.pid != null) line.pid = l.pid;
    if (l.facility != null) line.facility = l.facility;
    if (l.fields) line.fields = l.fields;
    seg.lines.push(line);
    seg.end = l.id + 1;
  }
  return items;
}

/** Splits lines (in id order) into runs of one day of event time each. */
function dayRuns(lines: LogItem[]): LogItem[][] {
  const runs: LogItem[][] = [];
  let day = NaN;
  for (const l of lines) {
    const d = Math.floor(l.ts / DAY_MS);
    if (d !== day) runs.push([]);
    day = d;
    runs[runs.length - 1]!.push(l);
  }
  return runs;
}

export async function migrateLogs(from: LogStore, opts: MigrateOptions): Promise<MigrateProgress> {
  const agentId = MIGRATE_AGENT + opts.source;
  const chunk = opts.chunk ?? 20_000;
  const store = await openClickHouseLogStore(opts);
  const client = openClient(opts, opts.database);
  try {
    const rs = await guarded('read how far an earlier migration got', shownUrl(opts.url), () =>
      client.query({
        query: 'SELECT max(committed_end) AS e FROM stream_offsets WHERE stream_id = {id:UInt64}',
        query_params: { id: BigInt(streamId(agentId, PROGRESS)) },
        format: 'JSONEachRow',
      }),
    );
    const resumedFrom = Number(((await rs.json()) as Array<{ e: number | string }>)[0]?.e ?? 0);
    const p: MigrateProgress = { lastId: await from.maxId(), doneId: resumedFrom, resumedFrom, copied: 0, already: 0 };
    // SQLite numbers lines from max(id) + 1: a store that retention emptied starts again at 1,
    // and its new lines would be taken for lines already copied
    if (p.lastId < resumedFrom) {
      throw new ConfigError(
        '--source',
        `the source's line ids end at ${p.lastId}, below ${resumedFrom}, where an earlier copy named '${opts.source}' got: this is another store, or its ids were reused (every line deleted); give it a --source of its own`,
      );
    }
    opts.onProgress?.(p);
    for (;;) {
      const lines = await from.since(p.doneId, chunk);
      if (lines.length === 0) break;
      for (const run of dayRuns(lines)) {
        const items = migrationItems(agentId, run);
        const lastId = run[run.length - 1]!.id;
        // the progress end rides in the same ingest, recorded after the lines are in
        items[items.length - 1]!.batch.segments.push({ stream: PROGRESS, source: 'ringtail migrate', start: 0, end: lastId, lines: [] });
        for (const ack of await store.ingestMany(items)) {
          p.copied += ack.accepted;
          p.already += ack.duplicates;
        }
        p.doneId = lastId;
        opts.onProgress?.(p);
      }
    }
    p.lastId = Math.max(p.lastId, p.doneId);
    return p;
  } finally {
    await client.close();
    await store.close();
  }
}

/**
 * `ringtail migrate --upgrade-schema`: the log tables of an older ringtail brought to this one's
 * schema (created when there are none). Returns the version found (0: none) and the one now.
 */
export async function upgradeLogSchema(opts: ClickHouseLogOptions): Promise<{ from: number; to: number }> {
  const database = checkDatabaseName(opts.database);
  const { client, layout, url } = await connectDatabase(opts, database);
  try {
    const from = await guarded('upgrade the log tables', url, () => ensureSchema(client, database, { url, upgrade: true, layout }));
    return { from, to: SCHEMA_VERSION };
  } finally {
    await client.close();
  }
}
