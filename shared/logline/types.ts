export interface ParsedLine {
  ts: number;
  severity: number;
  message: string;
  program?: string;
  pid?: number;
  facility?: number;
  hostname?: string;
  fields?: Record<string, string>;
}

export interface ParseOptions {
  /** time of reading, ms since epoch */
  now: number;
}
