// The agent's host figures against the system's own tools read at the same moment: free, df,
// /proc/loadavg and ps. The machine is shared and busy, so each tool's reading is bracketed by
// two agent readings and must fall inside them, widened by the stated tolerance.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { diskSpaceFamily } from '../../agent/metrics/disk-space.js';
import { loadFamily } from '../../agent/metrics/load.js';
import { memoryFamily } from '../../agent/metrics/memory.js';
import { processesFamily } from '../../agent/metrics/processes.js';
import { realProc, type MetricSource, type Sample } from '../../agent/metrics/types.js';
import { hasTool } from '../helpers/tools.js';

async function read(fam: MetricSource): Promise<Sample[]> {
  return fam.collect(Date.now());
}
function value(samples: Sample[], name: string, labels?: Record<string, string>): number {
  const s = samples.find((x) => x.name === name && JSON.stringify(x.labels ?? {}) === JSON.stringify(labels ?? {}));
  if (!s) throw new Error(`no sample ${name} ${JSON.stringify(labels ?? {})}`);
  return s.value;
}
function sh(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
}
/** `got` lies between the two agent readings, each side widened by `tol`. */
function expectBracketed(got: number, a: number, b: number, tol: number, what: string): void {
  const lo = Math.min(a, b) - tol;
  const hi = Math.max(a, b) + tol;
  expect(got, `${what}: ${got} outside [${lo}, ${hi}]`).toBeGreaterThanOrEqual(lo);
  expect(got, `${what}: ${got} outside [${lo}, ${hi}]`).toBeLessThanOrEqual(hi);
}

describe.skipIf(!hasTool('free', 'procps'))('memory against free -b -w', () => {
  it('total exactly; used, available, cache and swap used within 1% of MemTotal', async () => {
    const fam = memoryFamily();
    const before = await read(fam);
    const out = sh('free', ['-b', '-w']);
    const after = await read(fam);
    const mem = out.split('\n').find((l) => l.startsWith('Mem:'))!.trim().split(/\s+/).slice(1).map(Number);
    const swap = out.split('\n').find((l) => l.startsWith('Swap:'))!.trim().split(/\s+/).slice(1).map(Number);
    // procps-ng 4 -w columns: total used free shared buffers cache available
    const [total, used, , , buffers, cache, available] = mem as [number, number, number, number, number, number, number];
    const tol = total * 0.01;
    expect(value(before, 'memory.total')).toBe(total);
    expectBracketed(used, value(before, 'memory.used'), value(after, 'memory.used'), tol, 'used');
    expectBracketed(available, value(before, 'memory.available'), value(after, 'memory.available'), tol, 'available');
    expectBracketed(cache, value(before, 'memory.cached'), value(after, 'memory.cached'), tol, 'cache');
    expectBracketed(buffers, value(before, 'memory.buffers'), value(after, 'memory.buffers'), tol, 'buffers');
    expectBracketed(swap[1]!, value(before, 'memory.swap_used'), value(after, 'memory.swap_used'), tol, 'swap used');
  });
});

describe.skipIf(!hasTool('df', 'coreutils'))('disk space against df', () => {
  interface DfRow {
    target: string;
    size: number;
    used: number;
    avail: number;
    pcent: number;
  }
  function df(): DfRow[] {
    return sh('df', ['-B1', '--output=target,size,used,avail,pcent'])
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => {
        const f = l.trim().split(/\s+/);
        const n = f.slice(-4);
        return { target: f.slice(0, -4).join(' '), size: Number(n[0]), used: Number(n[1]), avail: Number(n[2]), pcent: Number(n[3]!.replace('%', '')) };
      });
  }

  it('every filesystem the agent reports matches df: bytes within 0.5% of its size, used % within 1 point', async () => {
    const fam = diskSpaceFamily();
    const before = await read(fam);
    const rows = df();
    const inodes = sh('df', ['--output=target,ipcent']).trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    const after = await read(fam);
    const mounts = [...new Set(before.map((s) => s.labels!.mount!))];
    expect(mounts).toContain('/');
    for (const mount of mounts) {
      const row = rows.find((r) => r.target === mount);
      expect(row, `df has no row for ${mount}`).toBeDefined();
      const tol = row!.size * 0.005;
      const m = { mount };
      expect(value(before, 'df.total_bytes', m)).toBe(row!.size);
      expectBracketed(row!.used, value(before, 'df.used_bytes', m), value(after, 'df.used_bytes', m), tol, `${mount} used`);
      expectBracketed(row!.avail, value(before, 'df.free_bytes', m), value(after, 'df.free_bytes', m), tol, `${mount} avail`);
      // df rounds its percentage up to a whole point.
      expectBracketed(row!.pcent, value(before, 'df.used_pct', m), value(after, 'df.used_pct', m), 1, `${mount} use%`);
      const ip = inodes.find((f) => f[0] === mount)?.[1];
      if (ip && ip !== '-') expectBracketed(Number(ip.replace('%', '')), value(before, 'df.inodes_used_pct', m), value(after, 'df.inodes_used_pct', m), 1, `${mount} iuse%`);
    }
  });

  it('reports every block-device filesystem df shows (pseudo filesystems aside)', async () => {
    const shown = sh('df', ['-B1', '-x', 'tmpfs', '-x', 'devtmpfs', '-x', 'squashfs', '-x', 'overlay', '--output=source,target'])
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[0]!.startsWith('/dev/'))
      .map((f) => f.slice(1).join(' '));
    const mounts = new Set((await read(diskSpaceFamily())).map((s) => s.labels!.mount));
    for (const target of shown) expect(mounts.has(target), `${target} missing`).toBe(true);
  });
});

describe('load against /proc/loadavg', () => {
  it('equals the file read just before and after (the kernel updates it every 5 s)', async () => {
    for (let attempt = 0; attempt < 5; attempt++) {
      const a = realProc.read('/proc/loadavg').split(' ');
      const s = await read(loadFamily());
      const b = realProc.read('/proc/loadavg').split(' ');
      if (a.slice(0, 3).join() !== b.slice(0, 3).join()) continue; // an update fell in between
      expect([value(s, 'load.1'), value(s, 'load.5'), value(s, 'load.15')]).toEqual(a.slice(0, 3).map(Number));
      return;
    }
    throw new Error('/proc/loadavg changed during every attempt');
  });
});

describe.skipIf(!hasTool('ps', 'procps'))('processes against ps', () => {
  it('total processes within 10 of ps -e (other tests start and end processes meanwhile)', async () => {
    const fam = processesFamily();
    const before = await read(fam);
    const ps = sh('ps', ['-e', '--no-headers', '-o', 'pid']).trim().split('\n').length;
    const after = await read(fam);
    // ps counts itself, which neither agent reading can see.
    expectBracketed(ps - 1, value(before, 'processes.total'), value(after, 'processes.total'), 10, 'processes');
  });

  it('open descriptors, TCP states and uptime are present and sane', async () => {
    const s = await read(processesFamily());
    expect(value(s, 'fds.open')).toBeGreaterThan(0);
    expect(value(s, 'fds.open')).toBeLessThanOrEqual(value(s, 'fds.max'));
    const uptime = Number(realProc.read('/proc/uptime').split(' ')[0]);
    expect(Math.abs(value(s, 'system.uptime') - uptime)).toBeLessThan(2);
    expect(s.filter((x) => x.name === 'tcp.connections')).toHaveLength(12);
  });
});

describe.skipIf(!hasTool('ss', 'iproute2'))('TCP states against ss', () => {
  it('listening sockets within 3 of ss -ltn (IPv4 and IPv6)', async () => {
    const fam = processesFamily();
    const before = await read(fam);
    const ss = sh('ss', ['-ltnH']).trim().split('\n').filter(Boolean).length;
    const after = await read(fam);
    const l = (x: Sample[]) => value(x, 'tcp.connections', { state: 'listen' });
    expectBracketed(ss, l(before), l(after), 3, 'listen');
  });
});
