// Process checks — "is my application running, and how heavy is it?" Processes are selected by
// name (like pgrep), by a regular expression over the command line (like pgrep -f) or by a
// pidfile (optionally confirmed by name or command line, since pids are reused). Every round
// reports how many run, their summed CPU % and RSS; with none running the count is 0 at once,
// never a missing value, so an alert on `check.process.count < 1` fires on the first round after death.
//
// Between rounds the check watches what it found (watch()): every WATCH_POLL_MS it re-reads the
// pidfile, if any, and /proc/PID/stat of each process the last round matched (same pid, same start
// time, not a zombie). Any difference re-runs collect() and, when the count changed, hands the new
// samples to the runner at once. Polling was chosen over inotify and pidfds: a pidfile's rewrite
// is usually a rename over it (a watch on the file would follow the old inode), a watch on its
// directory wakes for every unrelated file there, and Node has no pidfd; two small reads of
// files the kernel generates cover every way a process disappears or is replaced. Measured with
// 5 pidfile checks, the agent side by side with one without the watch, 60 s: 0.57 s CPU against
// 0.25 s (+0.32 s a minute, 0.5 % of one core; ~0.06 s a minute per check), RSS 60.3 against
// 56.8 MB (load average 2.5, 2 cores). A process that
// appears where nothing was found (a name check) is still seen at the next round; with a pidfile
// its new pid is seen within one poll.
import { basename } from 'node:path';
import { ConfigError } from '../../shared/errors.js';
import { listPids } from '../metrics/processes.js';
import { gauge, labelValue, realProc, USER_HZ, type MetricSource, type ProcFs, type Sample } from '../metrics/types.js';

export interface ProcessCheckConfig {
  name: string;
  /** process name as in /proc/PID/comm or the base name of argv[0] */
  process?: string;
  /** JavaScript regular expression tested against the command line, arguments joined by spaces */
  cmdline?: string;
  /** file holding the pid of the process */
  pidfile?: string;
}

export interface PidStat {
  pid: number;
  comm: string;
  state: string;
  /** user + system CPU ticks (USER_HZ) */
  ticks: number;
  /** start time in ticks after boot */
  start: number;
}

/** /proc/PID/stat; the name is in parentheses and may itself hold spaces and parentheses. */
export function parsePidStat(text: string): PidStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state); utime, stime are fields 14, 15; starttime is field 22.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  const start = Number(rest[19]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { pid: Number(text.slice(0, open).trim()), comm: text.slice(open + 1, close), state: rest[0] ?? '?', ticks: utime + stime, start };
}

/** VmRSS of /proc/PID/status in bytes; kernel threads have none. */
export function parseVmRss(status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Linux keeps 15 characters of a process name (TASK_COMM_LEN 16 with the NUL). */
const COMM_LEN = 15;

export function validateProcessCheck(c: ProcessCheckConfig, where: string): RegExp | null {
  if (c.process === undefined && c.cmdline === undefined && c.pidfile === undefined) {
    throw new ConfigError(where, `check '${c.name}' needs at least one of process, cmdline, pidfile`);
  }
  if (c.cmdline === undefined) return null;
  try {
    return new RegExp(c.cmdline);
  } catch (err) {
    throw new ConfigError(`${where}.cmdline`, `not a valid regular expression: ${(err as Error).message}`);
  }
}

export interface ProcessCheckDeps {
  proc?: ProcFs;
  pids?: () => number[];
  /** the agent's own pid, never counted (its command line may well contain the pattern) */
  selfPid?: number;
  /** monotonic ms, for CPU shares */
  monotonic?: () => number;
  /** interval of the watch between rounds; WATCH_POLL_MS by default */
  pollMs?: number;
}

/** How soon a death is noticed between rounds. */
export const WATCH_POLL_MS = 250;

// One timer for every process check watching at the default interval: one wake-up of the agent
// per poll instead of one per check.
const shared = new Set<() => void>();
let sharedTimer: NodeJS.Timeout | null = null;
function pollShared(fn: () => void): () => void {
  shared.add(fn);
  if (!sharedTimer) {
    sharedTimer = setInterval(() => {
      for (const f of shared) f();
    }, WATCH_POLL_MS);
    sharedTimer.unref();
  }
  return () => {
    shared.delete(fn);
    if (shared.size === 0 && sharedTimer) {
      clearInterval(sharedTimer);
      sharedTimer = null;
    }
  };
}
function pollOwn(fn: () => void, ms: number): () => void {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
}

export function processCheck(c: ProcessCheckConfig, deps: ProcessCheckDeps = {}, where = 'checks.processes'): MetricSource {
  const regex = validateProcessCheck(c, where);
  const proc = deps.proc ?? realProc;
  const pids = deps.pids ?? listPids;
  const selfPid = deps.selfPid ?? process.pid;
  const monotonic = deps.monotonic ?? (() => performance.now());
  const labels = { check: labelValue(c.name) };
  // pid → CPU ticks at the previous round, keyed with the start time so a reused pid is a new process
  let prev = new Map<string, { ticks: number; at: number }>();
  // what the last collect() saw, for the watch: the pidfile's pid and the processes that matched
  let seenPidfile: number | null = null;
  let seenMatched: Array<{ pid: number; start: number }> = [];
  let lastCount: number | null = null;
  let unwatch: (() => void) | null = null;

  const read = (path: string): string | null => {
    try {
      return proc.read(path);
    } catch {
      return null; // the process ended while we looked
    }
  };
  const cmdlineOf = (pid: number): string | null => {
    const raw = read(`/proc/${pid}/cmdline`);
    return raw === null ? null : raw.replace(/\0+$/, '').replace(/\0/g, ' ');
  };
  const pidfilePid = (): number | null => {
    const text = read(c.pidfile!);
    const pid = text === null ? NaN : Number(text.trim().split(/\s+/)[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  };
  const candidates = (): number[] => {
    if (c.pidfile === undefined) return pids();
    seenPidfile = pidfilePid();
    return seenPidfile === null ? [] : [seenPidfile];
  };
  /** Whether anything the last collect() saw is different now: two small reads per process. */
  const moved = (): boolean => {
    if (c.pidfile !== undefined && pidfilePid() !== seenPidfile) return true;
    for (const m of seenMatched) {
      const text = read(`/proc/${m.pid}/stat`);
      const st = text === null ? null : parsePidStat(text);
      if (!st || st.start !== m.start || st.state === 'Z' || st.state === 'X' || st.state === 'x') return true;
    }
    return false;
  };
  const matches = (st: PidStat): boolean => {
    if (st.pid === selfPid || st.state === 'Z' || st.state === 'X' || st.state === 'x') return false;
    if (c.process !== undefined && st.comm !== c.process) {
      if (c.process.length <= COMM_LEN || st.comm !== c.process.slice(0, COMM_LEN)) return false;
      const argv0 = cmdlineOf(st.pid)?.split(' ')[0];
      if (!argv0 || basename(argv0) !== c.process) return false;
    }
    if (regex) {
      const cmd = cmdlineOf(st.pid);
      // kernel threads have an empty command line: never a match for a pattern
      if (!cmd || !regex.test(cmd)) return false;
    }
    return true;
  };

  return {
    name: `process:${c.name}`,
    watch(changed: (samples: Sample[]) => void): void {
      if (unwatch) return;
      const poll = () => {
        if (!moved()) return;
        const before = lastCount;
        const samples = this.collect(0) as Sample[];
        if (lastCount !== before) changed(samples);
      };
      unwatch = deps.pollMs === undefined || deps.pollMs === WATCH_POLL_MS ? pollShared(poll) : pollOwn(poll, deps.pollMs);
    },
    close(): void {
      unwatch?.();
      unwatch = null;
    },
    collect(): Sample[] {
      const now = monotonic();
      const matched: Array<{ pid: number; start: number }> = [];
      const uptimeText = read('/proc/uptime');
      const uptime = uptimeText === null ? NaN : Number(uptimeText.split(' ')[0]);
      const next = new Map<string, { ticks: number; at: number }>();
      let count = 0;
      let cpuPct = 0;
      let rss = 0;
      for (const pid of candidates()) {
        const text = read(`/proc/${pid}/stat`);
        const st = text === null ? null : parsePidStat(text);
        if (!st || !matches(st)) continue;
        const status = read(`/proc/${pid}/status`);
        if (status === null) continue; // gone meanwhile
        count++;
        matched.push({ pid, start: st.start });
        rss += parseVmRss(status);
        const key = `${pid}:${st.start}`;
        const p = prev.get(key);
        if (p && now > p.at) {
          cpuPct += ((st.ticks - p.ticks) / USER_HZ) * 1000 * 100 / (now - p.at);
        } else if (Number.isFinite(uptime)) {
          // First sight: its average since it started (exact for a process born this round).
          const lived = uptime - st.start / USER_HZ;
          if (lived > 0) cpuPct += ((st.ticks / USER_HZ) * 100) / lived;
        }
        next.set(key, { ticks: st.ticks, at: now });
      }
      prev = next;
      seenMatched = matched;
      lastCount = count;
      return [
        gauge('check.process.count', count, labels),
        gauge('check.process.cpu_pct', Math.round(cpuPct * 1000) / 1000, labels),
        gauge('check.process.rss_bytes', rss, labels),
      ];
    },
  };
}
