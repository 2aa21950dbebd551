// Lines stamped with RFC 3339 in the BSD layout, as Debian 12's rsyslog writes /var/log/syslog
// (`2026-01-12T11:15:58.792703+00:00 nas1 sshd[1581943]: …`) and rsyslog forwards with
// RSYSLOG_ForwardFormat (`<PRI>` in front). syslog-parse returns undefined for these.
import { splitHostTag, type HostTagMessage } from './header.js';
import { parseRfc3339 } from './time.js';

const STAMP_RE = /^\d{4}-\d{2}-\d{2}[Tt]\S+(?:\s+|$)/;

export function parseRfc3339Line(body: string, zone: string): (HostTagMessage & { ts: number }) | null {
  const m = STAMP_RE.exec(body);
  if (!m) return null;
  const ts = parseRfc3339(m[0].trimEnd(), zone);
  if (ts === null) return null;
  const parts = splitHostTag(body.slice(m[0].length));
  return { ts, ...parts, message: parts.message.trimEnd() };
}
