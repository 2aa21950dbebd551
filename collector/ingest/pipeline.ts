// What every line goes through on its way into the store, whichever receiver brought it (agent
// ingest, syslog): implausible timestamps are clamped, collector-side filter rules applied, and
// listeners (live tail) told after the commit. It wraps the LogStore so that the one contract
// receivers use, `storage.logs.ingest(batch, receivedAt)`, includes all three.
//
// Timestamps: a line stamped more than MAX_FUTURE_MS after it was received, or before
// MIN_PLAUSIBLE_TS (2000-01-01: a clock that never got set, ts 0), is stored at its received
// time with the original in `fields.ts_original` (and `fields.ts_clamped` = `future`|`past`).
// Rejecting the batch instead would make the agent give up on the good lines around one bad
// clock, and a far-future line would otherwise sit at the top of every newest-first page for
// years. Old but plausible times are kept: importing last year's archive is legitimate, and
// retention decides how long such lines stay.
import type { EventSink } from '../../shared/events.js';
import { cutUtf8, MAX_FIELDS, MAX_KEY, MAX_VALUE } from '../../shared/logline/fields.js';
import type { IngestAck, IngestBatch, WireLine } from '../../shared/wire.js';
import type { IngestItem, LogStore } from '../storage/types.js';
import type { LineFilter } from './filters.js';

export const MAX_FUTURE_MS = 60 * 60 * 1000;
/**
 * Structured fields per line, and bytes of a field's name and value, at most: every field is
 * a token of the field index (log_fields_fts), so an agent that sends 10,000 keys must not cost
 * 10,000 index tokens a line. Extra fields are dropped and long values cut (on a UTF-8
 * boundary); the line then says so in `fields_truncated` (how many fields were dropped or cut),
 * and the collector counts them (`ingest.fields_truncated`) and logs a warning per batch
 * (`ingest.fields_bounded`).
 */
// The same bounds as the agent's parsers (shared/logline/fields.ts), so a line they bounded
// passes here unchanged and keeps its own count.
export { MAX_FIELDS, MAX_KEY as MAX_FIELD_NAME_BYTES, MAX_VALUE as MAX_FIELD_VALUE_BYTES };

/** The line's fields within the bounds, and how many were dropped or cut (0: the same object). */
export function boundFields(fields: Record<string, string>): [Record<string, string>, number] {
  let n = 0;
  let over = 0;
  for (const k in fields) {
    n++;
    const v = fields[k]!;
    // a string of L UTF-16 units has at most 3L UTF-8 bytes: most values need no count
    if (n > MAX_FIELDS || (k.length * 3 > MAX_KEY && Buffer.byteLength(k) > MAX_KEY) || (v.length * 3 > MAX_VALUE && Buffer.byteLength(v) > MAX_VALUE)) over++;
  }
  if (over === 0) return [fields, 0];
  // Names are cut like values (as the agent's parsers do, shared/logline/fields.ts), not
  // dropped: the wire schema cannot bound a record's names, so this is where they are bounded.
  const out: Record<string, string> = {};
  let kept = 0;
  let cut = 0;
  for (const k in fields) {
    if (kept >= MAX_FIELDS - 1) {
      cut++;
      continue;
    }
    const name = Buffer.byteLength(k) > MAX_KEY ? cutUtf8(k, MAX_KEY) : k;
    const value = cutUtf8(fields[k]!, MAX_VALUE);
    if (name !== k) cut++;
    if (value !== fields[k]) cut++;
    out[name] = value;
    kept++;
  }
  out.fields_truncated = String(cut);
  return [out, cut];
}
export const MIN_PLAUSIBLE_TS = Date.UTC(2000, 0, 1);

export interface PipelineOptions {
  filter: LineFilter | null;
  events: EventSink;
  /** called after a commit that stored lines, with the highest id now in the store */
  onCommitted?: () => void;
}

/** Returns the batch as it should be stored (a copy when anything changed). */
export function prepareBatch(batch: IngestBatch, receivedAt: number, filter: LineFilter | null, events: EventSink): IngestBatch {
  let changed = false;
  let clamped = 0;
  let dropped = 0;
  let cutFields = 0;
  let cutLines = 0;
  const segments = batch.segments.map((seg) => {
    const src = seg.lines;
    // a copy of the lines only from the first one that changes (most segments: none, no copy)
    let lines: WireLine[] | null = null;
    for (let i = 0; i < src.length; i++) {
      let line = src[i]!;
      const was = line;
      if (filter && !filter({ host: batch.host, program: line.program, severity: line.severity, message: line.message })) {
        dropped++;
        lines ??= src.slice(0, i);
        continue;
      }
      if (line.fields !== undefined) {
        const [bounded, cut] = boundFields(line.fields);
        if (cut > 0) {
          cutFields += cut;
          cutLines++;
          line = { ...line, fields: bounded };
        }
      }
      const skew = line.ts - receivedAt;
      if (skew > MAX_FUTURE_MS || line.ts < MIN_PLAUSIBLE_TS) {
        clamped++;
        line = { ...line, ts: receivedAt, fields: { ...line.fields, ts_original: String(line.ts), ts_clamped: skew > 0 ? 'future' : 'past' } };
      }
      if (line !== was) lines ??= src.slice(0, i);
      lines?.push(line);
    }
    if (lines === null) return seg;
    changed = true;
    return { ...seg, lines };
  });
  if (dropped) events.add('ingest.filtered', dropped);
  if (clamped) events.add('ingest.ts_clamped', clamped);
  if (cutFields) {
    events.add('ingest.fields_truncated', cutFields);
    // one warning per batch (counted as batches under its own name), the fields counted above
    events.emit('ingest.fields_bounded', { host: batch.host, lines: cutLines, fields: cutFields, max_fields: MAX_FIELDS, max_value_bytes: MAX_VALUE }, 'warn');
  }
  return changed ? { ...batch, segments } : batch;
}

export function withPipeline(inner: LogStore, opts: PipelineOptions): LogStore {
  const after = (acks: IngestAck[]) => {
    if (acks.some((a) => a.accepted > 0)) opts.onCommitted?.();
    return acks;
  };
  return {
    ...inner,
    async ingest(batch, receivedAt) {
      return after([await inner.ingest(prepareBatch(batch, receivedAt, opts.filter, opts.events), receivedAt)])[0]!;
    },
    async ingestMany(items: IngestItem[]) {
      return after(await inner.ingestMany(items.map((it) => ({ ...it, batch: prepareBatch(it.batch, it.receivedAt, opts.filter, opts.events) }))));
    },
  };
}
