// Seeded random rrdtool scenarios for the conformance test: a layout (create argv), an update
// stream (update argvs) and fetch windows, exercising every DS type, counter wraps, negative
// DERIVE steps, gaps beyond the heartbeat, min/max violations, U, updates on and between step
// boundaries, xff at its edges, and several RRAs and CFs.

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Scenario {
  seed: number;
  create: string[];
  updates: string[][];
  fetches: string[][];
  updateCount: number;
}

const TYPES = ['GAUGE', 'COUNTER', 'DERIVE', 'ABSOLUTE', 'DCOUNTER', 'DDERIVE'] as const;
const CFS = ['AVERAGE', 'MIN', 'MAX', 'LAST'] as const;

export function scenario(seed: number, file: string, updates = 120): Scenario {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const step = pick([1, 5, 10, 10, 60, 300]);
  const nds = int(1, 4);
  const ds: Array<{ type: (typeof TYPES)[number]; hb: number; min: string; max: string }> = [];
  const create = ['create', file, '--start', String(1_000_000_000 + int(0, 3 * step)), '--step', String(step)];
  for (let i = 0; i < nds; i++) {
    const type = i < TYPES.length && seed % 3 === 0 ? TYPES[(seed + i) % TYPES.length]! : pick(TYPES);
    const hb = step * int(1, 4) + (r() < 0.3 ? int(0, step) : 0);
    const bounded = r() < 0.35;
    const min = bounded ? String(pick([0, -5, 1])) : 'U';
    const max = bounded ? String(pick([50, 100, 1000])) : 'U';
    ds.push({ type, hb, min, max });
    create.push(`DS:d${i}:${type}:${hb}:${min}:${max}`);
  }
  const nrra = int(1, 5);
  for (let i = 0; i < nrra; i++) {
    const cf = pick(CFS);
    const pdp = pick([1, 1, 2, 3, 4, 5, 6, 12]);
    const xff = pick(['0', '0.25', '0.5', '0.5', '0.75', '0.99', '0.49', '0.3333']);
    create.push(`RRA:${cf}:${xff}:${pdp}:${int(5, 80)}`);
  }
  let t = Number(create[3]);
  const counters = ds.map(() => BigInt(int(0, 1000)));
  const floats = ds.map(() => r() * 100);
  const args: string[] = [];
  for (let u = 0; u < updates; u++) {
    const kind = r();
    if (kind < 0.08) t += ds[0]!.hb + int(1, 3 * step); // gap beyond the heartbeat
    else if (kind < 0.35) t = (Math.floor(t / step) + int(1, 2)) * step; // on a step boundary
    else if (kind < 0.45) t += int(1, Math.max(1, Math.floor(step / 3))); // inside a step
    else t += int(1, 2 * step);
    const vals = ds.map((d, i) => {
      if (r() < 0.08) return 'U';
      switch (d.type) {
        case 'GAUGE':
          return r() < 0.5 ? String(int(-20, 1200)) : (r() * 1200 - 20).toFixed(int(0, 6));
        case 'COUNTER': {
          const w = r();
          if (w < 0.05) counters[i] = 4294967295n - BigInt(int(0, 50)); // about to wrap at 32 bits
          else if (w < 0.08) counters[i] = 18446744073709551615n - BigInt(int(0, 50)); // 64 bits
          else if (w < 0.12) counters[i] = BigInt(int(0, 100)); // wrapped or reset
          else counters[i] = counters[i]! + BigInt(int(0, 5000));
          if (counters[i]! > 18446744073709551615n) counters[i] = counters[i]! - 18446744073709551616n;
          return counters[i]!.toString();
        }
        case 'DERIVE': {
          counters[i] = counters[i]! + BigInt(int(-3000, 3000));
          return counters[i]!.toString();
        }
        case 'ABSOLUTE':
          return String(int(0, 5000));
        case 'DCOUNTER':
        case 'DDERIVE':
          floats[i] = floats[i]! + (r() - (d.type === 'DCOUNTER' ? 0.1 : 0.5)) * 500;
          return floats[i]!.toFixed(3);
      }
    });
    args.push(`${t}:${vals.join(':')}`);
  }
  const updatesArgv: string[][] = [];
  for (let i = 0; i < args.length; ) {
    const n = int(1, 25);
    updatesArgv.push(['update', file, ...args.slice(i, i + n)]);
    i += n;
  }
  const first = Number(create[3]);
  const fetches: string[][] = [];
  for (const cf of CFS) {
    fetches.push(['fetch', file, cf, '--start', String(first - step), '--end', String(t)]);
    const a = int(first, t);
    const b = int(a + 1, t + 5 * step);
    fetches.push(['fetch', file, cf, '-s', String(a), '-e', String(b), '-r', String(step * pick([1, 2, 3, 6, 12]))]);
  }
  return { seed, create, updates: updatesArgv, fetches, updateCount: args.length };
}

/** Parsed fetch output: header and rows (NaN for unknown, whatever its sign). */
export function parseFetch(text: string): { header: string; rows: Array<{ time: number; values: number[] }> } {
  const lines = text.split('\n');
  const rows = lines
    .slice(2)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [time, rest = ''] = l.split(':');
      return { time: Number(time), values: rest.trim().split(/\s+/).map((v) => (/nan/i.test(v) ? NaN : Number(v))) };
    });
  return { header: lines[0] ?? '', rows };
}

export function sameValue(a: number, b: number, rel = 1e-9): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}
