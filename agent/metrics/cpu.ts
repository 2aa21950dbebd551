// CPU time shares from the aggregate `cpu` line of /proc/stat. The kernel gives cumulative ticks
// per state; a share is a ratio of two deltas (this state's over all states'), which no
// per-series round-robin rate can express, so this family sends percentages as GAUGE.
import { fields, gauge, realProc, type MetricSource, type ProcFs, type Sample } from './types.js';

/** Order of the columns after `cpu` (guest and guest_nice are already inside user and nice). */
export const CPU_STATES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;
export type CpuState = (typeof CPU_STATES)[number];
export type CpuTicks = Record<CpuState, number>;

export function parseCpuLine(stat: string): CpuTicks {
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('/proc/stat has no aggregate cpu line');
  const f = fields(line).slice(1).map(Number);
  const out = {} as CpuTicks;
  CPU_STATES.forEach((s, i) => {
    // Old kernels lack the later columns (steal since 2.6.11): absent means zero.
    out[s] = Number.isFinite(f[i]) ? f[i]! : 0;
  });
  return out;
}

/** Online CPUs: the `cpuN` lines of /proc/stat (what load per core divides by, as Netdata's load alarms; sent as load.cores). */
export function countCpus(stat: string): number {
  let n = 0;
  for (const line of stat.split('\n')) if (/^cpu\d+\s/.test(line)) n++;
  return n;
}

/** Percent of all ticks spent in each state between two readings; null when no tick elapsed. */
export function cpuShares(prev: CpuTicks, cur: CpuTicks): Record<CpuState, number> | null {
  let total = 0;
  const delta = {} as CpuTicks;
  for (const s of CPU_STATES) {
    // A counter that went backwards (e.g. iowait, which the kernel may decrease) counts as 0.
    delta[s] = Math.max(0, cur[s] - prev[s]);
    total += delta[s];
  }
  if (total <= 0) return null;
  const out = {} as Record<CpuState, number>;
  for (const s of CPU_STATES) out[s] = (delta[s] * 100) / total;
  return out;
}

export function cpuFamily(proc: ProcFs = realProc): MetricSource {
  let prev: CpuTicks | null = null;
  return {
    name: 'cpu',
    collect(): Sample[] {
      const cur = parseCpuLine(proc.read('/proc/stat'));
      const shares = prev ? cpuShares(prev, cur) : null;
      prev = cur;
      if (!shares) return [];
      return CPU_STATES.map((s) => gauge(`cpu.${s}`, round(shares[s])));
    },
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
