// Level names and numbers as applications write them, mapped to syslog severities (0 emerg …
// 7 debug). One table for JSON values, logfmt values and the level words of plain lines.
// fatal/panic/emerg map to emerg like the level words of plain.ts always did; trace to debug.
import { Severity } from '../wire.js';

const NAMES = new Map<string, number>([
  ['trace', Severity.debug],
  ['debug', Severity.debug],
  ['dbg', Severity.debug],
  ['verbose', Severity.debug],
  ['info', Severity.info],
  ['information', Severity.info],
  ['informational', Severity.info],
  ['log', Severity.info],
  ['notice', Severity.notice],
  ['note', Severity.notice],
  ['warn', Severity.warning],
  ['warning', Severity.warning],
  ['error', Severity.err],
  ['err', Severity.err],
  ['eror', Severity.err],
  ['severe', Severity.err],
  ['crit', Severity.crit],
  ['critical', Severity.crit],
  ['alert', Severity.alert],
  ['fatal', Severity.emerg],
  ['panic', Severity.emerg],
  ['emerg', Severity.emerg],
  ['emergency', Severity.emerg],
]);

/** A level name in any case (`WARN`, `Warning`, `err`), or undefined. */
export function levelFromName(name: string): number | undefined {
  if (name.length === 0 || name.length > 13) return undefined;
  return NAMES.get(name.toLowerCase());
}

/** pino/bunyan numbers: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal (exact values only). */
export function levelFromPinoNumber(n: number): number | undefined {
  switch (n) {
    case 10:
    case 20:
      return Severity.debug;
    case 30:
      return Severity.info;
    case 40:
      return Severity.warning;
    case 50:
      return Severity.err;
    case 60:
      return Severity.emerg;
    default:
      return undefined;
  }
}

/**
 * The value of a level key (`level`, `lvl`, `severity`, `levelname`, `log.level`): a name, or a
 * pino number (also as a numeric string). `syslogNumber` (journald's PRIORITY) reads 0…7 as the
 * syslog severity itself. Undefined when the value means nothing: the key then stays a field.
 */
export function levelFromValue(v: unknown, syslogNumber = false): number | undefined {
  if (typeof v === 'number') return syslogNumber ? syslogSeverity(v) : levelFromPinoNumber(v);
  if (typeof v !== 'string') return undefined;
  const c = v.charCodeAt(0);
  if (c >= 48 && c <= 57) {
    if (!/^\d{1,2}$/.test(v)) return undefined;
    return syslogNumber ? syslogSeverity(Number(v)) : levelFromPinoNumber(Number(v));
  }
  return levelFromName(v.trim());
}

function syslogSeverity(n: number): number | undefined {
  return Number.isInteger(n) && n >= 0 && n <= 7 ? n : undefined;
}

// The first level word near the start of a plain line decides; a later one is payload
// ("INFO request failed: error 42" is info). UPPER, Capitalized, or lower case; `[error]` too.
const WORD_RE =
  /(?:^|[\s[(<|:=])(TRACE|Trace|trace|DEBUG|Debug|debug|INFO|Info|info|NOTICE|Notice|notice|WARN(?:ING)?|Warn(?:ing)?|warn(?:ing)?|ERROR|Error|error|ERR|err|SEVERE|Severe|CRIT(?:ICAL)?|Crit(?:ical)?|crit(?:ical)?|ALERT|alert|EMERG(?:ENCY)?|emerg|FATAL|Fatal|fatal|PANIC|panic|LOG|Note)(?=$|[\s\]):,>|])/;
/** How far into a plain line a level word is looked for. */
const HEAD = 160;

/** The severity named by the first level word in the head of a plain line, or undefined. */
export function levelWordNearStart(text: string): number | undefined {
  const m = WORD_RE.exec(text.length > HEAD ? text.slice(0, HEAD) : text);
  if (!m) return undefined;
  const w = m[1]!;
  // `Note` only as MySQL writes it, `[Note]`; as a word it is prose.
  if (w === 'Note' && (m[0].length === w.length || text[m.index] !== '[')) return undefined;
  return NAMES.get(w.toLowerCase());
}
