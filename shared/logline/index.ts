// The single log-line parser shared by the agent (files) and the collector (syslog receiver).
import { parsePlain } from './plain.js';
import type { ParseOptions, ParsedLine } from './types.js';

export type { ParseOptions, ParsedLine } from './types.js';

export function parseLine(text: string, opts: ParseOptions): ParsedLine {
  return parsePlain(text, opts.now);
}
