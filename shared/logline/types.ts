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
  format?: 'rfc3164' | 'rfc5424' | 'rfc3339' | 'plain';
}

export interface ParseOptions {
  /** time of reading, ms since epoch */
  now: number;
  /**
   * IANA zone name (e.g. `Europe/Berlin`) in which zone-less timestamps (RFC 3164, traditional
   * files) were written; default `UTC`. Never the process's zone: the sender's zone is a fact
   * about the sender, not about the machine that reads its lines.
   */
  timeZone?: string;
}
