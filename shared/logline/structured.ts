// What a structured parser (JSON, logfmt) read from a line or a syslog message body. Each part
// is optional: the caller keeps what it already has (the text, the time of reading, the syslog
// header's severity) where the line says nothing readable.
import type { FieldSink } from './fields.js';
import type { Roles } from './roles.js';

export interface Structured {
  kind: 'json' | 'logfmt';
  message?: string;
  severity?: number;
  ts?: number;
  fields?: Record<string, string>;
  /** fields dropped and keys or values cut (also in fields.fields_truncated) */
  fieldsTruncated: number;
}

/** The parsers' common ending: the picked roles and the fields left over, only the parts found. */
export function toStructured(kind: Structured['kind'], roles: Roles, sink: FieldSink): Structured {
  const fields = sink.result(); // first: making room for the mark counts too
  const out: Structured = { kind, fieldsTruncated: sink.truncated };
  if (roles.message !== undefined) out.message = roles.message;
  if (roles.severity !== undefined) out.severity = roles.severity;
  if (roles.ts !== undefined) out.ts = roles.ts;
  if (fields !== undefined) out.fields = fields;
  return out;
}
