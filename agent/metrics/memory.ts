// Memory from /proc/meminfo, with procps-ng 4's definitions so the figures match `free -b -w`:
// used = MemTotal − MemAvailable, cache = Cached + SReclaimable, swap used = SwapTotal − SwapFree.
import { gauge, realProc, type MetricSource, type ProcFs, type Sample } from './types.js';

/** Values of /proc/meminfo in bytes (the file says kB, meaning KiB). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_()]+):\s+(\d+)(\s+kB)?\s*$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * (m[3] ? 1024 : 1));
  }
  return out;
}

export interface Memory {
  total: number;
  available: number;
  used: number;
  free: number;
  buffers: number;
  cached: number;
  swap_total: number;
  swap_used: number;
}

export function memoryFigures(m: Map<string, number>): Memory {
  const get = (k: string) => m.get(k) ?? 0;
  const total = get('MemTotal');
  if (total <= 0) throw new Error('/proc/meminfo has no MemTotal');
  const free = get('MemFree');
  const buffers = get('Buffers');
  const cached = get('Cached') + get('SReclaimable');
  // Kernels before 3.14 lack MemAvailable; procps then estimates it as free + cache + buffers.
  let available = m.has('MemAvailable') ? get('MemAvailable') : free + buffers + cached;
  if (available > total) available = total;
  const used = total - available;
  return {
    total,
    available,
    used,
    free,
    buffers,
    cached,
    swap_total: get('SwapTotal'),
    swap_used: Math.max(0, get('SwapTotal') - get('SwapFree')),
  };
}

export function memoryFamily(proc: ProcFs = realProc): MetricSource {
  return {
    name: 'memory',
    collect(): Sample[] {
      const f = memoryFigures(parseMeminfo(proc.read('/proc/meminfo')));
      return [
        gauge('memory.total', f.total),
        gauge('memory.available', f.available),
        gauge('memory.used', f.used),
        gauge('memory.free', f.free),
        gauge('memory.buffers', f.buffers),
        gauge('memory.cached', f.cached),
        gauge('memory.swap_total', f.swap_total),
        gauge('memory.swap_used', f.swap_used),
      ];
    },
  };
}
