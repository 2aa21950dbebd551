// Known traffic must show up in the counters: N MiB written with O_DIRECT to a file on a real
// disk appear in that disk's write bytes, N MiB sent over a 127.0.0.1 TCP socket appear in
// `lo`'s receive and transmit bytes. The rate is the counter delta over the elapsed time, as
// the collector's DERIVE series computes it.
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskIoFamily } from '../../agent/metrics/disk-io.js';
import { networkFamily } from '../../agent/metrics/network.js';
import type { Sample } from '../../agent/metrics/types.js';
import { hasTool } from '../helpers/tools.js';
import { tempDir } from '../helpers/proc.js';

const MiB = 1024 * 1024;

function find(samples: Sample[], name: string, key: string, label: string): number | undefined {
  return samples.find((s) => s.name === name && s.labels?.[key] === label)?.value;
}

/** The whole disk under a directory, or why there is none (tmpfs, overlay …). */
function diskOf(dir: string): { name: string } | { why: string } {
  const dev = statSync(dir).dev;
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | ((Math.floor(dev / 4096) & ~0xff) >>> 0);
  if (major === 0) return { why: `${dir} is on an anonymous device (tmpfs, overlay, btrfs subvolume)` };
  const sys = `/sys/dev/block/${major}:${minor}`;
  if (!existsSync(sys)) return { why: `${sys} does not exist` };
  const real = realpathSync(sys);
  return { name: existsSync(join(sys, 'partition')) ? basename(dirname(real)) : basename(real) };
}

const candidates = [tmpdir(), process.cwd()];
const disk = candidates.map((d) => ({ dir: d, disk: diskOf(d) })).find((c) => 'name' in c.disk);

describe.skipIf(!hasTool('dd', 'coreutils'))('disk I/O: known writes', () => {
  it.skipIf(!disk)(`32 MiB written with O_DIRECT appear in the disk's write bytes (${disk ? (disk.disk as { name: string }).name : candidates.map((d) => diskOf(d)).map((x) => ('why' in x ? x.why : '')).join('; ')})`, async () => {
    const device = (disk!.disk as { name: string }).name;
    const dir = tempDir('ringtail-dio-');
    try {
      // tempDir is under tmpdir(); when the disk was found under cwd, write there instead.
      const target = disk!.dir === tmpdir() ? join(dir.path, 'blob') : join(process.cwd(), `.ringtail-dio-${process.pid}`);
      const fam = diskIoFamily();
      const t0 = Date.now();
      const before = (await fam.collect(t0)) as Sample[];
      execFileSync('dd', ['if=/dev/zero', `of=${target}`, 'bs=1M', 'count=32', 'oflag=direct', 'conv=fsync', 'status=none']);
      const t1 = Date.now() + 1;
      const after = (await fam.collect(t1)) as Sample[];
      execFileSync('rm', ['-f', target]);
      const w0 = find(before, 'disk.write_bytes', 'device', device);
      const w1 = find(after, 'disk.write_bytes', 'device', device);
      expect(w0, `no disk.write_bytes for ${device}`).toBeDefined();
      const rate = (w1! - w0!) / ((t1 - t0) / 1000);
      expect(rate * ((t1 - t0) / 1000)).toBeGreaterThanOrEqual(32 * MiB);
      // Other work on a shared machine writes too, but not gigabytes in this second.
      expect(w1! - w0!).toBeLessThan(32 * MiB + 2048 * MiB);
      const ops = find(after, 'disk.write_ops', 'device', device)! - find(before, 'disk.write_ops', 'device', device)!;
      expect(ops).toBeGreaterThanOrEqual(1);
      const busy = find(after, 'disk.busy_pct', 'device', device);
      expect(busy).toBeGreaterThan(0);
      expect(busy).toBeLessThanOrEqual(100);
    } finally {
      dir.cleanup();
    }
  });
});

describe('network: known loopback traffic', () => {
  it('16 MiB sent over 127.0.0.1 appear in lo rx and tx bytes', async () => {
    const N = 16 * MiB;
    let received = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    const server = createServer((sock) => {
      sock.on('data', (d) => {
        received += d.length;
        if (received >= N) done();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const fam = networkFamily();
    const before = (await fam.collect(Date.now())) as Sample[];
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const chunk = Buffer.alloc(MiB, 7);
    for (let i = 0; i < 16; i++) client.write(chunk);
    await all;
    const after = (await fam.collect(Date.now())) as Sample[];
    client.destroy();
    await new Promise((r) => server.close(r));
    for (const name of ['net.rx_bytes', 'net.tx_bytes']) {
      const delta = find(after, name, 'interface', 'lo')! - find(before, name, 'interface', 'lo')!;
      expect(delta, name).toBeGreaterThanOrEqual(N);
      expect(delta, name).toBeLessThan(N + 512 * MiB);
    }
    const packets = find(after, 'net.rx_packets', 'interface', 'lo')! - find(before, 'net.rx_packets', 'interface', 'lo')!;
    expect(packets).toBeGreaterThan(0);
    expect(after.filter((s) => s.labels?.interface === 'lo').every((s) => s.type === 'DERIVE')).toBe(true);
  });
});
