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

// The words of LEVEL_WORDS in lower case. `\b(?:W)\b` matches where a maximal run of ASCII word
// characters ([A-Za-z0-9_], the only ones `\b` knows without the u flag) is W, so a head none of
// whose runs is one of these words in any case matches no rule of the table: most lines are
// answered by one pass over their characters, and the table, in its order, decides the others.
const LEVEL_WORD_SET = ['fatal', 'panic', 'emerg', 'emergency', 'alert', 'crit', 'critical', 'err', 'error', 'severe', 'warn', 'warning', 'notice', 'debug', 'trace'];
const BY_LENGTH: string[][] = [];
for (const w of LEVEL_WORD_SET) (BY_LENGTH[w.length] ??= []).push(w);
/** 1 for an ASCII word character */
const WORD_CHAR = new Uint8Array(128);
for (let c = 48; c <= 57; c++) WORD_CHAR[c] = 1;
for (let c = 65; c <= 90; c++) WORD_CHAR[c] = 1;
for (let c = 97; c <= 122; c++) WORD_CHAR[c] = 1;
WORD_CHAR[95] = 1;

/** Whether text[from, to) (ASCII word characters) is a level word in any case. */
function isLevelRun(text: string, from: number, to: number): boolean {
  const words = BY_LENGTH[to - from];
  if (words === undefined) return false;
  next: for (const w of words) {
    // | 0x20 lowers A–Z and leaves digits as they are; `_` becomes 127, no letter
    for (let i = 0; i < w.length; i++) if ((text.charCodeAt(from + i) | 0x20) !== w.charCodeAt(i)) continue next;
    return true;
  }
  return false;
}

/** Whether any maximal run of ASCII word characters in text[0, end) is a level word. */
function hasLevelWord(text: string, end: number): boolean {
  let start = -1;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? text.charCodeAt(i) : 0;
    if (c < 128 && WORD_CHAR[c] === 1) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start >= 3 && i - start <= 9 && isLevelRun(text, start, i)) return true;
      start = -1;
    }
  }
  return false;
}

/** Only the head of the line is searched, so a word deep inside a payload does not decide the level. */
export function severityFromWords(text: string, fallback: number = Severity.info): number {
  const end = Math.min(text.length, 200);
  if (!hasLevelWord(text, end)) return fallback;
  const head = text.length > 200 ? text.slice(0, 200) : text;
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
