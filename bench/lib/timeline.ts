// A per-100-ms timeline of one logs-bench run (RINGTAIL_BENCH_TIMELINE=DIR), to see where an
// end-to-end run is idle: the CPU each side used in the slice (the agent; the collector's event
// loop, its writer thread and the rest), how much the agent has read (rchar: the input, and little else),
// what its spool holds, how many lines are stored, the WAL's size, and the load. Everything is read
// from outside (/proc, file sizes, one indexed max() on a read-only connection), so the processes
// run exactly as in a timed run. Written as TSV, one row per slice, with a per-thread CPU table.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';


/** per thread (`tid:name`): [ns on a CPU, ns runnable but waiting for one] (schedstat) */
function threadTimes(pid: number): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
      out.set(`${tid}:${comm}`, [run!, wait!]);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** bytes the process has read so far (rchar: the agent reads its input with pread, which moves no fd offset) */
function readBytes(pid: number): number {
  try {
    return Number(/rchar:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? -1);
  } catch {
    return -1;
  }
}

function dirBytes(dir: string): number {
  try {
    return readdirSync(dir).reduce((n, f) => {
      try {
        return n + statSync(join(dir, f)).size;
      } catch {
        return n;
      }
    }, 0);
  } catch {
    return 0;
  }
}

function size(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export interface TimelineOpts {
  out: string;
  agentPid: number;
  collectorPid: number;
  spoolDir: string;
  wal: string;
  stored: () => number;
}

type Times = Map<string, [number, number]>;

function delta(now: Times, prev: Times): Times {
  const d: Times = new Map();
  for (const [k, [r, w]] of now) {
    const p = prev.get(k) ?? [0, 0];
    d.set(k, [r - p[0], w - p[1]]);
  }
  return d;
}

/**
 * Starts sampling every 100 ms; the returned function stops it and writes the TSV. Per slice and
 * thread: `run` ms on a CPU and `rq` ms runnable but waiting for one (the machine's load); the
 * rest of the slice the thread was blocked (idle, or waiting on I/O): that part is the pipeline's.
 */
export function startTimeline(o: TimelineOpts): () => void {
  const t0 = performance.now();
  const samples: Array<{ t: number; a: Times; c: Times; read: number; spool: number; stored: number; wal: number; load: number }> = [];
  let prevA: Times = new Map();
  let prevC: Times = new Map();
  const sample = () => {
    const a = threadTimes(o.agentPid);
    const c = threadTimes(o.collectorPid);
    let stored = -1;
    try {
      stored = o.stored();
    } catch {
      // busy
    }
    samples.push({ t: performance.now() - t0, a: delta(a, prevA), c: delta(c, prevC), read: readBytes(o.agentPid), spool: dirBytes(o.spoolDir), stored, wal: size(o.wal), load: loadavg()[0]! });
    prevA = a;
    prevC = c;
  };
  sample();
  const timer = setInterval(sample, 100);
  return () => {
    clearInterval(timer);
    sample();
    const body = samples.slice(1);
    const totals = new Map<string, number>();
    for (const s of body) for (const [k, [r]] of s.c) totals.set(k, (totals.get(k) ?? 0) + r);
    const isMain = (k: string, pid: number) => k.startsWith(`${pid}:`);
    // the writer thread: the collector's busiest thread other than the main one
    let writer = '';
    for (const [k, v] of totals) if (!isMain(k, o.collectorPid) && (writer === '' || v > totals.get(writer)!)) writer = k;
    const ms = (ns: number) => (ns / 1e6).toFixed(0);
    const rows = ['t_ms\tslice_ms\tagent_run\tagent_rq\tagent_all_run\tmain_run\tmain_rq\twriter_run\twriter_rq\tcoll_rest_run\tread_mb\tspool_mb\tstored\twal_mb\tload1'];
    let prevT = samples[0]!.t;
    for (const s of body) {
      let agentAll = 0;
      let rest = 0;
      for (const [, [r]] of s.a) agentAll += r;
      for (const [k, [r]] of s.c) if (!isMain(k, o.collectorPid) && k !== writer) rest += r;
      const am = [...s.a].find(([k]) => isMain(k, o.agentPid))?.[1] ?? [0, 0];
      const cm = [...s.c].find(([k]) => isMain(k, o.collectorPid))?.[1] ?? [0, 0];
      const w = s.c.get(writer) ?? [0, 0];
      rows.push([s.t.toFixed(0), (s.t - prevT).toFixed(0), ms(am[0]), ms(am[1]), ms(agentAll), ms(cm[0]), ms(cm[1]), ms(w[0]), ms(w[1]), ms(rest), (s.read / 1e6).toFixed(1), (s.spool / 1e6).toFixed(1), s.stored, (s.wal / 1e6).toFixed(1), s.load.toFixed(2)].join('\t'));
      prevT = s.t;
    }
    const wall = body.at(-1)!.t - samples[0]!.t;
    const sum = (pick: (s: (typeof body)[number]) => [number, number]): [number, number] => body.reduce<[number, number]>((acc, s) => [acc[0] + pick(s)[0], acc[1] + pick(s)[1]], [0, 0]);
    const summary = (name: string, [run, rq]: [number, number]) => `# ${name}: run ${ms(run)} ms, runnable waiting ${ms(rq)} ms, blocked ${ms(wall * 1e6 - run - rq)} ms of ${wall.toFixed(0)} ms`;
    rows.push(
      summary('agent main', sum((s) => [...s.a].find(([k]) => isMain(k, o.agentPid))?.[1] ?? [0, 0])),
      summary('collector main', sum((s) => [...s.c].find(([k]) => isMain(k, o.collectorPid))?.[1] ?? [0, 0])),
      summary('collector writer', sum((s) => s.c.get(writer) ?? [0, 0])),
    );
    const threads = [...totals].sort((x, y) => y[1] - x[1]).map(([k, v]) => `# collector ${k}\t${ms(v)} ms`);
    writeFileSync(o.out, [...rows, `# writer thread: ${writer}`, ...threads].join('\n') + '\n');
  };
}
