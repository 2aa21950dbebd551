// What a structured parser (JSON, logfmt) read from a line or a syslog message body. Each part
// is optional: the caller keeps what it already has (the text, the time of reading, the syslog
// header's severity) where the line says nothing readable.
export interface Structured {
  kind: 'json' | 'logfmt';
  message?: string;
  severity?: number;
  ts?: number;
  fields?: Record<string, string>;
  /** fields dropped and keys or values cut (also in fields.fields_truncated) */
  fieldsTruncated: number;
}
