// The single log-line parser shared by the agent (files) and the collector (syslog receiver).
// Formats tried in order: RFC 5424, RFC 3339-stamped BSD lines, RFC 3164 (through syslog-parse),
// then (parser `auto`, the default) a JSON object, logfmt, or plain text with a leading stamp
// (auto.ts); a syslog message's JSON or logfmt body is read too. The syslog shapes stay first
// and unchanged, so a syslog line costs what it did plus a one-word look at its message. Files and the network differ only where a line has no <PRI>: a file line
// takes its severity from level words, a network frame gets 13 (user.notice, RFC 3164 §4.3.3).
import { parsePlain, severityFromWords } from './plain.js';
import { DEFAULT_PRI, readPri, type Pri } from './pri.js';
import { parseRfc3164 } from './rfc3164.js';
import { parseRfc3339Line } from './rfc3339.js';
import { parseRfc5424 } from './rfc5424.js';
import type { ParseOptions, ParsedLine } from './types.js';
import type { HostTagMessage } from './header.js';
import { parseAutoText, parseForced, withBody } from './auto.js';
import { levelFromName } from './levels.js';

export type { ParseOptions, ParsedLine, ParserMode } from './types.js';
export { PARSER_MODES } from './types.js';
export { isValidTimeZone } from './zone.js';
export { severityFromWords } from './plain.js';

type Mode = 'file' | 'network';

/** A line read from a file (the agent): syslog formats recognised, anything else plain. */
export function parseLine(text: string, opts: ParseOptions): ParsedLine {
  return parse(text, opts, 'file');
}

/** One syslog message received over UDP or TCP (framing already removed). */
export function parseSyslogFrame(text: string, opts: ParseOptions): ParsedLine {
  return parse(text, opts, 'network');
}

function parse(text: string, opts: ParseOptions, mode: Mode): ParsedLine {
  const zone = opts.timeZone ?? 'UTC';
  const parser = opts.parser ?? 'auto';
  if (parser !== 'auto' && parser !== 'syslog') return parseForced(text, parser, zone, opts.now);
  const auto = parser === 'auto';
  // One character before each regex: most file lines have no PRI, and a JSON line is no stamp.
  const pri = text.charCodeAt(0) === 60 /* < */ ? readPri(text) : null;
  const body = pri ? text.slice(pri.length) : text;

  if (pri) {
    const r5424 = parseRfc5424(body, zone);
    if (r5424) {
      const line: ParsedLine = {
        ts: r5424.ts ?? opts.now,
        severity: pri.severity,
        facility: pri.facility,
        message: r5424.message,
        format: 'rfc5424',
      };
      if (r5424.hostname) line.hostname = r5424.hostname;
      if (r5424.program) line.program = r5424.program;
      if (r5424.pid !== undefined) line.pid = r5424.pid;
      if (hasKeys(r5424.fields)) line.fields = r5424.fields;
      return auto ? withBody(line, zone, opts.now) : line;
    }
  }
  const b0 = body.charCodeAt(0);
  const r3339 = b0 >= 48 && b0 <= 57 ? parseRfc3339Line(body, zone) : null;
  // A file line stamped like Debian's syslog but without a TAG, or whose "host" is a level word,
  // is an application's line (`2026-12-06T23:40:46Z ERROR …`): under auto it is read as plain.
  if (r3339 && (!auto || mode === 'network' || pri || isSyslogHeader(r3339))) {
    const line = bsd(r3339, r3339.ts, pri, mode, 'rfc3339');
    return auto ? withBody(line, zone, opts.now) : line;
  }
  const r3164 = b0 !== 123 /* { */ ? parseRfc3164(body, pri, zone, opts.now) : null;
  if (r3164) {
    const line = bsd(r3164, r3164.ts, pri, mode, 'rfc3164');
    return auto ? withBody(line, zone, opts.now) : line;
  }

  // Not a syslog header: RFC 3164 §4.3.2/§4.3.3, the whole content is the message, stamped now.
  let line: ParsedLine;
  if (pri) line = { ts: opts.now, severity: pri.severity, facility: pri.facility, message: body, format: 'plain' };
  else if (mode === 'network') {
    line = { ts: opts.now, severity: DEFAULT_PRI.severity, facility: DEFAULT_PRI.facility, message: text, format: 'plain' };
  } else if (auto) return parseAutoText(text, zone, opts.now);
  else return { ...parsePlain(text, opts.now), format: 'plain' };
  return auto ? withBody(line, zone, opts.now) : line;
}

/** `Object.keys(o).length > 0` without the array (once per RFC 5424 frame). */
function hasKeys(o: Record<string, string>): boolean {
  for (const _ in o) return true;
  return false;
}

// What still reads as `HOSTNAME TAG: MSG` / `HOSTNAME MSG` after an RFC 3339 stamp: a TAG, or a
// host word with a letter that is not a level name (`0 [Warning]` is MySQL, `ERROR` a level).
const HOST_WORD_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const LETTER_RE = /[A-Za-z]/;
function isSyslogHeader(p: HostTagMessage): boolean {
  const h = p.hostname;
  if (h !== undefined && levelFromName(h.replace(/^\[|\]?:?$/g, '')) !== undefined) return false;
  return p.program !== undefined || (h !== undefined && HOST_WORD_RE.test(h) && LETTER_RE.test(h));
}

function bsd(p: HostTagMessage, ts: number, pri: Pri | null, mode: Mode, format: ParsedLine['format']): ParsedLine {
  const line: ParsedLine = { ts, severity: 0, message: p.message, format };
  if (pri) {
    line.severity = pri.severity;
    line.facility = pri.facility;
  } else if (mode === 'network') {
    line.severity = DEFAULT_PRI.severity;
    line.facility = DEFAULT_PRI.facility;
  } else {
    line.severity = severityFromWords(p.message);
  }
  if (p.hostname) line.hostname = p.hostname;
  if (p.program) line.program = p.program;
  if (p.pid !== undefined) line.pid = p.pid;
  if (p.procid !== undefined) line.fields = { procid: p.procid };
  return line;
}
