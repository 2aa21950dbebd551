// The system as a whole: processes running, blocked and in total, forks, open file descriptors,
// TCP connections by state and uptime.
import { readdirSync } from 'node:fs';
import { countTcpStates, countTcpStatesInFiles, TCP_FILES } from './tcp-states.js';
import { derive, fields, gauge, realProc, type MetricSource, type ProcFs, type Sample } from './types.js';

export interface ProcStatCounts {
  running: number;
  blocked: number;
  /** forks since boot */
  forks: number;
}

export function parseProcStatCounts(stat: string): ProcStatCounts {
  const get = (key: string) => {
    const m = new RegExp(`^${key}\\s+(\\d+)`, 'm').exec(stat);
    return m ? Number(m[1]) : NaN;
  };
  return { running: get('procs_running'), blocked: get('procs_blocked'), forks: get('processes') };
}

/** /proc/sys/fs/file-nr: allocated handles, allocated-but-free (0 since 2.6), maximum. */
export function parseFileNr(text: string): { open: number; max: number } {
  const [allocated, free, max] = fields(text).map(Number);
  return { open: (allocated ?? 0) - (free ?? 0), max: max ?? NaN };
}

export function parseUptime(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s/.exec(text);
  const up = m ? Number(m[1]) : NaN;
  if (!Number.isFinite(up)) throw new Error(`unexpected /proc/uptime: '${text.trim()}'`);
  return up;
}

export function listPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

function readOr(proc: ProcFs, path: string): string {
  try {
    return proc.read(path);
  } catch {
    return ''; // no IPv6 in this kernel, or /proc/net hidden
  }
}

export function processesFamily(proc: ProcFs = realProc, pids: () => number[] = listPids): MetricSource {
  // The real /proc through a reused buffer (tcp-states.ts); captured copies as strings.
  const tcpStates = proc === realProc ? () => countTcpStatesInFiles(TCP_FILES) : () => countTcpStates(TCP_FILES.map((p) => readOr(proc, p)));
  return {
    name: 'processes',
    collect(): Sample[] {
      const stat = parseProcStatCounts(proc.read('/proc/stat'));
      const fds = parseFileNr(proc.read('/proc/sys/fs/file-nr'));
      const tcp = tcpStates();
      const out: Sample[] = [
        gauge('processes.running', stat.running),
        gauge('processes.blocked', stat.blocked),
        gauge('processes.total', pids().length),
        derive('processes.forks', stat.forks),
        gauge('fds.open', fds.open),
        gauge('fds.max', fds.max),
        gauge('system.uptime', parseUptime(proc.read('/proc/uptime'))),
      ];
      for (const [state, n] of Object.entries(tcp)) out.push(gauge('tcp.connections', n, { state }));
      return out.filter((s) => Number.isFinite(s.value));
    },
  };
}
