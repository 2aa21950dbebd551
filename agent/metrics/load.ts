// Load averages straight from /proc/loadavg, and the online CPUs they compare with (load.cores,
// the cpuN lines of /proc/stat): load per core is what the default rule alerts on.
import { countCpus } from './cpu.js';
import { fields, gauge, realProc, type MetricSource, type ProcFs, type Sample } from './types.js';

export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
  /** runnable scheduling entities (threads) / all of them, the 4th field */
  runnable: number;
  threads: number;
}

export function parseLoadavg(text: string): LoadAvg {
  const f = fields(text);
  const [runnable, threads] = (f[3] ?? '').split('/').map(Number);
  const out = { load1: Number(f[0]), load5: Number(f[1]), load15: Number(f[2]), runnable: runnable ?? NaN, threads: threads ?? NaN };
  if (![out.load1, out.load5, out.load15].every(Number.isFinite)) throw new Error(`unexpected /proc/loadavg: '${text.trim()}'`);
  return out;
}

export function loadFamily(proc: ProcFs = realProc): MetricSource {
  return {
    name: 'load',
    collect(): Sample[] {
      const l = parseLoadavg(proc.read('/proc/loadavg'));
      const out = [gauge('load.1', l.load1), gauge('load.5', l.load5), gauge('load.15', l.load15)];
      let cores = 0;
      try {
        cores = countCpus(proc.read('/proc/stat'));
      } catch {
        // no /proc/stat (a captured copy without it): no core count, load still goes
      }
      if (cores > 0) out.push(gauge('load.cores', cores));
      return out;
    },
  };
}
