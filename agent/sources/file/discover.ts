// Finds the files the globs name. chokidar only tells us *that* something changed near a
// watched file (its event types are unreliable across fast rotations); the scan then decides
// what actually happened by device, inode and first bytes.
import { readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import chokidar, { type FSWatcher } from 'chokidar';
import { glob } from 'tinyglobby';

/** The fixed directory part of a glob, which chokidar can watch. */
export function globBase(pattern: string): string {
  const parts = pattern.split('/');
  const idx = parts.findIndex((p) => /[*?[\]{}!]/.test(p));
  if (idx === -1) return dirname(pattern);
  const base = parts.slice(0, idx).join('/');
  return base === '' ? '/' : base;
}

/** Rotated copies that must never be read as logs. */
export const COMPRESSED = /\.(?:gz|bz2|xz|zst|lz4|lzma|zip|Z|br|7z)$/;

export async function expandGlobs(patterns: readonly string[]): Promise<string[]> {
  const found = await glob([...patterns], { absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: true });
  return found.filter((p) => !COMPRESSED.test(p)).sort();
}

/**
 * Where a rotated copy of `path` may be: files in the same directory whose name starts with
 * its name (app.log.1, app.log-20260101), compressed ones excepted.
 */
export function rotatedSiblings(path: string): string[] {
  const dir = dirname(path);
  const name = basename(path);
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.filter((e) => e !== name && e.startsWith(name) && !COMPRESSED.test(e)).map((e) => join(dir, e));
}

/**
 * How many directory levels below its base a glob can reach: none for a pattern in one
 * directory (`/var/log/app.log`, `/var/log/ *.log`), two for `/srv/ * /logs/ *.log` (spaces added
 * here), all (capped) with `**`. Watching deeper would turn every write in unrelated
 * subdirectories (a database, the agent's own spool) into events.
 */
export function globDepth(pattern: string): number {
  const base = globBase(pattern);
  const rest = pattern.slice(base === '/' ? 1 : base.length + 1).split('/');
  if (rest.includes('**')) return 8;
  return Math.max(0, rest.length - 1);
}

export function watchBases(patterns: readonly string[], onChange: (event: string) => void): FSWatcher[] {
  const depths = new Map<string, number>();
  for (const p of patterns) depths.set(globBase(p), Math.max(depths.get(globBase(p)) ?? 0, globDepth(p)));
  return [...depths].map(([base, depth]) => {
    const watcher = chokidar.watch(base, { ignoreInitial: true, persistent: true, depth, atomic: false });
    watcher.on('all', (event) => onChange(event));
    watcher.on('error', () => onChange('error'));
    return watcher;
  });
}
