export interface ParsedLine {
  ts: number;
  severity: number;
  message: string;
  program?: string;
  pid?: number;
  facility?: number;
  hostname?: string;
  /** RFC 5424 structured data as `sd.<SD-ID>.<PARAM>`, plus `msgid` and a non-numeric `procid` */
  fields?: Record<string, string>;
  /** which grammar recognised the line; useful in tests and for counting */
  format?: 'rfc3164' | 'rfc5424' | 'rfc3339' | 'plain' | 'json' | 'logfmt';
  /** a syslog message whose body was JSON or logfmt (its level and time won where readable) */
  body?: 'json' | 'logfmt';
  /** fields dropped, keys or values cut by the bounds (fields.ts); absent when none */
  fieldsTruncated?: number;
}

/**
 * How a source's lines are read. `auto`: syslog shapes first (today's fast path), then a JSON
 * object, then logfmt, then a plain line with a leading timestamp and level word; a syslog
 * message whose body is JSON or logfmt is read as such too. `syslog`: syslog shapes only, any
 * other line plain with the time of reading (the reading before parsers existed). `json`,
 * `logfmt`, `plain`: that one; a line it cannot read stays a plain line with the time of reading.
 */
export type ParserMode = 'auto' | 'json' | 'logfmt' | 'plain' | 'syslog';
export const PARSER_MODES: readonly ParserMode[] = ['auto', 'json', 'logfmt', 'plain', 'syslog'];

export interface ParseOptions {
  /** time of reading, ms since epoch */
  now: number;
  /**
   * IANA zone name (e.g. `Europe/Berlin`) in which zone-less timestamps (RFC 3164, traditional
   * files) were written; default `UTC`. Never the process's zone: the sender's zone is a fact
   * about the sender, not about the machine that reads its lines.
   */
  timeZone?: string;
  /** default `auto` */
  parser?: ParserMode;
}
