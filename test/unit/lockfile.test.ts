import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// `npm ci` refuses a lock file that does not name every optional dependency of every locked
// package, even one built for another platform. When such a package cannot be fetched from the
// registry at install time (chdb's macOS and arm64 libraries, here), `npm install` silently
// leaves it out of the lock, and CI then fails before a single test runs. This keeps that from
// landing again: each entry below must be in the lock, skipped on this platform by its os/cpu.
type LockEntry = { version?: string; optionalDependencies?: Record<string, string>; os?: string[]; cpu?: string[] };

describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync(new URL('../../package-lock.json', import.meta.url), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };

  it('names every optional dependency of every locked package (npm ci checks this)', () => {
    const missing: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        // npm resolves from the nearest node_modules upward: nested first, then the root.
        const nested = `${path}/node_modules/${name}`;
        if (!lock.packages[nested] && !lock.packages[`node_modules/${name}`]) missing.push(`${name} (wanted by ${path || 'the root'})`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('marks platform packages with the os and cpu they are for, so other platforms skip them', () => {
    const platformOnly = Object.entries(lock.packages).filter(([path]) => /\/@chdb\/lib-/.test(path));
    expect(platformOnly.length).toBeGreaterThan(0);
    for (const [path, entry] of platformOnly) {
      expect(entry.os, path).toBeDefined();
      expect(entry.cpu, path).toBeDefined();
    }
  });
});
