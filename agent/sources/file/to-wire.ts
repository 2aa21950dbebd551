// Complete lines (or joined events) of one file become wire lines: parsed once by the shared
// parser, then passed through the source's filters. Counts come back for the self-metrics.
import { parseLine, type ParseOptions, type ParserMode } from '../../../shared/logline/index.js';
import type { WireLine } from '../../../shared/wire.js';
import type { LineFilter } from './filter.js';
import type { RawLine } from './lines.js';

export interface Converted {
  lines: WireLine[];
  /** bytes of text kept, for batch sizing */
  bytes: number;
  filtered: number;
  truncated: number;
  /** structured fields dropped or cut by the bounds (shared/logline/fields.ts) */
  fieldsTruncated: number;
}

export function toWire(events: readonly RawLine[], filter: LineFilter, now: number, timeZone: string | undefined, parser: ParserMode = 'auto'): Converted {
  // A variable, not a literal: `timeZone` joins ParseOptions with the RFC 3164 parser.
  const opts: ParseOptions = timeZone !== undefined ? { now, timeZone, parser } : { now, parser };
  const out: Converted = { lines: [], bytes: 0, filtered: 0, truncated: 0, fieldsTruncated: 0 };
  for (const ev of events) {
    const p = parseLine(ev.text, opts);
    if (filter.active && !filter.keep(ev.text, p.severity)) {
      out.filtered++;
      continue;
    }
    const line: WireLine = { offset: ev.offset, ts: p.ts, severity: p.severity, message: p.message };
    if (p.program !== undefined) line.program = p.program;
    if (p.pid !== undefined) line.pid = p.pid;
    if (p.facility !== undefined) line.facility = p.facility;
    if (p.fields !== undefined) line.fields = p.fields;
    if (p.fieldsTruncated !== undefined) out.fieldsTruncated += p.fieldsTruncated;
    if (ev.truncated) {
      line.truncated = true;
      out.truncated++;
    }
    out.bytes += ev.text.length + 1;
    out.lines.push(line);
  }
  return out;
}
