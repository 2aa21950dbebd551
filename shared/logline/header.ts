// What follows the timestamp in BSD-style lines: `HOSTNAME TAG: MSG`, where HOSTNAME or TAG may
// be missing. A first word that ends in ':' or looks like `prog[pid]:` is a TAG, anything else a
// HOSTNAME (so an IPv6 address such as fe80::1 stays a host name).
import { readTag } from './tag.js';

export interface HostTagMessage {
  hostname?: string;
  program?: string;
  pid?: number;
  procid?: string;
  message: string;
}

export const TAG_WORD_RE = /^[^\s[\]:]+(?:\[[^\]\s]*\])?:$/;

export function splitHostTag(rest: string): HostTagMessage {
  const sp = rest.search(/\s/);
  const first = sp < 0 ? rest : rest.slice(0, sp);
  let after = rest;
  let hostname: string | undefined;
  if (first !== '' && !TAG_WORD_RE.test(first)) {
    hostname = first.slice(0, 255);
    after = sp < 0 ? '' : rest.slice(sp).replace(/^\s+/, '');
  }
  const tag = readTag(after);
  if (!tag) return { hostname, message: after };
  const out: HostTagMessage = { hostname, program: tag.program, message: after.slice(tag.length).replace(/^\s+/, '') };
  if (tag.pid !== undefined) out.pid = tag.pid;
  if (tag.procid !== undefined) out.procid = tag.procid;
  return out;
}
