// Finds the files the globs name. chokidar only tells us *that* something changed near a
// watched file (its event types are unreliable across fast rotations); the periodic scan plus
// device/inode comparison decides what actually happened.
import { dirname } from 'node:path';
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
const COMPRESSED = /\.(?:gz|bz2|xz|zst|lz4|zip|Z)$/;

export async function expandGlobs(patterns: readonly string[]): Promise<string[]> {
  const found = await glob([...patterns], { absolute: true, onlyFiles: true, dot: false, followSymbolicLinks: true });
  return found.filter((p) => !COMPRESSED.test(p)).sort();
}

export function watchBases(patterns: readonly string[], onChange: () => void): FSWatcher {
  const bases = [...new Set(patterns.map(globBase))];
  const watcher = chokidar.watch(bases, { ignoreInitial: true, persistent: true, depth: 8, atomic: false });
  watcher.on('all', onChange);
  watcher.on('error', () => onChange());
  return watcher;
}
