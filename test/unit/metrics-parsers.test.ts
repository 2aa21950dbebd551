// /proc parsers, table-driven over captured text (kernel 5.x/6.x layouts, and older ones where
// columns were missing), and the families' arithmetic over two captured readings.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { countCpus, cpuFamily, cpuShares, parseCpuLine } from '../../agent/metrics/cpu.js';
import { diskIoFamily, parseDiskstats, selectDisks } from '../../agent/metrics/disk-io.js';
import { parseMountinfo, realMounts, spaceFigures } from '../../agent/metrics/disk-space.js';
import { loadFamily, parseLoadavg } from '../../agent/metrics/load.js';
import { memoryFigures, parseMeminfo } from '../../agent/metrics/memory.js';
import { parseNetDev } from '../../agent/metrics/network.js';
import { parseFileNr, parseProcStatCounts, parseUptime } from '../../agent/metrics/processes.js';
import { countTcpStates, countTcpStatesInFiles, TCP_STATES } from '../../agent/metrics/tcp-states.js';
import { selfMetricName, selfSamples } from '../../agent/metrics/self.js';
import type { ProcFs } from '../../agent/metrics/types.js';
import { parsePidStat, parseVmRss } from '../../agent/checks/process.js';
import { parseAddress } from '../../agent/checks/tcp.js';

const STAT_6X = `cpu  4705 356 584 3699176 2356 0 47 12 0 0
cpu0 2352 178 292 1849588 1178 0 23 6 0 0
intr 1462898 17 0 0
ctxt 2936271
btime 1763905160
processes 13801
procs_running 3
procs_blocked 1
softirq 527446 0 131220 8 45780 0 0 26 195032 0 155380
`;
const STAT_OLD = `cpu  100 0 50 1000 10 1 2
procs_running 1
procs_blocked 0
processes 77
`;

function fakeProc(files: Record<string, string>): ProcFs & { files: Record<string, string> } {
  return {
    files,
    read(path) {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
      return text;
    },
  };
}

describe('cpu', () => {
  it.each([
    ['kernel 6.x, 10 columns', STAT_6X, { user: 4705, nice: 356, system: 584, idle: 3699176, iowait: 2356, irq: 0, softirq: 47, steal: 12 }],
    ['kernel 2.6.10, no steal column', STAT_OLD, { user: 100, nice: 0, system: 50, idle: 1000, iowait: 10, irq: 1, softirq: 2, steal: 0 }],
  ])('parses the aggregate line (%s)', (_, text, want) => {
    expect(parseCpuLine(text)).toEqual(want);
  });

  it('rejects a /proc/stat without a cpu line', () => {
    expect(() => parseCpuLine('intr 1\nctxt 2\n')).toThrow(/no aggregate cpu line/);
  });

  it.each([
    ['all idle', [0, 0, 0, 100, 0, 0, 0, 0], { idle: 100, user: 0 }],
    ['a quarter each', [25, 0, 25, 25, 25, 0, 0, 0], { user: 25, system: 25, idle: 25, iowait: 25 }],
    ['steal counted', [10, 0, 10, 60, 0, 0, 0, 20], { user: 10, steal: 20, idle: 60 }],
  ])('shares over a delta: %s', (_, d, want) => {
    const prev = parseCpuLine('cpu  1000 10 500 9000 100 5 5 0\n');
    const cur = { ...prev };
    (['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const).forEach((s, i) => (cur[s] += d[i]!));
    const shares = cpuShares(prev, cur)!;
    for (const [k, v] of Object.entries(want)) expect(shares[k as keyof typeof shares]).toBeCloseTo(v, 6);
    expect(Object.values(shares).reduce((a, b) => a + b, 0)).toBeCloseTo(100, 6);
  });

  it('no tick elapsed gives no shares, and a decreasing counter counts as zero', () => {
    const a = parseCpuLine(STAT_6X);
    expect(cpuShares(a, a)).toBeNull();
    const b = { ...a, idle: a.idle + 100, iowait: a.iowait - 5 };
    expect(cpuShares(a, b)!.iowait).toBe(0);
    expect(cpuShares(a, b)!.idle).toBe(100);
  });

  it('the family sends nothing on the first round, then GAUGE percentages', () => {
    const proc = fakeProc({ '/proc/stat': 'cpu  100 0 100 800 0 0 0 0\n' });
    const fam = cpuFamily(proc);
    expect(fam.collect(0)).toEqual([]);
    proc.files['/proc/stat'] = 'cpu  150 0 100 850 0 0 0 0\n';
    const out = fam.collect(10_000) as Array<{ name: string; type: string; value: number }>;
    expect(out.find((s) => s.name === 'cpu.user')).toEqual({ name: 'cpu.user', type: 'GAUGE', value: 50 });
    expect(out.find((s) => s.name === 'cpu.idle')!.value).toBe(50);
    expect(out.every((s) => s.type === 'GAUGE')).toBe(true);
  });
});

describe('load.cores', () => {
  it('counts the cpuN lines of /proc/stat and sends them with the load averages (load per core divides by it)', () => {
    const fam = loadFamily(fakeProc({ '/proc/loadavg': '0.50 0.40 0.30 1/200 1234\n', '/proc/stat': STAT_6X }));
    expect(fam.collect(0)).toContainEqual({ name: 'load.cores', type: 'GAUGE', value: 1 });
    expect(countCpus('cpu  1 2 3 4\ncpu0 1 2 3 4\ncpu1 1 2 3 4\ncpu3 1 2 3 4\nintr 5\n')).toBe(3);
    // without /proc/stat the load averages still go
    expect((loadFamily(fakeProc({ '/proc/loadavg': '0.50 0.40 0.30 1/200 1234\n' })).collect(0) as Array<{ name: string }>).map((s) => s.name)).toEqual(['load.1', 'load.5', 'load.15']);
  });
});

describe('load', () => {
  it.each([
    ['0.75 0.88 0.47 1/93 13783\n', { load1: 0.75, load5: 0.88, load15: 0.47, runnable: 1, threads: 93 }],
    ['12.00 8.50 4.25 17/2048 99\n', { load1: 12, load5: 8.5, load15: 4.25, runnable: 17, threads: 2048 }],
  ])('parses %j', (text, want) => {
    expect(parseLoadavg(text)).toEqual(want);
  });
  it('rejects garbage', () => {
    expect(() => parseLoadavg('nonsense')).toThrow(/unexpected \/proc\/loadavg/);
  });
});

describe('memory', () => {
  const MEMINFO = `MemTotal:       24684096 kB
MemFree:        23737092 kB
MemAvailable:   24308632 kB
Buffers:           10500 kB
Cached:           780000 kB
SwapCached:            0 kB
SReclaimable:      52452 kB
SwapTotal:       2097148 kB
SwapFree:        1048572 kB
HugePages_Total:       0
`;
  it('reads kB as KiB and counts without unit as is', () => {
    const m = parseMeminfo(MEMINFO);
    expect(m.get('MemTotal')).toBe(24684096 * 1024);
    expect(m.get('HugePages_Total')).toBe(0);
  });
  it.each([
    [
      'modern kernel (MemAvailable)',
      MEMINFO,
      { total: 24684096 * 1024, available: 24308632 * 1024, used: (24684096 - 24308632) * 1024, cached: (780000 + 52452) * 1024, swap_used: 1048576 * 1024 },
    ],
    [
      'kernel before 3.14 (no MemAvailable)',
      'MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 300 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n',
      { total: 1000 * 1024, available: 450 * 1024, used: 550 * 1024, cached: 300 * 1024, swap_used: 0 },
    ],
  ])('free(1) figures: %s', (_, text, want) => {
    expect(memoryFigures(parseMeminfo(text))).toMatchObject(want);
  });
  it('no MemTotal is an error', () => {
    expect(() => memoryFigures(parseMeminfo('MemFree: 1 kB\n'))).toThrow(/MemTotal/);
  });
});

describe('disk space', () => {
  const MOUNTINFO = `22 27 0:21 / /proc rw,relatime - proc proc rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334524k
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684096k
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 27 254:0 /var/lib/docker/containers/abc/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw
51 27 8:17 / /mnt/my\\040disk rw,relatime shared:5 master:1 - xfs /dev/sdb1 rw
52 27 0:50 / /srv/nfs rw - nfs4 server:/export rw
53 27 7:1 / /snap/core/1 ro - squashfs /dev/loop1 ro
`;
  it('parses mountinfo, optional fields and octal escapes included', () => {
    const m = parseMountinfo(MOUNTINFO);
    expect(m).toHaveLength(9);
    expect(m[6]).toEqual({ dev: '8:17', root: '/', mountpoint: '/mnt/my disk', fstype: 'xfs', source: '/dev/sdb1' });
  });
  it('keeps real filesystems once each: pseudo filesystems and bind mounts skipped', () => {
    expect(realMounts(parseMountinfo(MOUNTINFO)).map((m) => m.mountpoint)).toEqual(['/', '/mnt/my disk', '/srv/nfs']);
  });
  it('prefers the mount of the filesystem root to an earlier bind mount', () => {
    const text = `50 27 254:0 /data/x /etc/hosts rw - ext4 /dev/vda rw\n27 1 254:0 / / rw - ext4 /dev/vda rw\n`;
    expect(realMounts(parseMountinfo(text)).map((m) => m.mountpoint)).toEqual(['/']);
  });
  it.each([
    ['df example', { bsize: 4096, blocks: 66053021, bfree: 60154010, bavail: 20698709, files: 16384000, ffree: 16000000 }, { used_bytes: 5899011 * 4096, free_bytes: 20698709 * 4096, used_pct: (5899011 * 100) / (5899011 + 20698709), inodes_used_pct: (384000 * 100) / 16384000 }],
    ['no inode table (btrfs)', { bsize: 4096, blocks: 100, bfree: 50, bavail: 50, files: 0, ffree: 0 }, { used_pct: 50, inodes_used_pct: null }],
    ['full for users, root reserve left', { bsize: 1024, blocks: 100, bfree: 5, bavail: 0, files: 10, ffree: 10 }, { used_pct: 100, free_bytes: 0, inodes_used_pct: 0 }],
  ])('figures like df: %s', (_, st, want) => {
    const f = spaceFigures(st)!;
    for (const [k, v] of Object.entries(want)) {
      if (v === null) expect(f[k as keyof typeof f]).toBeNull();
      else expect(f[k as keyof typeof f]).toBeCloseTo(v as number, 6);
    }
  });
  it('a filesystem with no blocks is skipped', () => {
    expect(spaceFigures({ bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0 })).toBeNull();
  });
});

describe('disk I/O', () => {
  const DISKSTATS_A = `   7       0 loop0 12 0 24 0 0 0 0 0 0 4 0 0 0 0 0 0 0
 254       0 vda 38542 9575 2665898 13423 25706 25619 2638704 9389 0 9244 23756 9298 28 341072 773 3838 169
 254       1 vda1 38000 9575 2660000 13000 25000 25619 2630000 9000 0 9000 23000
 253       0 zram0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
   8       0 sdb 0 0 0 0 0 0 0 0 0 0 0
`;
  it('parses 11-, 15- and 17-column lines', () => {
    const d = parseDiskstats(DISKSTATS_A);
    expect(d).toHaveLength(5);
    expect(d[1]).toEqual({ major: 254, minor: 0, name: 'vda', reads: 38542, sectors_read: 2665898, writes: 25706, sectors_written: 2638704, io_ticks: 9244 });
    expect(d[2]!.io_ticks).toBe(9000);
  });
  it.each([
    ['with /sys/block: whole disks only, loop/zram and idle ones skipped', new Set(['loop0', 'vda', 'zram0', 'sdb']), ['vda']],
    ['without /sys: partitions included', null, ['vda', 'vda1']],
  ])('%s', (_, whole, want) => {
    expect(selectDisks(parseDiskstats(DISKSTATS_A), whole).map((d) => d.name)).toEqual(want);
  });
  it('sends raw byte and op counters as DERIVE and busy % from io_ticks over wall time', () => {
    const proc = fakeProc({ '/proc/diskstats': DISKSTATS_A });
    const fam = diskIoFamily(proc, () => new Set(['vda']));
    const first = fam.collect(1_000_000) as Array<{ name: string; type: string; value: number }>;
    expect(first.find((s) => s.name === 'disk.write_bytes')).toEqual({ name: 'disk.write_bytes', type: 'DERIVE', value: 2638704 * 512, labels: { device: 'vda' } });
    expect(first.some((s) => s.name === 'disk.busy_pct')).toBe(false);
    // 2500 ms of 10 000 busy → 25 %
    proc.files['/proc/diskstats'] = DISKSTATS_A.replace(' 9244 ', ' 11744 ');
    const second = fam.collect(1_010_000) as Array<{ name: string; value: number }>;
    expect(second.find((s) => s.name === 'disk.busy_pct')!.value).toBe(25);
  });
});

describe('network', () => {
  it.each([
    [
      'modern layout',
      `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 38050597    3874    0    0    0     0          0         0 38050597    3874    0    0    0     0       0          0
  eth0: 339239933   11867    2    3    0     0          0         0   861622    8154    4    5    0     0       0          0
`,
      [
        { iface: 'lo', rx_bytes: 38050597, rx_packets: 3874, rx_errors: 0, rx_drops: 0, tx_bytes: 38050597, tx_packets: 3874, tx_errors: 0, tx_drops: 0 },
        { iface: 'eth0', rx_bytes: 339239933, rx_packets: 11867, rx_errors: 2, rx_drops: 3, tx_bytes: 861622, tx_packets: 8154, tx_errors: 4, tx_drops: 5 },
      ],
    ],
    [
      'old kernels glue the first counter to the colon',
      'Inter-|\n face |\n  eth1:4294967295 10 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n',
      [{ iface: 'eth1', rx_bytes: 4294967295, rx_packets: 10, rx_errors: 0, rx_drops: 0, tx_bytes: 7, tx_packets: 1, tx_errors: 0, tx_drops: 0 }],
    ],
  ])('parses /proc/net/dev: %s', (_, text, want) => {
    expect(parseNetDev(text)).toEqual(want);
  });
});

describe('processes', () => {
  it.each([
    [STAT_6X, { running: 3, blocked: 1, forks: 13801 }],
    [STAT_OLD, { running: 1, blocked: 0, forks: 77 }],
  ])('procs_running/blocked and forks', (text, want) => {
    expect(parseProcStatCounts(text)).toEqual(want);
  });
  it.each([
    ['556\t0\t2466183\n', { open: 556, max: 2466183 }],
    ['1024\t24\t8192\n', { open: 1000, max: 8192 }],
  ])('file-nr %j', (text, want) => {
    expect(parseFileNr(text)).toEqual(want);
  });
  it('counts TCP connections by state over tcp and tcp6, every state present', () => {
    const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 475 1 0 100 0 0 10 0
   1: 0100007F:9C40 0100007F:07E8 01 00000000:00000000 00:00000000 00000000     0        0 900 1 0 20 4 30 10 -1
   2: 0100007F:07E8 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 901 1 0 20 4 30 10 -1
   3: 0100007F:9C42 0100007F:07E8 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0
`;
    const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 22 1 0 100 0 0 10 0
   1: 00000000000000000000000001000000:0016 00000000000000000000000001000000:D1A2 08 00000000:00000000 00:00000000 00000000     0        0 23 1 0 100 0 0 10 0
`;
    const n = countTcpStates([tcp, tcp6]);
    expect(n).toMatchObject({ listen: 2, established: 2, time_wait: 1, close_wait: 1, syn_sent: 0 });
    expect(Object.keys(n)).toHaveLength(12);
  });
  it('counts TCP states of thousands of sockets like splitting every line into fields would', () => {
    // The reference: the plain reading of the format (what the scanner replaced).
    const reference = (texts: string[]): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const s of Object.values(TCP_STATES)) out[s] = 0;
      for (const text of texts)
        for (const line of text.split('\n').slice(1)) {
          const st = line.trim().split(/\s+/)[3];
          const name = st ? TCP_STATES[st.toUpperCase()] : undefined;
          if (name) out[name]! += 1;
        }
      return out;
    };
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const codes = ['01', '06', '0A', '0a', '0C', '0D', '00', '1', '010', 'zz', '08'];
    const lines = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
    for (let k = 0; k < 5000; k++) {
      const gap = [' ', '  ', '\t'][rnd(3)]!;
      lines.push(`${' '.repeat(rnd(4))}${k}: 0100007F:${(40000 + k).toString(16).toUpperCase()}${gap}0100007F:07E8${gap}${codes[rnd(codes.length)]}${rnd(9) === 0 ? '' : ' 00000000:00000000 00:00000000 00000000     0        0 0 3 0'}${rnd(5) === 0 ? '\r' : ''}`);
    }
    lines.push('', '   short: line', `   9: ${'x'.repeat(70_000)} 0100007F:1 0100007F:2 01`, '   1: 0100007F:9C40 0100007F:07E8 01');
    const big = lines.join('\n');
    const n = countTcpStates([big, '', 'header only']);
    expect(n).toEqual(reference([big, '', 'header only']));
    expect(n.time_wait).toBeGreaterThan(300);
    // The same text as a file (~500 KB), read through the 64 KB buffer: lines cut at its edges, a
    // line longer than it, a last line without a newline; a missing file counts nothing.
    const dir = mkdtempSync(join(tmpdir(), 'ringtail-tcp-'));
    try {
      writeFileSync(join(dir, 'tcp'), big);
      writeFileSync(join(dir, 'tcp6'), `${big}\n`);
      expect(countTcpStatesInFiles([join(dir, 'tcp'), join(dir, 'missing'), join(dir, 'tcp6')])).toEqual(reference([big, `${big}\n`]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('uptime', () => {
    expect(parseUptime('35467.71 70000.05\n')).toBe(35467.71);
    expect(() => parseUptime('')).toThrow(/uptime/);
  });
});

describe('process checks: /proc/PID files', () => {
  it.each([
    ['plain', '4242 (nginx) S 1 4242 4242 0 -1 4194560 1200 0 0 0 150 50 0 0 20 0 1 0 9876 10000000 500 18446744073709551615', { pid: 4242, comm: 'nginx', state: 'S', ticks: 200, start: 9876 }],
    ['name with spaces and parentheses', '77 (my (odd) app) R 1 77 77 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 555 0 0 0', { pid: 77, comm: 'my (odd) app', state: 'R', ticks: 10, start: 555 }],
    ['zombie', '99 (sleep) Z 98 99 98 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1000 0 0 0', { pid: 99, comm: 'sleep', state: 'Z', ticks: 0, start: 1000 }],
  ])('stat: %s', (_, text, want) => {
    expect(parsePidStat(text)).toEqual(want);
  });
  it('stat without a name is refused', () => {
    expect(parsePidStat('garbage')).toBeNull();
  });
  it.each([
    ['Name:\tnode\nVmPeak:\t  100 kB\nVmRSS:\t   51200 kB\nThreads:\t7\n', 51200 * 1024],
    ['Name:\tkthreadd\nThreads:\t1\n', 0],
  ])('VmRSS', (text, want) => {
    expect(parseVmRss(text)).toBe(want);
  });
});

describe('check addresses', () => {
  it.each([
    ['127.0.0.1:5432', { host: '127.0.0.1', port: 5432 }],
    ['db.internal:6379', { host: 'db.internal', port: 6379 }],
    ['[::1]:8080', { host: '::1', port: 8080 }],
    ['localhost', null],
    ['host:0', null],
    ['host:70000', null],
    ['::1:80', null],
  ])('%s', (text, want) => {
    expect(parseAddress(text)).toEqual(want);
  });
});

describe('self-metrics', () => {
  it.each([
    ['lines.shipped', 'agent.lines.shipped'],
    ['ship.failed', 'agent.ship.failed'],
    ['Spool-Bytes', 'agent.spool_bytes'],
    ['metrics.last_ack_age_ms', 'agent.metrics.last_ack_age_ms'],
  ])('%s is named %s', (event, name) => {
    expect(selfMetricName(event)).toBe(name);
  });
  it("the restructured agent's stats(): levels as GAUGE, counts as DERIVE, unknown ages left out", () => {
    const s = selfSamples({ lines_read: 10, lines_shipped: 9, lines_filtered: 1, spool_bytes: 512, spool_max_bytes: 4096, spool_records: 2, lag_ms: 30, last_ack_age_ms: -1 });
    expect(Object.fromEntries(s.map((x) => [x.name, x.type]))).toEqual({
      'agent.lines_read': 'DERIVE',
      'agent.lines_shipped': 'DERIVE',
      'agent.lines_filtered': 'DERIVE',
      'agent.spool_bytes': 'GAUGE',
      'agent.spool_max_bytes': 'GAUGE',
      'agent.spool_records': 'GAUGE',
      'agent.lag_ms': 'GAUGE',
    });
  });
  it('counts travel as DERIVE, levels (by unit suffix) as GAUGE', () => {
    const s = selfSamples({ 'lines.shipped': 120, 'spool.bytes': 4096, 'ship.lag_ms': 250, 'metrics.queued': 7, 'lines.filtered': 3 });
    const byName = Object.fromEntries(s.map((x) => [x.name, x.type]));
    expect(byName).toEqual({
      'agent.lines.shipped': 'DERIVE',
      'agent.spool.bytes': 'GAUGE',
      'agent.ship.lag_ms': 'GAUGE',
      'agent.metrics.queued': 'GAUGE',
      'agent.lines.filtered': 'DERIVE',
    });
  });
});
