// Known traffic must show up in the counters: N MiB written with O_DIRECT to a file on a real
// disk appear in that disk's write bytes, N MiB sent over a 127.0.0.1 TCP socket appear in
// `lo`'s receive and transmit bytes. The rate is the counter delta over the elapsed time, as
// the collector's DERIVE series computes it.
import { execFileSync } from 'node:child_process';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diskIoFamily } from '../../agent/metrics/disk-io.js';
import { networkFamily } from '../../agent/metrics/network.js';
import type { Sample } from '../../agent/metrics/types.js';
import { hasTool } from '../helpers/tools.js';
import { tempDir } from '../helpers/proc.js';
import { findDisk } from '../helpers/disk.js';

const MiB = 1024 * 1024;

function find(samples: Sample[], name: string, key: string, label: string): number | undefined {
  return samples.find((s) => s.name === name && s.labels?.[key] === label)?.value;
}

const disk = findDisk([tmpdir(), process.cwd()]);
if ('why' in disk) console.warn(`skipping the disk traffic test: ${disk.why}`);

describe.skipIf(!hasTool('dd', 'coreutils'))('disk I/O: known writes', () => {
  it.skipIf('why' in disk)(`32 MiB written with O_DIRECT appear in the disk's write bytes (${'name' in disk ? disk.name : 'no disk'})`, async () => {
    const { dir: where, name: device } = disk as { dir: string; name: string };
    const dir = tempDir('ringtail-dio-');
    try {
      // tempDir is under tmpdir(); when the disk was found under cwd, write there instead.
      const target = where === tmpdir() ? join(dir.path, 'blob') : join(where, `.ringtail-dio-${process.pid}`);
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
