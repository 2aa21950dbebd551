// The TAG of BSD-style lines (`sshd[123]: `, `kernel: `, `postfix/smtpd[9]: `) for the formats
// syslog-parse does not handle (RFC 3339-stamped files) and for the tags it rejects.
export interface Tag {
  program: string;
  pid?: number;
  /** the pid text when it is not a plain number (e.g. `[abc]`) */
  procid?: string;
  /** characters consumed, including the colon and one following space */
  length: number;
}

// A program name is anything up to `[`, `:` or white space; a colon is required, as in
// syslog-parse, so that `host said hello` is not mistaken for a tag.
const TAG_RE = /^([^\s[\]:]{1,256})(?:\[([^\]\s]{1,128})\])?: ?/;

export function readTag(text: string): Tag | null {
  const m = TAG_RE.exec(text);
  if (!m) return null;
  const tag: Tag = { program: m[1]!, length: m[0].length };
  const procid = m[2];
  if (procid !== undefined) {
    if (/^\d{1,10}$/.test(procid) && Number(procid) > 0) tag.pid = Number(procid);
    else tag.procid = procid;
  }
  return tag;
}

/** Host names as they appear in syslog headers: no white space, at most 255 characters. */
export const HOSTNAME_RE = /^[^\s]{1,255}$/;
