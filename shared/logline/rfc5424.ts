// RFC 5424: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID PARAM="v"…]… MSG`.
// syslog-parse returns undefined for it, so this is our own, written to the RFC's ABNF with
// its length limits; structured data lands in `fields` as `sd.<SD-ID>.<PARAM>`.
import { parseRfc3339 } from './time.js';

export interface Rfc5424Parts {
  /** null for the NILVALUE timestamp */
  ts: number | null;
  hostname?: string;
  program?: string;
  pid?: number;
  fields: Record<string, string>;
  message: string;
}

const HEADER_RE = /^([1-9]\d?) (\S+) (\S{1,255}) (\S{1,48}) (\S{1,128}) (\S{1,32})(?: |$)/;
const SD_NAME_RE = /^[^\s="\]]{1,32}/;
/** the wire schema's limit on a field value */
const MAX_VALUE = 8192;

function nil(v: string): string | undefined {
  return v === '-' ? undefined : v;
}

/** `body` is the text after the PRI. Null when the header does not follow RFC 5424. */
export function parseRfc5424(body: string, zone: string): Rfc5424Parts | null {
  const m = HEADER_RE.exec(body);
  if (!m) return null;
  let ts: number | null = null;
  if (m[2] !== '-') {
    ts = parseRfc3339(m[2]!, zone);
    if (ts === null) return null;
  }
  const fields: Record<string, string> = {};
  const out: Rfc5424Parts = { ts, fields, message: '' };
  const hostname = nil(m[3]!);
  const app = nil(m[4]!);
  const procid = nil(m[5]!);
  const msgid = nil(m[6]!);
  if (hostname) out.hostname = hostname;
  if (app) out.program = app;
  if (procid) {
    if (/^\d{1,10}$/.test(procid) && Number(procid) > 0) out.pid = Number(procid);
    else fields.procid = procid;
  }
  if (msgid) fields.msgid = msgid;

  const rest = body.slice(m[0].length);
  const sd = readStructuredData(rest, fields);
  // Malformed structured data: keep everything after MSGID as the message rather than lose it.
  const msgStart = sd === null ? 0 : sd;
  let msg = rest.slice(msgStart);
  if (sd !== null && msg.startsWith(' ')) msg = msg.slice(1);
  if (msg.startsWith('\uFEFF')) msg = msg.slice(1);
  out.message = withoutLineEnd(msg);
  if (sd === null) out.fields = Object.fromEntries(Object.entries(fields).filter(([k]) => !k.startsWith('sd.')));
  return out;
}

/**
 * `s` without the CR and LF characters it ends with. The regular expression this replaces,
 * /[\r\n]+$/, was tried at every position of the message (~2 % of the syslog receiver's main
 * thread per line); nearly every message ends with neither.
 */
function withoutLineEnd(s: string): string {
  let end = s.length;
  for (let c = s.charCodeAt(end - 1); c === 10 || c === 13; c = s.charCodeAt(end - 1)) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** Reads SD at the start of `s` into `fields`; returns the index after it, or null if malformed. */
function readStructuredData(s: string, fields: Record<string, string>): number | null {
  if (s === '' || s[0] === '-') return s === '' ? 0 : 1;
  let i = 0;
  if (s[0] !== '[') return null;
  while (s[i] === '[') {
    i++;
    const id = SD_NAME_RE.exec(s.slice(i, i + 33))?.[0];
    if (!id) return null;
    i += id.length;
    while (s[i] === ' ') {
      i++;
      const name = SD_NAME_RE.exec(s.slice(i, i + 33))?.[0];
      if (!name || s[i + name.length] !== '=' || s[i + name.length + 1] !== '"') return null;
      i += name.length + 2;
      let value = '';
      for (;;) {
        const c = s[i];
        if (c === undefined) return null;
        if (c === '"') break;
        if (c === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === ']')) {
          value += s[i + 1];
          i += 2;
          continue;
        }
        value += c;
        i++;
      }
      i++;
      let key = `sd.${id}.${name}`;
      for (let n = 1; key in fields; n++) key = `sd.${id}.${name}[${n}]`;
      fields[key] = value.slice(0, MAX_VALUE);
    }
    if (s[i] !== ']') return null;
    i++;
  }
  return i;
}
