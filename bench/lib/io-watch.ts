// The machine's disk beside a bench's latencies: every `everyMs` the kernel's dirty and
// writeback page-cache bytes (/proc/meminfo), the time tasks stalled on I/O (/proc/pressure/io,
// `some` and `full`, µs in the slice) and which of the collector's threads sleep in the kernel
// uninterruptibly (state D: waiting for a disk read, an fsync or dirty-page throttling). A
// latency bunch that coincides with writeback and with the store's threads in D is the disk's;
// one with the threads runnable is the pipeline's. Read from outside, so the collector runs as
// in a timed run.
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

export interface IoRow {
  /** ms since the watch started */
  at: number;
  dirtyKb: number;
  writebackKb: number;
  /** µs some / all non-idle tasks stalled on I/O during the slice */
  someUs: number;
  fullUs: number;
  /** the collector's threads in state D at the sample (name:tid, main for the event loop; comma-separated) */
  blocked: string;
}

function meminfo(): { dirty: number; writeback: number } {
  const m = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(m)?.[1] ?? NaN);
  return { dirty: kb('Dirty'), writeback: kb('Writeback') };
}

function pressure(): { some: number; full: number } {
  try {
    const p = readFileSync('/proc/pressure/io', 'utf8');
    const total = (k: string) => Number(new RegExp(`^${k} .*total=(\\d+)`, 'm').exec(p)?.[1] ?? NaN);
    return { some: total('some'), full: total('full') };
  } catch {
    return { some: NaN, full: NaN };
  }
}

function blockedThreads(pid: number): string {
  const out: string[] = [];
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return '';
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      // Node leaves its worker threads' names as the process's: the tid tells them apart
      if (stat[close + 2] === 'D') out.push(`${stat.slice(stat.indexOf('(') + 1, close)}:${tid === String(pid) ? 'main' : tid}`);
    } catch {
      // the thread ended
    }
  }
  return out.join(',');
}

export class IoWatch {
  readonly rows: IoRow[] = [];
  private readonly began = performance.now();
  private last = pressure();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    const m = meminfo();
    const p = pressure();
    this.rows.push({ at: performance.now() - this.began, dirtyKb: m.dirty, writebackKb: m.writeback, someUs: p.some - this.last.some, fullUs: p.full - this.last.full, blocked: blockedThreads(this.pid) });
    this.last = p;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** ms since the watch started, for lining a phase up with it */
  now(): number {
    return performance.now() - this.began;
  }

  /** rows from `fromMs` (watch time) on, `at` made relative to it (seconds) */
  tsv(fromMs: number): string {
    return ['at_s\tdirty_kb\twriteback_kb\tio_some_us\tio_full_us\tblocked_threads', ...this.rows.filter((r) => r.at >= fromMs - 5_000).map((r) => `${((r.at - fromMs) / 1000).toFixed(2)}\t${r.dirtyKb}\t${r.writebackKb}\t${r.someUs}\t${r.fullUs}\t${r.blocked}`)].join('\n') + '\n';
  }

  /** the phase's disk in one line: dirty/writeback max, I/O stall time, threads seen blocked */
  summary(fromMs: number, toMs: number): string {
    const rs = this.rows.filter((r) => r.at >= fromMs && r.at <= toMs);
    if (rs.length === 0) return 'no samples';
    const max = (f: (r: IoRow) => number) => Math.max(...rs.map(f));
    const sum = (f: (r: IoRow) => number) => rs.reduce((n, r) => n + f(r), 0);
    const blocked = new Map<string, number>();
    for (const r of rs) for (const t of r.blocked.split(',').filter(Boolean)) blocked.set(t, (blocked.get(t) ?? 0) + 1);
    return `dirty max ${(max((r) => r.dirtyKb) / 1024).toFixed(0)} MiB, writeback max ${(max((r) => r.writebackKb) / 1024).toFixed(0)} MiB; io pressure some ${(sum((r) => r.someUs) / 1e6).toFixed(2)} s / full ${(sum((r) => r.fullUs) / 1e6).toFixed(2)} s over ${((toMs - fromMs) / 1000).toFixed(0)} s; collector threads in D (samples of ${rs.length}): ${[...blocked].map(([t, n]) => `${t} ${n}`).join(', ') || 'none'}`;
  }
}

/** Dirty page cache now (MiB). */
export function dirtyMiB(): number {
  const m = meminfo();
  return (m.dirty + m.writeback) / 1024;
}

/**
 * Writes the file system's dirty pages out (`sync -f` on `path`) and says how many and how
 * long: bench hygiene between a setup that wrote GBs and a measured phase, so that the phase does
 * not pay the setup's writeback.
 */
export function syncSetup(path: string): string {
  const before = dirtyMiB();
  const s = performance.now();
  spawnSync('sync', ['-f', path], { stdio: 'ignore' });
  return `synced ${before.toFixed(0)} MiB dirty in ${((performance.now() - s) / 1000).toFixed(1)} s before the phase`;
}
