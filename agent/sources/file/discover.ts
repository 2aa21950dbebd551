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

export function watchBases(patterns: readonly string[], onChange: (event: string) => void): FSWatcher {
  const bases = [...new Set(patterns.map(globBase))];
  const watcher = chokidar.watch(bases, { ignoreInitial: true, persistent: true, depth: 8, atomic: false });
  watcher.on('all', (event) => onChange(event));
  watcher.on('error', () => onChange('error'));
  return watcher;
}
