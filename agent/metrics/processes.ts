// The system as a whole: processes running, blocked and in total, forks, open file descriptors,
// TCP connections by state and uptime.
import { readdirSync } from 'node:fs';
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

/** The `st` column of /proc/net/tcp{,6}, as include/net/tcp_states.h numbers them. */
export const TCP_STATES: Record<string, string> = {
  '01': 'established',
  '02': 'syn_sent',
  '03': 'syn_recv',
  '04': 'fin_wait1',
  '05': 'fin_wait2',
  '06': 'time_wait',
  '07': 'close',
  '08': 'close_wait',
  '09': 'last_ack',
  '0A': 'listen',
  '0B': 'closing',
  '0C': 'new_syn_recv',
};

/** State names by the number the `st` column gives in hex (TCP_STATES). */
const TCP_STATE_BY_CODE: (string | undefined)[] = [];
for (const [hex, name] of Object.entries(TCP_STATES)) TCP_STATE_BY_CODE[parseInt(hex, 16)] = name;

/** 0–15 for a hex digit's char code, -1 otherwise. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20; // lower case
  return c >= 97 && c <= 102 ? c - 87 : -1;
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 13;

/**
 * Counts the `st` column (the fourth) of every line but the header. A busy host has thousands of
 * sockets (~150 bytes a line): the text is scanned where it lies, without splitting it into lines
 * and fields, whose tens of thousands of strings every 10 s grew the agent's heap by MBs.
 */
export function countTcpStates(texts: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of Object.values(TCP_STATES)) out[s] = 0;
  for (const text of texts) {
    let i = text.indexOf('\n') + 1;
    if (i === 0) continue;
    while (i < text.length) {
      let end = text.indexOf('\n', i);
      if (end < 0) end = text.length;
      let j = i;
      // Skip three fields (and the blanks around them) to the fourth.
      for (let field = 0; field <= 3 && j < end; field++) {
        while (j < end && isSpace(text.charCodeAt(j))) j++;
        if (field < 3) while (j < end && !isSpace(text.charCodeAt(j))) j++;
      }
      if (j + 2 <= end && (j + 2 === end || isSpace(text.charCodeAt(j + 2)))) {
        const hi = hexDigit(text.charCodeAt(j));
        const lo = hexDigit(text.charCodeAt(j + 1));
        const name = hi >= 0 && lo >= 0 ? TCP_STATE_BY_CODE[hi * 16 + lo] : undefined;
        if (name) out[name]! += 1;
      }
      i = end + 1;
    }
  }
  return out;
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
  return {
    name: 'processes',
    collect(): Sample[] {
      const stat = parseProcStatCounts(proc.read('/proc/stat'));
      const fds = parseFileNr(proc.read('/proc/sys/fs/file-nr'));
      const tcp = countTcpStates([readOr(proc, '/proc/net/tcp'), readOr(proc, '/proc/net/tcp6')]);
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
