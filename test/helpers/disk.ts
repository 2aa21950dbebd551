// Which whole disk holds a directory, so a test can write known bytes to it and find them in
// that disk's counters. Anonymous devices (tmpfs, overlay, btrfs subvolumes) have no disk.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function diskOf(dir: string): { name: string } | { why: string } {
  const dev = statSync(dir).dev;
  const major = Math.floor(dev / 256) & 0xfff;
  const minor = (dev & 0xff) | ((Math.floor(dev / 4096) & ~0xff) >>> 0);
  if (major === 0) return { why: `${dir} is on an anonymous device (tmpfs, overlay, btrfs subvolume)` };
  const sys = `/sys/dev/block/${major}:${minor}`;
  if (!existsSync(sys)) return { why: `${sys} does not exist` };
  const real = realpathSync(sys);
  return { name: existsSync(join(sys, 'partition')) ? basename(dirname(real)) : basename(real) };
}

/** The first of `dirs` on a real disk, or the reasons none is. */
export function findDisk(dirs: string[]): { dir: string; name: string } | { why: string } {
  const why: string[] = [];
  for (const dir of dirs) {
    const d = diskOf(dir);
    if ('name' in d) return { dir, name: d.name };
    why.push(d.why);
  }
  return { why: why.join('; ') };
}
