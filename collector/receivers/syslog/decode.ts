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
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f || c === 0xfffd) bad++;
  }
  return bad * 5 > text.length;
}

/** Host names, FQDNs, IPv4 and IPv6 addresses (with a zone id): what RFC 3164/5424 HOSTNAME holds. */
const HOST_RE = /^[A-Za-z0-9_][A-Za-z0-9._:%-]{0,254}$/;

export interface Decoded {
  line: Omit<WireLine, 'offset'>;
  /** HOSTNAME from the message, if any */
  hostname?: string;
  parsed: ParsedLine;
}

export type DecodeResult = { ok: true; value: Decoded } | { ok: false; reason: 'binary' | 'empty' };

export function decodeFrame(bytes: Buffer, truncated: boolean, opts: { now: number; timeZone: string }): DecodeResult {
  const text = decoder.decode(bytes);
  if (text.trim() === '') return { ok: false, reason: 'empty' };
  if (looksBinary(text)) return { ok: false, reason: 'binary' };
  const parsed = parseSyslogFrame(text, opts);
  const line: Omit<WireLine, 'offset'> = {
    ts: Math.trunc(parsed.ts),
    severity: parsed.severity,
    message: parsed.message,
  };
  if (parsed.program) line.program = parsed.program.slice(0, 256);
  if (parsed.pid !== undefined && Number.isSafeInteger(parsed.pid) && parsed.pid >= 0) line.pid = parsed.pid;
  if (parsed.facility !== undefined) line.facility = parsed.facility;
  if (truncated) line.truncated = true;
  if (parsed.fields) {
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed.fields)) fields[k.slice(0, 128)] = v.slice(0, 8192);
    line.fields = fields;
  }
  const out: Decoded = { line, parsed };
  const host = parsed.hostname;
  if (host !== undefined) {
    if (HOST_RE.test(host)) out.hostname = host;
    // The host is an identity (filters, URLs, the host list), so markup or control characters
    // claimed by a sender never become one: the sender's address stands in, the claim is kept.
    else line.fields = { ...line.fields, hostname: host.slice(0, 8192) };
  }
  return { ok: true, value: out };
}
