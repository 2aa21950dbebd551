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
import type { IngestAck, IngestBatch } from '../../shared/wire.js';
import type { IngestItem, LogStore } from '../storage/types.js';
import type { LineFilter } from './filters.js';

export const MAX_FUTURE_MS = 60 * 60 * 1000;
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
  const segments = batch.segments.map((seg) => {
    const lines = [];
    for (const line of seg.lines) {
      if (filter && !filter({ host: batch.host, program: line.program, severity: line.severity, message: line.message })) {
        dropped++;
        changed = true;
        continue;
      }
      const skew = line.ts - receivedAt;
      if (skew > MAX_FUTURE_MS || line.ts < MIN_PLAUSIBLE_TS) {
        clamped++;
        changed = true;
        lines.push({ ...line, ts: receivedAt, fields: { ...line.fields, ts_original: String(line.ts), ts_clamped: skew > 0 ? 'future' : 'past' } });
        continue;
      }
      lines.push(line);
    }
    return lines.length === seg.lines.length && !changed ? seg : { ...seg, lines };
  });
  if (dropped) events.add('ingest.filtered', dropped);
  if (clamped) events.add('ingest.ts_clamped', clamped);
  return changed ? { ...batch, segments } : batch;
}

export function withPipeline(inner: LogStore, opts: PipelineOptions): LogStore {
  const after = (acks: IngestAck[]) => {
    if (acks.some((a) => a.accepted > 0)) opts.onCommitted?.();
    return acks;
  };
  return {
    ...inner,
    ingest(batch, receivedAt) {
      return after([inner.ingest(prepareBatch(batch, receivedAt, opts.filter, opts.events), receivedAt)])[0]!;
    },
    ingestMany(items: IngestItem[]) {
      return after(inner.ingestMany(items.map((it) => ({ ...it, batch: prepareBatch(it.batch, it.receivedAt, opts.filter, opts.events) }))));
    },
  };
}
