// The contract every metric family and every check implements: one `collect()` per round that
// returns the samples of that moment. The runner stamps them with one timestamp and ships them.
import { readFileSync } from 'node:fs';
import type { MetricType } from '../../shared/wire.js';

export type { MetricType };

/** One measurement of one series; the runner adds the timestamp. */
export interface Sample {
  /** dotted lower-case name, e.g. `disk.write_bytes` */
  name: string;
  /**
   * GAUGE for levels and ratios; DERIVE for kernel counters that only grow (the collector's
   * round-robin store turns them into per-second rates); COUNTER where a 32/64-bit wrap is real.
   */
  type: MetricType;
  value: number;
  /** what distinguishes series of the same name: device, interface, mount point, check */
  labels?: Record<string, string>;
}

export interface MetricSource {
  /** family or check name, used in logs and `metrics.families` */
  readonly name: string;
  /** `now` is the runner's clock in ms, for sources that turn counter deltas into ratios */
  collect(now: number): Sample[] | Promise<Sample[]>;
  /**
   * Sources that notice a change of state between rounds (a process check's death, a probe whose
   * answer changed) call `changed` with that moment's samples; the runner stamps and ships them at
   * once, out of band. Called once, when the runner starts; `close` ends the watching.
   */
  watch?(changed: (samples: Sample[]) => void): void;
  close?(): void;
}

/** Where /proc lives; tests point families at captured copies, the agent at the real one. */
export interface ProcFs {
  read(path: string): string;
}

export const realProc: ProcFs = {
  read: (path) => readFileSync(path, 'latin1'),
};

export function gauge(name: string, value: number, labels?: Record<string, string>): Sample {
  return labels ? { name, type: 'GAUGE', value, labels } : { name, type: 'GAUGE', value };
}

export function derive(name: string, value: number, labels?: Record<string, string>): Sample {
  return labels ? { name, type: 'DERIVE', value, labels } : { name, type: 'DERIVE', value };
}

/** Label values travel inside series keys `name{k=v,…}`: the characters of that syntax are replaced. */
export function labelValue(raw: string): string {
  const clean = raw.replace(/[{},=\s"\\]/g, '_');
  return clean.length > 256 ? clean.slice(0, 256) : clean;
}

/** Whitespace-separated fields of a /proc line. */
export function fields(line: string): string[] {
  return line.trim().split(/\s+/);
}

/** Linux reports CPU times in USER_HZ ticks, 100 per second on every architecture's user ABI. */
export const USER_HZ = 100;
