// The HOSTNAME / TAG / PID / MSG split of RFC 3164 lines, decided by syslog-parse 2.0.0 (we hand
// it a fixed stamp, see rfc3164.ts) and validated against positions in our text; splitHostTag
// (header.ts) when it finds no header where ours ends.
//
// Memo: a log repeats a few `HOSTNAME TAG[PID]` headers, and syslog-parse (trim of the whole
// line, unanchored regex, a Date we ignore) was a quarter of the agent's CPU per line, so we ask
// it once per header, not once per line. Why the header alone decides, in syslog-parse's regex
//   (<\d+>)?([a-z]{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})(\s+[\w.-]+)?\s+([\w\-().\d/]+)
//   (?:\[([a-z\d-.]+)])?:(.+)       (flag i; `.` stops at \n \r \u2028 \u2029)
// run on `<PRI>?Jan  1 00:00:00 ` + rest, trimmed: nothing between the seconds and the literal
// ':' can match a ':', so a match that starts at position 0 (its stamp is ours) ends its header
// at the first ':' of rest. With H = rest up to that colon and T = the text after it, when T
// starts with a character `.` matches and T is not all white space (the trim would remove it),
// `(.+)` succeeds on the first path that reaches the colon, whatever follows; that path depends
// only on the PRI and H, and the PRI only shifts the match. So a match at 0 exists for all such
// lines with the same H or for none, and its groups 7–9 are the same. MSG is then T.trim()
// (its `(.+)` and our position rule agree). Our validation reads rest up to that colon, plus
// (no HOSTNAME) the first word of rest, which ends at the colon exactly when T starts with
// white space: the key records that.
// Whether syslog-parse matched at position 0 cannot be seen in its result (an unanchored match
// in the message can pass the position checks, e.g. `h p[a_b]: Jan  1 00:00:00 h p[7]: m`), so
// a miss asks it twice: once on the real line (that answer is returned) and once on a probe
// `H:x` / `H: x` with nothing after the colon that could hold a stamp; only a probe match is
// kept, and only when it gives the real line's answer too. Headers without a match at 0 are
// remembered as DIRECT: those lines keep the per-line path (a later match depends on T).
import syslogParse from 'syslog-parse';
import { splitHostTag, TAG_WORD_RE, type HostTagMessage } from './header.js';
import type { Pri } from './pri.js';

const FIXED_STAMP = 'Jan  1 00:00:00 ';

// Bound: headers are per host and per process (the PID is in H). A file sees a few dozen at a
// time; a relay's receiver one per sending host and daemon: the syslog bench's 300 hosts × 7
// daemons are 2,100, and at the former bound of 1,024 the memo was cleared every ~1,000 new
// headers, so nearly every line missed (two syslog-parse calls): RFC 3164 `real` corpus, decode
// 5.2–7.3 → 1.3–2.7 µs a line. The memo grows only with distinct headers (~120 bytes each for
// usual ones, ~0.5 MiB full; at most 4,096 × MAX_HEADER × 2 bytes, ~2.6 MiB, for hostile ones),
// and clearing it when full needs no LRU bookkeeping per line.
export const MEMO_MAX = 4096;
// HOSTNAME (≤ 255) + TAG[PID]; longer text before the first ':' is a message, not a header.
const MAX_HEADER = 320;

type Split = Omit<HostTagMessage, 'message'> & { program: string };
const REJECTED = 1; // syslog-parse matches at 0 but the split is not ours: splitHostTag(rest)
const DIRECT = 2; // no match at 0: the per-line path
type Entry = Split | typeof REJECTED | typeof DIRECT;
// Key: H when T starts with white space, ':' + H otherwise (H never holds ':').
const memo = new Map<string, Entry>();

const WS = /\s/y;
const LINE_BREAK_RE = /[\r\n\u2028\u2029]/;

/** The split through syslog-parse, asked once per header. */
export function splitRest(rest: string, pri: Pri | null): HostTagMessage {
  const colon = rest.indexOf(':');
  if (colon < 0 || colon > MAX_HEADER) return splitDirect(rest, pri);
  const c = rest.charCodeAt(colon + 1);
  // c !== c: nothing after the colon (NaN).
  if (c !== c || c === 10 || c === 13 || c === 0x2028 || c === 0x2029) return splitDirect(rest, pri);
  const message = rest.slice(colon + 1).trim();
  if (message === '') return splitDirect(rest, pri);
  WS.lastIndex = colon + 1;
  const ws = c === 32 || WS.test(rest);
  const head = rest.slice(0, colon);
  const key = ws ? head : `:${head}`;
  const e = memo.get(key);
  if (e === undefined) return fill(key, head, ws, rest, pri, message);
  if (e === DIRECT) return splitDirect(rest, pri);
  if (e === REJECTED) return splitHostTag(rest);
  return withMessage(e, message);
}

/** syslog-parse on `rest` behind our fixed stamp (and the line's PRI, if it had one). */
function ask(rest: string, pri: Pri | null): SyslogParseResult | undefined {
  return syslogParse((pri ? `<${pri.facility * 8 + pri.severity}>` : '') + FIXED_STAMP + rest);
}

function fill(key: string, head: string, ws: boolean, rest: string, pri: Pri | null, message: string): HostTagMessage {
  const r = ask(rest, pri);
  const direct = (r && validate(rest, r)) ?? splitHostTag(rest);
  let entry: Entry = DIRECT;
  if (r) {
    const probeRest = head + (ws ? ': x' : ':x');
    const p = ask(probeRest, null);
    if (p) {
      const v = validate(probeRest, p);
      entry = v ? splitOf(v) : REJECTED;
      const again = entry === REJECTED ? splitHostTag(rest) : withMessage(entry, message);
      if (!sameSplit(again, direct)) entry = DIRECT;
    }
  }
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, entry);
  return direct;
}

function splitOf(v: HostTagMessage): Split {
  const s: Split = { program: v.program! };
  if (v.hostname) s.hostname = v.hostname;
  if (v.pid !== undefined) s.pid = v.pid;
  if (v.procid !== undefined) s.procid = v.procid;
  return s;
}

// Same shape (keys and order) as validate() builds.
function withMessage(s: Split, message: string): HostTagMessage {
  const out: HostTagMessage = { program: s.program, message };
  if (s.hostname) out.hostname = s.hostname;
  if (s.pid !== undefined) out.pid = s.pid;
  else if (s.procid !== undefined) out.procid = s.procid;
  return out;
}

function sameSplit(a: HostTagMessage, b: HostTagMessage): boolean {
  return a.hostname === b.hostname && a.program === b.program && a.pid === b.pid && a.procid === b.procid && a.message === b.message;
}

/** The per-line path: syslog-parse on this line, or splitHostTag. Tests compare the memo with it. */
export function splitDirect(rest: string, pri: Pri | null): HostTagMessage {
  const r = ask(rest, pri);
  return (r && validate(rest, r)) ?? splitHostTag(rest);
}

type SyslogParseResult = NonNullable<ReturnType<typeof syslogParse>>;

// Where its match must have started for the split to be ours: HOSTNAME? TAG [PID]? ':'
function validate(rest: string, r: SyslogParseResult): HostTagMessage | null {
  let pos = 0;
  if (!r.host) {
    // Without HOSTNAME its tag must be the first word: "fe80::1 sshd: x" is not program "fe80".
    if (!TAG_WORD_RE.test(rest.split(/\s/, 1)[0]!)) return null;
  } else {
    if (!rest.startsWith(r.host)) return null;
    pos = r.host.length;
    const ws = /^\s+/.exec(rest.slice(pos));
    if (!ws) return null;
    pos += ws[0].length;
  }
  if (!rest.startsWith(r.process, pos)) return null;
  pos += r.process.length;
  let procText: string | undefined;
  if (rest[pos] === '[') {
    const close = rest.indexOf(']', pos);
    if (close < 0) return null;
    procText = rest.slice(pos + 1, close);
    pos = close + 1;
  }
  if (rest[pos] !== ':') return null;
  const tail = rest.slice(pos + 1);
  const out: HostTagMessage = {
    program: r.process,
    // Its `(.+)` does not cross line breaks; a joined multi-line message is taken by position.
    message: LINE_BREAK_RE.test(tail) ? tail.trim() : r.message,
  };
  if (r.host) out.hostname = r.host;
  if (r.pid !== undefined && Number.isSafeInteger(r.pid) && r.pid > 0) out.pid = r.pid;
  else if (procText !== undefined && !/^\d+$/.test(procText)) out.procid = procText;
  return out;
}

/** What the memo holds, by kind (tests check that it is used). */
export function headerMemoStats(): { split: number; rejected: number; direct: number } {
  const s = { split: 0, rejected: 0, direct: 0 };
  for (const e of memo.values()) {
    if (e === REJECTED) s.rejected++;
    else if (e === DIRECT) s.direct++;
    else s.split++;
  }
  return s;
}
