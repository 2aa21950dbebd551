// Space and inodes of each mounted filesystem, from /proc/self/mountinfo and statfs(2), with
// df's definitions: used = blocks − bfree, free = bavail (what an unprivileged user may still
// write), used % = used / (used + bavail) — the reserved blocks are neither.
import { promises as fsp } from 'node:fs';
import { gauge, labelValue, realProc, type MetricSource, type ProcFs, type Sample } from './types.js';

export interface Mount {
  /** major:minor of the device: bind mounts of one filesystem share it */
  dev: string;
  /** the path inside the filesystem that is mounted here ('/' unless a bind or subvolume) */
  root: string;
  mountpoint: string;
  fstype: string;
  source: string;
}

/** Kernel file systems with no storage of their own, or whose "space" is RAM or a read-only image. */
export const PSEUDO_FS = new Set([
  'autofs', 'binfmt_misc', 'bpf', 'cgroup', 'cgroup2', 'configfs', 'debugfs', 'devpts', 'devtmpfs', 'efivarfs',
  'fusectl', 'hugetlbfs', 'mqueue', 'nsfs', 'proc', 'pstore', 'ramfs', 'rpc_pipefs', 'securityfs', 'selinuxfs',
  'squashfs', 'sysfs', 'tmpfs', 'tracefs', 'iso9660', 'fuse.gvfsd-fuse', 'fuse.portal', 'fuse.lxcfs',
]);

/** mountinfo escapes space, tab, newline and backslash as octal (\040 …). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountinfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 3) continue;
    out.push({ dev: f[2]!, root: unescapeOctal(f[3]!), mountpoint: unescapeOctal(f[4]!), fstype: f[sep + 1]!, source: unescapeOctal(f[sep + 2]!) });
  }
  return out;
}

/**
 * The filesystems worth reporting: pseudo ones skipped, and each device once — bind mounts
 * (a container's /etc/hosts) repeat a filesystem that is already counted. A mount of the
 * filesystem's root is preferred to a bind of a subdirectory.
 */
export function realMounts(mounts: Mount[]): Mount[] {
  const byDev = new Map<string, Mount>();
  for (const m of mounts) {
    if (PSEUDO_FS.has(m.fstype)) continue;
    const seen = byDev.get(m.dev);
    if (!seen || (seen.root !== '/' && m.root === '/')) byDev.set(m.dev, m);
  }
  return [...byDev.values()];
}

export interface Space {
  total_bytes: number;
  used_bytes: number;
  free_bytes: number;
  used_pct: number;
  inodes_used_pct: number | null;
}

export interface StatFs {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

export function spaceFigures(s: StatFs): Space | null {
  if (s.blocks <= 0) return null;
  const used = s.blocks - s.bfree;
  const usable = used + s.bavail;
  return {
    total_bytes: s.blocks * s.bsize,
    used_bytes: used * s.bsize,
    free_bytes: s.bavail * s.bsize,
    used_pct: usable > 0 ? (used * 100) / usable : 0,
    // Some filesystems (btrfs, vfat) have no inode table and report 0 files.
    inodes_used_pct: s.files > 0 ? ((s.files - s.ffree) * 100) / s.files : null,
  };
}

/** A hung network filesystem must not hold a round forever: give statfs this long. */
const STATFS_TIMEOUT_MS = 2_000;

function statfsWithin(path: string, ms: number): Promise<StatFs | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  const stat = fsp.statfs(path).then(
    (s) => s as StatFs,
    () => null,
  );
  return Promise.race([stat, timeout]).finally(() => clearTimeout(timer));
}

export function diskSpaceFamily(proc: ProcFs = realProc): MetricSource {
  return {
    name: 'disk-space',
    async collect(): Promise<Sample[]> {
      const mounts = realMounts(parseMountinfo(proc.read('/proc/self/mountinfo')));
      const stats = await Promise.all(mounts.map((m) => statfsWithin(m.mountpoint, STATFS_TIMEOUT_MS)));
      const out: Sample[] = [];
      mounts.forEach((m, i) => {
        const s = stats[i];
        const f = s ? spaceFigures(s) : null;
        if (!f) return;
        const labels = { mount: labelValue(m.mountpoint) };
        out.push(gauge('df.used_pct', round(f.used_pct), labels));
        out.push(gauge('df.used_bytes', f.used_bytes, labels));
        out.push(gauge('df.free_bytes', f.free_bytes, labels));
        out.push(gauge('df.total_bytes', f.total_bytes, labels));
        if (f.inodes_used_pct !== null) out.push(gauge('df.inodes_used_pct', round(f.inodes_used_pct), labels));
      });
      return out;
    },
  };
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
