// Lines that are not syslog: the timestamp is the time of reading and the severity comes from
// the first level word found near the start of the line, if any.
import { Severity } from '../wire.js';
import { levelWordNearStart } from './levels.js';
import { leadingTime } from './timestamps.js';
import type { ParsedLine } from './types.js';

const LEVEL_WORDS: Array<[RegExp, number]> = [
  [/\b(?:FATAL|PANIC|EMERG(?:ENCY)?)\b/i, Severity.emerg],
  [/\b(?:ALERT)\b/, Severity.alert],
  [/\b(?:CRIT(?:ICAL)?)\b/i, Severity.crit],
  [/\b(?:ERROR|ERR|SEVERE)\b/, Severity.err],
  [/\b(?:error|Error)\b/, Severity.err],
  [/\b(?:WARN(?:ING)?|Warn(?:ing)?|warn(?:ing)?)\b/, Severity.warning],
  [/\b(?:NOTICE)\b/, Severity.notice],
  [/\b(?:DEBUG|TRACE)\b/i, Severity.debug],
];

// Every word of LEVEL_WORDS in any case: a line none of them can match (most lines) costs one scan
// of its head instead of eight; the table, in its order, decides only for the others.
const ANY_LEVEL_WORD = /\b(?:FATAL|PANIC|EMERG(?:ENCY)?|ALERT|CRIT(?:ICAL)?|ERR(?:OR)?|SEVERE|WARN(?:ING)?|NOTICE|DEBUG|TRACE)\b/i;

/** Only the head of the line is searched, so a word deep inside a payload does not decide the level. */
export function severityFromWords(text: string, fallback: number = Severity.info): number {
  const head = text.length > 200 ? text.slice(0, 200) : text;
  if (!ANY_LEVEL_WORD.test(head)) return fallback;
  for (const [re, sev] of LEVEL_WORDS) if (re.test(head)) return sev;
  return fallback;
}

export function parsePlain(text: string, now: number): ParsedLine {
  return { ts: now, severity: severityFromWords(text), message: text };
}

/**
 * A plain application line (not syslog, not structured): its leading timestamp in the common
 * shapes (timestamps.ts) or the time of reading, and the first level word near its start. The
 * message is the whole line, stamp included: nothing of what was written is lost.
 */
export function parsePlainStamped(text: string, zone: string, now: number): ParsedLine {
  const t = leadingTime(text, zone, now);
  const severity = t?.level ?? levelWordNearStart(t ? text.slice(t.end) : text) ?? Severity.info;
  return { ts: t ? t.ts : now, severity, message: text };
}
