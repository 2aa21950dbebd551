// From a frame's bytes to a wire line: UTF-8 with replacement (one bad byte never costs the
// message, unlike Vector's syslog source), a test for binary junk, and the parsed fields clamped
// to the limits of the wire schema so a stored line always validates.
import { parseSyslogFrame, type ParsedLine } from '../../../shared/logline/index.js';
import type { WireLine } from '../../../shared/wire.js';

const decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

/**
 * Binary junk (a port scanner, TLS spoken to a plain port, random bytes) rather than text with a
 * few bad bytes: more than one character in five is a control character or a replacement for
 * invalid UTF-8. Tab, CR and LF are text.
 */
export function looksBinary(text: string): boolean {
  return junkOrBlank(text) === 'binary';
}

/** a character looksBinary counts: a control character other than tab, CR, LF; DEL; a replacement for invalid UTF-8 */
const BAD_RE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]/;
/** a printable ASCII character: the text is not blank */
const PRINTABLE_RE = /[\x21-\x7e]/;

/**
 * 'empty' (nothing but white space), 'binary' (see looksBinary) or null. Clean text (nearly every
 * message) is told by two scans of the regex engine; the count per character runs only for text
 * with a bad character in it (the loop per character on every message was ~10 % of the
 * receiver's main thread per line).
 */
function junkOrBlank(text: string): 'empty' | 'binary' | null {
  if (!BAD_RE.test(text)) return PRINTABLE_RE.test(text) || text.trim() !== '' ? null : 'empty';
  let bad = 0;
  // a printable ASCII character proves the text is not blank; without one, trim() decides
  let printable = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f || c === 0xfffd) bad++;
    else if (c > 0x20 && c < 0x7f) printable = true;
  }
  if (!printable && text.trim() === '') return 'empty';
  return bad * 5 > text.length ? 'binary' : null;
}

/** Host names, FQDNs, IPv4 and IPv6 addresses (with a zone id): what RFC 3164/5424 HOSTNAME holds. */
const HOST_RE = /^[A-Za-z0-9_][A-Za-z0-9._:%-]{0,254}$/;

/**
 * The fields cut to what a wire line carries (values of 8,192 characters, the schema's bound;
 * names of 128, the collector's own, which the pipeline then bounds in bytes): the parser's own
 * object when nothing is over them (nearly always), not a copy of it per line.
 */
function withinWire(f: Record<string, string>): Record<string, string> {
  let over = false;
  for (const k in f) {
    if (k.length > 128 || f[k]!.length > 8192) {
      over = true;
      break;
    }
  }
  if (!over) return f;
  const out: Record<string, string> = {};
  for (const k in f) out[k.slice(0, 128)] = f[k]!.slice(0, 8192);
  return out;
}

export interface Decoded {
  /** offset 0: the batcher numbers it */
  line: WireLine;
  /** HOSTNAME from the message, if any */
  hostname: string | undefined;
  parsed: ParsedLine;
}

/**
 * `bytes` is read here and not kept (it may be a view of a socket chunk). Every line has the same
 * properties in the same order, absent ones undefined: the batcher, the pipeline and the writer's
 * packing then read one object shape, not one per combination of present fields.
 */
export function decodeFrame(bytes: Buffer, truncated: boolean, now: number, timeZone: string): Decoded | 'binary' | 'empty' {
  const text = decoder.decode(bytes);
  const junk = junkOrBlank(text);
  if (junk !== null) return junk;
  const parsed = parseSyslogFrame(text, { now, timeZone });
  const program = parsed.program;
  const pid = parsed.pid;
  let fields: Record<string, string> | undefined;
  if (parsed.fields) fields = withinWire(parsed.fields);
  const line: WireLine = {
    offset: 0,
    ts: Math.trunc(parsed.ts),
    severity: parsed.severity,
    message: parsed.message,
    program: program ? program.slice(0, 256) : undefined,
    pid: pid !== undefined && Number.isSafeInteger(pid) && pid >= 0 ? pid : undefined,
    facility: parsed.facility,
    fields,
    truncated: truncated ? true : undefined,
  };
  let hostname: string | undefined;
  const host = parsed.hostname;
  if (host !== undefined) {
    if (HOST_RE.test(host)) hostname = host;
    // The host is an identity (filters, URLs, the host list), so markup or control characters
    // claimed by a sender never become one: the sender's address stands in, the claim is kept.
    else line.fields = { ...line.fields, hostname: host.slice(0, 8192) };
  }
  return { line, hostname, parsed };
}
