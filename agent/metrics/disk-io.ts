// Block-device traffic from /proc/diskstats. Byte and operation counters travel raw as DERIVE
// (the store turns them into per-second rates); busy % is the share of wall time the device had
// I/O in flight (io_ticks), a ratio of two deltas, so it is computed here and sent as GAUGE.
import { readdirSync } from 'node:fs';
import { derive, fields, gauge, labelValue, realProc, type MetricSource, type ProcFs, type Sample } from './types.js';

export interface DiskStats {
  major: number;
  minor: number;
  name: string;
  reads: number;
  /** 512-byte units whatever the device's sector size */
  sectors_read: number;
  writes: number;
  sectors_written: number;
  /** ms during which the device had I/O in flight */
  io_ticks: number;
}

export function parseDiskstats(text: string): DiskStats[] {
  const out: DiskStats[] = [];
  for (const line of text.split('\n')) {
    const f = fields(line);
    if (f.length < 14) continue;
    const n = f.map(Number);
    out.push({ major: n[0]!, minor: n[1]!, name: f[2]!, reads: n[3]!, sectors_read: n[5]!, writes: n[7]!, sectors_written: n[9]!, io_ticks: n[12]! });
  }
  return out;
}

/** Devices that are never real disks: loop images, RAM disks, floppies, optical drives. */
const NOT_A_DISK = /^(loop|ram|zram|fd|sr)\d+$/;

/** Whole disks are the entries of /sys/block (partitions are not); null when /sys is not there. */
export function wholeDisks(): Set<string> | null {
  try {
    return new Set(readdirSync('/sys/block').map((n) => n.replace(/!/g, '/')));
  } catch {
    return null;
  }
}

export function selectDisks(stats: DiskStats[], whole: Set<string> | null): DiskStats[] {
  return stats.filter(
    (d) => !NOT_A_DISK.test(d.name) && (whole === null || whole.has(d.name)) && (d.reads > 0 || d.writes > 0 || d.io_ticks > 0),
  );
}

export function diskIoFamily(proc: ProcFs = realProc, listWhole: () => Set<string> | null = wholeDisks): MetricSource {
  let prev = new Map<string, { io_ticks: number; at: number }>();
  return {
    name: 'disk-io',
    collect(now): Sample[] {
      const disks = selectDisks(parseDiskstats(proc.read('/proc/diskstats')), listWhole());
      const next = new Map<string, { io_ticks: number; at: number }>();
      const out: Sample[] = [];
      for (const d of disks) {
        const labels = { device: labelValue(d.name) };
        out.push(derive('disk.read_bytes', d.sectors_read * 512, labels));
        out.push(derive('disk.write_bytes', d.sectors_written * 512, labels));
        out.push(derive('disk.read_ops', d.reads, labels));
        out.push(derive('disk.write_ops', d.writes, labels));
        const p = prev.get(d.name);
        if (p && now > p.at && d.io_ticks >= p.io_ticks) {
          out.push(gauge('disk.busy_pct', Math.min(100, Math.round(((d.io_ticks - p.io_ticks) * 100_000) / (now - p.at)) / 1000), labels));
        }
        next.set(d.name, { io_ticks: d.io_ticks, at: now });
      }
      prev = next;
      return out;
    },
  };
}
