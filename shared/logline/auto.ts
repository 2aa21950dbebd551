// The structured readings on top of the syslog grammar: a whole file line that is JSON, logfmt or
// plain text with a stamp (tried in that order, each behind a one-character test), and the body
// of a syslog message. For a syslog message the header names the host, program, pid and facility;
// the body's level and time win only when present and readable (an app's own level is more
// precise than the PRI its syslog library picked, and its time is the event's, not the relay's).
import { FieldSink, TRUNCATED_KEY } from './fields.js';
import { parseJsonLine } from './json.js';
import { levelWordNearStart } from './levels.js';
import { looksLikeLogfmt, parseLogfmt } from './logfmt.js';
import { parsePlain, parsePlainStamped } from './plain.js';
import type { Structured } from './structured.js';
import type { ParsedLine, ParserMode } from './types.js';
import { Severity } from '../wire.js';

/** A file line that no syslog shape took, under `auto`. */
export function parseAutoText(text: string, zone: string, now: number): ParsedLine {
  let s: Structured | null = null;
  if (text.charCodeAt(0) === 123) s = parseJsonLine(text, zone, now);
  else if (looksLikeLogfmt(text)) s = parseLogfmt(text, zone, now, true);
  if (s !== null) return fromStructured(s, text, now);
  return { ...parsePlainStamped(text, zone, now), format: 'plain' };
}

/** A file line under a forced parser (`json`, `logfmt`, `plain`). */
export function parseForced(text: string, parser: Exclude<ParserMode, 'auto' | 'syslog'>, zone: string, now: number): ParsedLine {
  if (parser === 'plain') return { ...parsePlainStamped(text, zone, now), format: 'plain' };
  const s = parser === 'json' ? parseJsonLine(text, zone, now) : parseLogfmt(text, zone, now, false);
  if (s !== null) return fromStructured(s, text, now);
  return { ...parsePlain(text, now), format: 'plain' };
}

function fromStructured(s: Structured, text: string, now: number): ParsedLine {
  // Without a message key the line itself is the message: it stays searchable as written.
  const message = s.message ?? text;
  const line: ParsedLine = {
    ts: s.ts ?? now,
    severity: s.severity ?? levelWordNearStart(message) ?? Severity.info,
    message,
    format: s.kind,
  };
  if (s.fields !== undefined) line.fields = s.fields;
  if (s.fieldsTruncated > 0) line.fieldsTruncated = s.fieldsTruncated;
  return line;
}

/** A syslog-shaped line whose message may be JSON or logfmt: read it in place. */
export function withBody(line: ParsedLine, zone: string, now: number): ParsedLine {
  const m = line.message;
  let s: Structured | null = null;
  if (m.charCodeAt(0) === 123) s = parseJsonLine(m, zone, now);
  else if (looksLikeLogfmt(m)) s = parseLogfmt(m, zone, now, true);
  if (s === null) return line;
  line.body = s.kind;
  if (s.message !== undefined) line.message = s.message;
  if (s.severity !== undefined) line.severity = s.severity;
  if (s.ts !== undefined) line.ts = s.ts;
  if (line.fields === undefined) {
    if (s.fields !== undefined) line.fields = s.fields;
    if (s.fieldsTruncated > 0) line.fieldsTruncated = s.fieldsTruncated;
    return line;
  }
  // Header fields (procid, msgid, RFC 5424 structured data) first: they are the sender's framing.
  const sink = new FieldSink();
  sink.truncated = s.fieldsTruncated;
  for (const [k, v] of Object.entries(line.fields)) sink.add(k, v);
  if (s.fields !== undefined) for (const [k, v] of Object.entries(s.fields)) if (k !== TRUNCATED_KEY && !(k in sink.out)) sink.add(k, v);
  line.fields = sink.result();
  if (sink.truncated > 0) line.fieldsTruncated = sink.truncated;
  return line;
}
